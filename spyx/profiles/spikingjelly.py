r"""The ``spikingjelly`` profile: what SpikingJelly 2.0 computes for a file written by
``spikingjelly.activation_based.nir_exchange.export_to_nir`` (and what its ``import_from_nir`` builds).

Native step (``_ops/lif/cpu.py``, ``_ops/if_/cpu.py``, ``functional/neuron.py`` ``cuba_lif_step``), in
float32, in the order ``neuronal_charge`` -> ``neuronal_fire`` -> ``neuronal_reset`` of one step:

1. charge: LIFNode ``h = v + (x - (v - v_reset)) / tau`` (``decay_input=True``, the default) or
   ``h = v - (v - v_reset) / tau + x`` (``decay_input=False``); IFNode ``h = v + x``; CUBALIFNode
   ``c = c_decay c + x``, ``h = v_decay v + c``;
2. fire: ``s = heaviside(h - v_threshold)``, i.e. ``h >= v_threshold`` (the surrogate only shapes the
   gradient; ``detach_reset`` too);
3. reset: hard ``v = s v_reset + (1 - s) h``; soft (``v_reset=None``) ``v = h - s v_threshold``.

The membrane starts at ``v_reset`` (hard reset) or 0 (soft), the synaptic current at 0. The spike is tested
on this step's charged membrane: a spike appears in the step whose input caused it
(``dynamic_before_transition``).

File convention (``nir_exchange/to_nir.py``, ``dt`` = ``export_to_nir``'s argument, default 1e-4):
LIFNode / ParametricLIFNode -> LIF(tau = tau dt, r = 1 if decay_input else tau, v_leak = v_reset, v_reset,
v_threshold); IFNode -> IF(r = 1/dt, v_reset, v_threshold); CUBALIFNode -> CubaLIF(tau_syn = dt/(1-c_decay),
tau_mem = dt/(1-v_decay), r = tau_mem/dt, w_in = tau_syn/dt, v_leak = 0). Soft reset is refused
("NIR does not distinguish soft reset"), so every file means a hard reset. Nothing is written into the
graph's metadata; neither is dt. Each of these is NIR's ODE integrated by forward Euler at that dt, which is
how ``import_from_nir(graph, dt)`` reads it back.

Lowering at ``dt`` (the option, else recovered from the file, else 1e-4): LIF ``beta = float32(1 - dt/tau)``,
``g_x = float32(r dt/tau)``, ``bias = v_leak dt/tau``; IF ``beta = 1``, ``g_x = r dt`` (= 1);
CubaLIF ``alpha = float32(1 - dt/tau_syn)``, ``w_syn = w_in dt/tau_syn`` (= 1),
``beta = float32(1 - dt/tau_mem)``, ``g_syn = r dt/tau_mem`` (= 1), ``g_x = g_prev = 0``; all with test
``ge``, binary, value reset to ``v_reset`` in the same step, ``v0 = v_reset``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.profiles.base import Profile
from spyx.profiles.common import F32, a64, make_neuron, node_param, population_shape, snap1
from spyx.profiles.encoding import P, nir_cubalif, nir_if, nir_lif, plain_options, require, uniform
from spyx.profiles.evidence import Detection, Evidence, close
from spyx.profiles.snntorch import SNNTORCH_DT

__all__ = ["SpikingJellyProfile", "SPIKINGJELLY_DT", "spikingjelly_dt"]

SPIKINGJELLY_DT = 1e-4  # export_to_nir / import_from_nir default dt


def spikingjelly_dt(nodes) -> float | None:
    """The dt a SpikingJelly export was written with, from the first node that records it: IF ``r = 1/dt``,
    LIF with ``decay_input=False`` (``r = tau/dt``, ``r != 1``), CubaLIF ``r = tau_mem/dt``. None if none
    does (LIF with ``decay_input=True`` only: ``r = 1`` and ``tau = tau_steps dt`` do not separate)."""
    for node in nodes:
        r = np.ravel(a64(getattr(node, "r", np.nan)))
        if node.kind == "IF" and np.all(r > 0):
            return float(1.0 / r[0])
        if node.kind == "LIF" and np.all(r > 1):
            return float(np.ravel(a64(node.tau))[0] / r[0])
        if node.kind == "CubaLIF" and np.all(r > 0):
            return float(np.ravel(a64(node.tau_mem))[0] / r[0])
    return None


def _leaks_to_reset(node: Node) -> bool:
    """``v_leak == v_reset`` everywhere (SpikingJelly's LIF leaks towards its reset potential)."""
    return bool(np.array_equal(*np.broadcast_arrays(a64(node.v_leak), node_param(node, "v_reset"))))


def _sign(ev: Evidence) -> str:
    """What in the file no other exporter writes ("" if nothing), first found of:

    - an IF with ``r = 1/dt != 1`` (Sinabs, Norse and Spyx 1.0 write ``r = 1``);
    - a LIF with ``v_leak == v_reset != 0``, or a CubaLIF with ``v_reset != 0`` (the others write
      ``v_reset = 0`` or none, which nir reads as 0);
    - LIFs with ``r = 1`` beside LIFs with ``r != 1`` (``decay_input`` true and false; the others write one
      rule for every LIF);
    - CubaLIFs with ``r = tau_mem/dt`` at a dt other than 1e-4 (snnTorch writes that rule, always at 1e-4;
      Rockpool writes ``w_in = 1``; ``_fits`` checks ``w_in = tau_syn/dt``).

    A LIF's ``r = tau/dt`` alone is no sign: with one tau in the file, Rockpool's ``r = tau exp(-dt'/tau)/dt'``
    fits it at some dt'."""
    ifs = [n for n in ev.neurons.values() if n.kind == "IF"]
    lifs = [n for n in ev.neurons.values() if n.kind == "LIF"]
    if ifs and all(np.all(a64(n.r) != 1) for n in ifs):
        return "IF r = 1/dt"
    if any(np.any(a64(n.v_leak) != 0) and _leaks_to_reset(n) for n in lifs):
        return "LIF v_leak == v_reset != 0"
    if any(n.kind == "CubaLIF" and np.any(node_param(n, "v_reset") != 0) for n in ev.neurons.values()):
        return "CubaLIF v_reset != 0"
    if any(np.all(a64(n.r) == 1) for n in lifs) and any(np.all(a64(n.r) != 1) for n in lifs):
        return "LIF r = 1 (decay_input) beside LIF r = tau/dt"
    dt = spikingjelly_dt(n for n in ev.neurons.values() if n.kind == "CubaLIF")
    if dt is not None and not close(dt, SNNTORCH_DT):
        return f"CubaLIF r = tau_mem/dt at dt = {dt:.6g}, not snnTorch's 1e-4"
    return ""


def _fits(ev: Evidence, dt: float) -> bool:
    """Every neuron node follows ``export_to_nir``'s convention at ``dt`` (see the module docstring)."""
    for node in ev.neurons.values():
        r = a64(node.r)
        if node.kind == "IF":
            ok = close(r, 1.0 / dt)
        elif node.kind == "LIF":
            tau = a64(node.tau)
            # LIFNode asserts tau > 1 (steps): a tau of one step is no SpikingJelly LIF (snnTorch's beta = 0)
            above_one_step = bool(np.all(tau > dt * (1 + 1e-4)))
            ok = (close(r, 1.0) or close(r, tau / dt)) and _leaks_to_reset(node) and above_one_step
        elif node.kind == "CubaLIF":
            ok = close(r, a64(node.tau_mem) / dt) and close(node.w_in, a64(node.tau_syn) / dt)
            ok = ok and bool(np.all(a64(node.v_leak) == 0))
        else:  # LI: SpikingJelly exports none
            ok = False
        if not ok:
            return False
    return True


def _one(a: np.ndarray, name: str, what: str) -> np.ndarray:
    """``a`` as one value repeated: the importer reads each parameter with ``np.unique(...).item()``, so
    values equal within rounding must be written bit-identical."""
    uniform(a, name, "SpikingJelly", what)
    return np.full(np.shape(a), np.ravel(a)[0])


@dataclass(frozen=True, kw_only=True)
class SpikingJellyProfile(Profile):
    """SpikingJelly 2.0 IFNode / LIFNode (``decay_input``) / ParametricLIFNode / CUBALIFNode, hard reset.

    Options:
        dt: the ``dt`` given to ``export_to_nir`` (None: recovered from an IF's ``r = 1/dt``, a LIF's
            ``r = tau/dt`` or a CubaLIF's ``r = tau_mem/dt``; else SpikingJelly's default 1e-4).
    """

    name = "spikingjelly"
    framework = "SpikingJelly 2.0"
    description = "SpikingJelly IF/LIF/CUBALIF nodes as exported by nir_exchange.export_to_nir (forward Euler)"
    #: charge, then fire on the charged membrane, then reset, in one step
    dynamic_before_transition = True

    dt: float | None = None

    peer = "SpikingJelly"
    rules = {"IF": "_if", "LIF": "_lif", "CubaLIF": "_cubalif"}

    @staticmethod
    def detect(ev: Evidence) -> Detection | None:
        """A sign only SpikingJelly writes (:func:`_sign`), and every neuron node in its convention at one dt
        recovered from the file. Without such a sign a SpikingJelly file has the parameters of another
        exporter's (only ``decay_input=True`` LIFs: Norse's ``r = 1``, tau < 1; only ``decay_input=False``
        LIFs and CubaLIFs at dt = 1e-4: snnTorch's), and is not claimed."""
        sign = _sign(ev)
        dt = spikingjelly_dt(ev.neurons.values())
        if not sign or dt is None or not (np.isfinite(dt) and dt > 0) or not _fits(ev, dt):
            return None
        return Detection(
            "spikingjelly",
            ("spikingjelly",),
            (
                f"{sign} and every node in export_to_nir's convention at dt = {dt:.6g} on all {ev.what}: "
                "SpikingJelly export",
            ),
        )

    def default_dt(self, graph: Graph) -> float | None:
        if self.dt is not None:
            return self.dt
        found = spikingjelly_dt(node for _, node in graph.walk())
        return SPIKINGJELLY_DT if found is None else found

    def dt_source(self) -> str:
        return (
            "recovered from the file's r (IF r = 1/dt, LIF r = tau/dt, CubaLIF r = tau_mem/dt), else "
            "SpikingJelly's default 1e-4"
            if self.dt is None
            else "the dt option"
        )

    @staticmethod
    def _base(node: Node) -> dict:
        v_reset = node_param(node, "v_reset")
        return dict(
            v_threshold=node.v_threshold,
            v_reset=v_reset,
            v0=v_reset,  # BaseNode registers v = v_reset
            spike_test="ge",
            spike_count="binary",
            reset="value",
            metadata=node.metadata,
        )

    def _lif(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        dt = self.require_dt(dt, name)
        a = dt / a64(node.tau)  # 1/tau_steps
        return make_neuron(
            population_shape(node),
            beta=(1.0 - a).astype(F32),
            g_x=snap1(a64(node.r) * a),
            bias=node_param(node, "v_leak") * a,
            **self._base(node),
        )

    def _if(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        dt = self.require_dt(dt, name)
        return make_neuron(population_shape(node), beta=1.0, g_x=snap1(a64(node.r) * dt), **self._base(node))

    def _cubalif(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        dt = self.require_dt(dt, name)
        return make_neuron(
            population_shape(node),
            synapse=True,
            alpha=(1.0 - dt / a64(node.tau_syn)).astype(F32),
            w_syn=snap1(a64(node.w_in) * dt / a64(node.tau_syn)),
            beta=(1.0 - dt / a64(node.tau_mem)).astype(F32),
            g_syn=snap1(a64(node.r) * dt / a64(node.tau_mem)),
            g_x=0.0,
            g_prev=0.0,
            bias=node_param(node, "v_leak") * dt / a64(node.tau_mem),
            **self._base(node),
        )

    def encode_neuron(self, name: str, n: Node, dt: float | None) -> tuple[Node, list[str]]:
        """SpikingJelly's ``import_from_nir(graph, dt)``: IF -> ``IFNode`` (needs ``r = 1/dt``); LIF ->
        ``LIFNode(tau = tau/dt > 1, decay_input = (r == 1), v_reset)`` (needs ``r`` = 1 or tau/dt and
        ``v_leak == v_reset``); CubaLIF -> ``CUBALIFNode(c_decay = 1 - dt/tau_syn, v_decay = 1 - dt/tau_mem)``
        (needs ``r = tau_mem/dt``, ``w_in = tau_syn/dt``, ``v_leak = 0``); one scalar tau, threshold and
        reset per layer; ``>=`` test, hard reset in the same step, membrane starting at v_reset. The
        membrane is scaled by the input gain ``k`` where the importer's is 1 (threshold and reset / k)."""
        peer = "SpikingJelly"
        dt = self.require_dt(dt, name)
        require(n.fires, name, peer, "its importer has no non-spiking neuron (LI)")
        plain_options(n, name, peer, reset="value", test="ge", count="binary")
        require(n.v_min is None, name, peer, "its neurons have no membrane clamp")
        beta, thr, vr = P(n, "beta"), P(n, "v_threshold"), P(n, "v_reset")
        require(
            bool(np.allclose(P(n, "v0"), vr, rtol=1e-6, atol=1e-12)),
            name,
            peer,
            "its neurons start at v = v_reset; the node's initial membrane differs",
        )
        if n.synapse:
            return self._encode_cubalif(name, n, dt, peer)
        g, b = P(n, "g_x"), P(n, "bias")
        require(bool(np.all(g > 0)), name, peer, "the input gain must be positive")
        if np.all(beta == 1):
            require(np.all(b == 0), name, peer, "IFNode has no leak or bias")
            thr_k, vr_k = _one(thr / g, name, "threshold / input gain"), _one(vr / g, name, "reset / input gain")
            return nir_if(np.full(n.shape, 1.0 / dt), thr_k, vr_k), [
                f"{name}: import with import_from_nir(graph, dt={dt:g})"
            ]
        require(
            bool(np.all((beta > 0) & (beta < 1))),
            name,
            peer,
            "LIFNode needs 0 < beta < 1 (tau/dt > 1), in every neuron of the layer",
        )
        a = 1.0 - beta
        decay_input = bool(np.allclose(g, a, rtol=1e-6))
        k = np.ones_like(g) if decay_input else g  # decay_input: gain 1/tau = 1 - beta, else 1
        require(
            bool(np.allclose(b, vr * a, rtol=1e-6, atol=1e-12)),
            name,
            peer,
            "LIFNode leaks towards v_reset (v_leak == v_reset); the node's bias is not v_reset (1 - beta)",
        )
        tau_steps = _one(1.0 / a, name, "tau")
        thr_k, vr_k = _one(thr / k, name, "threshold / input gain"), _one(vr / k, name, "reset / input gain")
        r = np.ones_like(tau_steps) if decay_input else tau_steps
        return nir_lif(tau_steps * dt, r, vr_k, thr_k, vr_k), [
            f"{name}: LIFNode(decay_input={decay_input}) at dt = {dt:g}"
        ]

    @staticmethod
    def _encode_cubalif(name: str, n: Node, dt: float, peer: str) -> tuple[Node, list[str]]:
        require(
            bool(np.all(P(n, "g_prev") == 0) and np.all(P(n, "g_x") == 0) and np.all(P(n, "bias") == 0)),
            name,
            peer,
            "CUBALIFNode's membrane adds this step's current only (g_prev = g_x = 0) and has no bias",
        )
        alpha, beta = P(n, "alpha"), P(n, "beta")
        require(
            bool(np.all((alpha >= 0) & (alpha < 1) & (beta >= 0) & (beta < 1))),
            name,
            peer,
            "CUBALIFNode's decays must lie in [0, 1)",
        )
        k = P(n, "w_syn") * P(n, "g_syn")
        require(bool(np.all(k > 0)), name, peer, "the synaptic gain must be positive")
        alpha, beta = _one(alpha, name, "c_decay"), _one(beta, name, "v_decay")
        thr = _one(P(n, "v_threshold") / k, name, "threshold / synaptic gain")
        vr = _one(P(n, "v_reset") / k, name, "reset / synaptic gain")
        tau_syn, tau_mem = dt / (1.0 - alpha), dt / (1.0 - beta)
        return nir_cubalif(tau_syn, tau_mem, tau_mem / dt, 0.0, thr, vr, tau_syn / dt), []
