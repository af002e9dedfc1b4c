"""``export``: a spyx NNX model -> a graph of NIR primitives (continuous time, for a given ``dt``).

Two encodings (``docs/nn.md`` has the details and the measured agreement of ``native``):

``faithful`` (default)
    Computes exactly what the model computes when the graph is discretised with ``method="exact"`` and the
    same ``dt`` (NIR semantics of the JAX backend). Every spiking layer ``S_t = H(V_t - thr)``,
    ``V_{t+1} = beta V_t + x_t - S_t thr`` is written with a membrane that has no reset of its own::

        x -> LI(membrane) -> Threshold(thr) -> Delay(dt) -> out
                  ^                               |
                  +---------- Scale(-thr) <-------+          (+ Linear(W_rec^T) for recurrent layers)

    The LI's output after step t is ``V_{t+1}``; Threshold gives ``H(V_{t+1} - thr) = S_{t+1}``; the one-step
    Delay turns it into ``S_t``, which is both the layer's output and the subtractive reset fed back into the
    LI. LI parameters: ``tau = -dt / ln(beta)`` (so ``exp(-dt/tau) = beta``), ``r = 1 / (1 - beta)``
    (input gain ``r (1 - beta) = 1``), ``v_leak = 0``. ``beta = 1`` (IF): an ``I`` node with ``r = 1/dt``
    (gain ``r dt = 1``).
    ``beta = 0``: ``tau = dt / 1000``, whose ``exp(-1000)`` is exactly 0 in float32 and float64; a ``beta``
    of 1 among others below 1: ``tau = 2^30 dt`` (see :func:`time_constant`). CuBaLIF puts
    a second LI (the synapse, ``alpha``) in front of the membrane LI, and its reset is fed back as
    ``Scale(-beta thr)`` (it resets before the leak: ``V' = beta (V - S thr) + I'``). PSU_LIF (integrate, then
    spike in the same step, no reset) is ``LI -> Threshold``, with no Delay and no reset.

``native``
    One NIR neuron node per layer (``LIF``, ``IF``, ``CubaLIF``, ``LI``) with ``v_reset = 0``, for hardware
    toolchains and other frameworks. NIR neurons reset to a value and spike from the membrane of the same
    step, so a spiking layer's output differs from the model's: an :class:`ApproximationWarning` says so.
    PSU_LIF is ``LI -> Threshold`` here too (exact).

Spyx 1.0's own file convention (``spyx.nir.to_nir``) is a third writer of the same walk: see :mod:`spyx.nir`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from spyx.errors import ApproximationWarning, ExportError, MissingDtError, OptionError
from spyx.ir import IF as NIR_IF
from spyx.ir import LI as NIR_LI
from spyx.ir import LIF as NIR_LIF
from spyx.ir import CubaLIF, Delay, Graph, I, Linear, Scale, Threshold
from spyx.nn.alif import ALIF
from spyx.nn.cuba_lif import CuBaLIF
from spyx.nn.integrate_fire import IF
from spyx.nn.li import LI
from spyx.nn.lif import LIF
from spyx.nn.lower import threshold_array
from spyx.nn.psu_lif import PSU_LIF, AssociativeLIF
from spyx.nn.recurrent import RIF, RLIF, RCuBaLIF
from spyx.nn.walk import F32, Walk, array, layer_shape, walk
from spyx.passes.retime import DT_KEY

__all__ = ["export", "ENCODINGS", "time_constant"]

ENCODINGS = ("faithful", "native", "spyx1")


def time_constant(decay: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """``(tau, r)`` (float64) with ``exp(-dt/tau) = decay`` and input gain ``r (1 - exp(-dt/tau)) = 1``.

    ``decay = 0``: ``tau = dt / 1000`` (``exp(-1000)`` is exactly 0), ``r = 1``. ``decay = 1`` (a clipped,
    trained decay among others below 1): ``tau = 2^30 dt``, whose ``exp(-2^-30)`` rounds to exactly 1 in
    float32, with ``r = 1 / (1 - exp(-2^-30))``, so the gain is still 1. Float64 matters: the ``discretize``
    pass computes ``exp(-dt/tau)`` and ``r (1 - beta)`` in float64 and the program casts them to float32,
    which gives back the layer's float32 ``beta`` and a gain of exactly 1.
    """
    d = np.asarray(decay, np.float64)
    zero, one = d <= 0.0, d >= 1.0
    safe = np.where(zero | one, 0.5, d)
    tau = np.where(zero, dt * 1e-3, np.where(one, dt * 2.0**30, -dt / np.log(safe)))
    r = np.where(one, 1.0 / -np.expm1(-(2.0**-30)), 1.0 / (1.0 - np.where(one, 0.0, d)))
    return tau, r


class _Export:
    """Per-call state: ``dt``, the encoding, and whether a native approximation was made."""

    def __init__(self, dt: float, encoding: str):
        self.dt = dt
        self.encoding = encoding
        self.approximated: list[str] = []

    # -- membranes ------------------------------------------------------------------------------------------
    def integrator(self, w: Walk, name: str, decay: np.ndarray, *sources: str) -> str:
        """A non-resetting membrane with ``v_{t} = decay v_{t-1} + x_t`` under exact discretisation."""
        shape = decay.shape
        if np.all(decay >= 1.0):
            return w.add(name, I(r=np.full(shape, 1.0 / self.dt)), *sources)
        tau, r = time_constant(decay, self.dt)
        return w.add(name, NIR_LI(tau=tau, r=r, v_leak=np.zeros(shape, F32)), *sources)

    # -- layers ---------------------------------------------------------------------------------------------
    def spiking(self, w: Walk, name: str, layer, beta, alpha=None, reset: bool = True, delay: bool = True) -> None:
        shape = layer_shape(layer)
        w.expect(name, layer, shape)
        beta = w.decay(beta, shape)
        thr = threshold_array(w, name, layer, shifted=delay)
        if self.encoding == "native":
            self.native(w, name, layer, beta, thr, alpha, reset, delay)
            return
        entry = name
        if alpha is not None:
            entry = self.integrator(w, f"{name}_syn", w.decay(alpha, shape))
            self.integrator(w, name, beta, entry)
        else:
            self.integrator(w, name, beta)
        out = w.add(f"{name}_threshold", Threshold(threshold=thr), name)
        if delay:
            out = w.add(f"{name}_delay", Delay(delay=np.full(w.ir_shape, self.dt)), out)
        if reset:
            # CuBaLIF resets before the leak (V' = beta (V - s thr) + I'): the membrane LI sees -beta thr s
            scale = -thr if alpha is None else -(beta * thr)
            w.add(f"{name}_reset", Scale(scale=scale.astype(F32)), out)
            w.connect(f"{name}_reset", name)
        if hasattr(layer, "recurrent_w"):
            w.add(f"{name}_rec", Linear(weight=w.square_weight(array(layer.recurrent_w).T)), out)
            w.connect(f"{name}_rec", entry)
        w.prev = out

    def native(self, w: Walk, name: str, layer, beta, thr, alpha, reset: bool, delay: bool) -> None:
        shape = beta.shape
        zeros = np.zeros(shape, F32)
        if not delay:  # PSU_LIF spikes in the same step without a reset: LI -> Threshold is exact
            self.integrator(w, name, beta)
            w.prev = w.add(f"{name}_threshold", Threshold(threshold=thr), name)
            return
        if alpha is not None:
            alpha = w.decay(alpha, layer_shape(layer))
            tau_syn, w_in = time_constant(alpha, self.dt)
            tau_mem, r = time_constant(beta, self.dt)
            node = CubaLIF(
                tau_syn=tau_syn, tau_mem=tau_mem, r=r, v_leak=zeros, v_threshold=thr, v_reset=zeros, w_in=w_in
            )
        elif np.all(beta >= 1.0):
            node = NIR_IF(r=np.full(shape, 1.0 / self.dt), v_threshold=thr, v_reset=zeros)
        else:
            tau, r = time_constant(beta, self.dt)
            node = NIR_LIF(tau=tau, r=r, v_leak=zeros, v_threshold=thr, v_reset=zeros)
        w.add(name, node)
        if hasattr(layer, "recurrent_w"):
            w.add(f"{name}_rec", Linear(weight=w.square_weight(array(layer.recurrent_w).T)), name)
            w.connect(f"{name}_rec", name)
        self.approximated.append(f"{name} ({type(layer).__name__})")
        w.prev = name

    def rules(self):
        def lif(w, name, layer):
            self.spiking(w, name, layer, layer.beta)

        def if_(w, name, layer):
            self.spiking(w, name, layer, 1.0)

        def cuba(w, name, layer):
            self.spiking(w, name, layer, layer.beta, alpha=layer.alpha)

        def psu(w, name, layer):
            self.spiking(w, name, layer, layer.beta, reset=False, delay=False)

        def li(w, name, layer):
            w.expect(name, layer, layer.layer_shape)
            w.prev = self.integrator(w, name, w.decay(layer.beta, layer.layer_shape))

        def alif(w, name, layer):
            raise ExportError(
                f"layer {name} (ALIF) cannot be exported to NIR: its threshold adapts with a spike-driven "
                "state (thr + b a_t) and its reset subtracts that adapted threshold, S_t (thr + b a_t), a "
                "product of two signals that no NIR primitive computes (no NIR primitive multiplies two "
                "signals). It runs in spyx: spyx.compile(spyx.nn.lower(model, input_shape))"
            )

        return {
            LIF: lif,
            RLIF: lif,
            IF: if_,
            RIF: if_,
            CuBaLIF: cuba,
            RCuBaLIF: cuba,
            PSU_LIF: psu,
            AssociativeLIF: psu,
            LI: li,
            ALIF: alif,
        }


def export(model, input_shape, *, dt: float | None = None, encoding: str = "faithful") -> Graph:
    """A graph of NIR primitives for a spyx NNX ``model`` at time step ``dt`` (seconds), ready for
    ``spyx.save``.

    ``input_shape``: per-sample NNX input shape (channels-last for conv inputs). ``encoding``: ``"faithful"``
    (exact under ``discretize(method="exact", dt=dt)``), ``"native"`` (one NIR neuron per layer,
    approximate; warns with :class:`ApproximationWarning`) or ``"spyx1"`` (Spyx 1.0's file convention, what
    ``spyx.nir.to_nir`` writes; exact under ``profile="spyx1"``). Raises :class:`MissingDtError` without ``dt``,
    :class:`OptionError` for an unknown encoding, :class:`ExportError` for layers with no NIR form (ALIF),
    ``UnsupportedError`` for layers spyx cannot lower, ``ShapeError`` when ``input_shape`` does not fit.
    """
    if dt is None:
        raise MissingDtError("spyx.nn.export needs dt (seconds per step): NIR neurons are continuous-time")
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        raise OptionError(f"spyx.nn.export: dt must be a number of seconds, got {dt!r}") from None
    if not (math.isfinite(dt) and dt > 0):
        raise OptionError(f"spyx.nn.export: dt must be finite and > 0, got {dt!r}")
    if encoding not in ENCODINGS:
        raise OptionError(
            f"spyx.nn.export: unknown encoding {encoding!r}; choose one of {', '.join(ENCODINGS)}"
        )
    if encoding == "spyx1":
        from spyx.nn.spyx1_format import write_graph
        from spyx.nn.walk import channels_first

        return write_graph(model, channels_first(tuple(int(s) for s in input_shape)), None, dt)
    ex = _Export(dt, encoding)
    meta = {"source": "spyx.nn.export", "encoding": encoding, DT_KEY: dt}  # spyx.compile's default dt
    graph = walk(model, input_shape, ex.rules(), metadata=meta)
    if ex.approximated:
        warnings.warn(
            f"native NIR export approximates {', '.join(ex.approximated)}: NIR neurons spike from the "
            "membrane of the same step and reset to v_reset, while spyx layers spike from the previous "
            "membrane and reset by subtraction; outputs will differ (see docs/nn.md for "
            "the measured agreement). Use encoding='faithful' for an exact graph.",
            ApproximationWarning,
            stacklevel=2,
        )
    return graph
