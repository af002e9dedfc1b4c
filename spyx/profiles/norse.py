r"""The ``norse`` profile: what Norse 1.1 computes for a file written by ``norse.torch.to_nir``.

Native step (explicit Euler, ``a = float32(dt) * tau_inv`` in float32): LIFBoxCell
``v += a ((x + v_leak) - v)``; LIFCell ``i' = i + x``, ``v += a_m ((v_leak - v) + i')``, ``i = i' - a_s i'``;
LIBoxCell ``v += a ((v_leak - v) + x)``, output v; IAFCell ``v += x`` (no dt). Spikes ``H(v - v_th)``
(strict), reset ``reset_value`` (``v := v_reset``) or ``reset_subtract``. Initial membrane: ``v_leak``
(LIFBox, LIF, LIBox), ``v_reset`` (IAF).

File convention (``export_nir.py``): tau is written as ``dt / tau_inv`` = ``dt * tau_true`` (a Norse 1.1 bug:
the value is smaller than dt by tau/dt); r = 1; v_reset, dt and the reset method are not written.

Lowering: ``tau_inv = dt/tau_file`` (``tau_written_times_dt``) or ``1/tau_file``, ``a = float32(dt) tau_inv``.
LIF: ``beta = 1 - a``, ``g_x = a``, ``bias = a v_leak``, ``v0 = v_leak``; LI the same, not spiking; IF:
``beta = g_x = 1``, ``v0 = v_reset``; CubaLIF (state ``i := i'``): ``alpha = 1 - a_s``, ``w_syn = 1``,
``g_syn = a_m``, ``beta = 1 - a_m``, ``bias = a_m v_leak``, ``v0 = v_leak``. r and w_in are not used by Norse.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.traits import Continuous, Population
from spyx.profiles.base import Profile
from spyx.profiles.invert import continuous, over, p64
from spyx.profiles.common import F32, a64, make_neuron, node_param, population_shape
from spyx.profiles.encoding import P, nir_if, nir_lif, plain_options, require
from spyx.profiles.evidence import Detection, Evidence

__all__ = ["NorseProfile", "NORSE_DT"]

NORSE_DT = 1e-3  # norse.torch cells' default dt


@dataclass(frozen=True, kw_only=True)
class NorseProfile(Profile):
    """Norse 1.1 LIFBoxCell / LIFCell / LIBoxCell / IAFCell.

    Options (defaults are Norse's own):
        dt: the cells' dt (default 1e-3); the file does not store it.
        v_reset: the cells' ``v_reset`` (None: the file's value, which nir fills with 0 = Norse's default).
        reset_method: ``value`` (``reset_value``, Norse's default) or ``subtract``.
        tau_written_times_dt: the file's tau is ``dt * tau`` (Norse 1.1 ``to_nir``); None (default) decides
            per file: true when every tau is below dt, which no plausible Norse model has otherwise.
    """

    name = "norse"
    framework = "Norse 1.1"
    description = "Norse LIFBox/LIF/LIBox/IAF cells as exported by norse.torch.to_nir (explicit Euler)"
    #: ``z = H(v_decayed - v_th)`` on the membrane after this step's Euler update
    dynamic_before_transition = True

    dt: float = NORSE_DT
    v_reset: float | None = None
    reset_method: Literal["value", "subtract"] = "value"
    tau_written_times_dt: bool | None = None

    peer = "Norse"
    rules = {"IF": "_if", "LIF": "_leaky", "LI": "_leaky", "CubaLIF": "_cubalif"}
    unrecorded = {
        "reset_method": "the cells' reset (value or subtract)",
        "v_reset": "the cells' v_reset (to_nir writes none; the file's 0 is nir's filler)",
    }

    def dt_guessed(self, graph: Graph) -> bool:
        """Always: Norse's files do not store dt; 1e-3 is only the cells' default."""
        return True

    @staticmethod
    def detect(ev: Evidence) -> Detection | None:
        """What Norse 1.1's ``to_nir`` writes (asked once ``r == 1`` everywhere): ``tau = dt * tau_true``, below
        ``NORSE_DT`` = 1e-3 for every dt <= 1 ms and tau < 1 s (a hand-written ``tau = 0.02`` s is not), and
        ``w_in == 1`` on every CubaLIF (its LIFCell has no input weight)."""
        all_t = np.concatenate([np.ravel(t) for t in ev.taus.values()])
        cuba_w1 = all(np.all(a64(v.w_in) == 1) for v in ev.neurons.values() if v.kind == "CubaLIF")
        if not (np.all(all_t < NORSE_DT) and cuba_w1):
            return None
        return Detection(
            "norse",
            ("norse",),
            (
                f"r == 1 and every tau < 1e-3 (max {all_t.max():.3g}, written as dt*tau) on all {ev.what}: "
                "Norse export (norse.to_nir writes r = 1 and tau = dt*tau)",
            ),
        )

    def default_dt(self, graph: Graph) -> float | None:
        return self.dt

    def dt_source(self) -> str:
        return "Norse's default; the file does not store dt"

    def resolved(self, graph: Graph, dt: float | None) -> tuple[Profile, list[str]]:
        """``tau_written_times_dt=None``: true when every time constant of the file is below dt."""
        if self.tau_written_times_dt is not None:
            return self, []
        taus = [
            np.ravel(a64(getattr(n, k)))
            for _, n in graph.walk()
            if n.has_trait(Population) and n.trait(Continuous) is not None  # LIF, LI, CubaLIF
            for k in n.trait(Continuous).time_constants
        ]
        step = self.dt if dt is None else dt
        scaled = bool(taus) and bool(np.all(np.concatenate(taus) < step))
        why = (
            f"every tau < dt = {step:g}: read as dt*tau (norse.to_nir)"
            if scaled
            else f"tau >= dt = {step:g} somewhere: read as seconds"
        )
        return dataclasses.replace(self, tau_written_times_dt=scaled), [
            f"norse: tau_written_times_dt={str(scaled).lower()} ({why})"
        ]

    def _a_of(self, dt: float):
        scaled = bool(self.tau_written_times_dt)

        def a_of(tau):
            tau_inv = dt / a64(tau) if scaled else 1.0 / a64(tau)
            return (F32(dt) * np.asarray(tau_inv, F32)).astype(F32)

        return a_of

    def _common(self, node: Node) -> tuple[np.ndarray, dict]:
        v_reset = a64(self.v_reset) if self.v_reset is not None else node_param(node, "v_reset")
        return v_reset, dict(spike_test="gt", spike_count="binary", reset=self.reset_method, metadata=node.metadata)

    def _if(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        """IAFCell: v += x; initial state v = v_reset."""
        self.require_dt(dt, name)
        v_reset, common = self._common(node)
        return make_neuron(
            population_shape(node),
            beta=1.0,
            g_x=1.0,
            v_threshold=node.v_threshold,
            v_reset=v_reset,
            v0=v_reset,
            **common,
        )

    def _leaky(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        """LIFBoxCell (LIF) and LIBoxCell (LI, no spikes)."""
        a = self._a_of(self.require_dt(dt, name))(node.tau)
        v_reset, common = self._common(node)
        leak = node_param(node, "v_leak")
        fires = node.spiking
        return make_neuron(
            population_shape(node),
            beta=F32(1) - a,
            g_x=a,
            bias=a * leak,
            v0=leak,
            fires=fires,
            v_threshold=node.v_threshold if fires else None,
            v_reset=v_reset if fires else None,
            **common,
        )

    def _cubalif(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        a_of = self._a_of(self.require_dt(dt, name))
        v_reset, common = self._common(node)
        am, as_ = a_of(node.tau_mem), a_of(node.tau_syn)
        leak = node_param(node, "v_leak")
        return make_neuron(
            population_shape(node),
            synapse=True,
            alpha=F32(1) - as_,
            w_syn=1.0,
            g_prev=0.0,
            g_syn=am,
            g_x=0.0,
            beta=F32(1) - am,
            bias=am * leak,
            v0=leak,
            v_threshold=node.v_threshold,
            v_reset=v_reset,
            **common,
        )

    def invert_neuron(self, name: str, n: Node, dt: float | None) -> Node:
        """The inverse of :meth:`_if` / :meth:`_leaky` / :meth:`_cubalif`: the step ``a = g_x`` (CubaLIF:
        ``a_mem = g_syn``, ``a_syn = 1 - alpha``) gives ``tau = dt / a`` in seconds (``dt^2 / a`` when the
        profile reads tau as written times dt), ``v_leak = v0``; ``r`` is not read by Norse and is written 1.
        ``beta = 1 - a`` is Norse's: a trained ``beta`` or ``g_x`` alone does not pass the check."""
        step = self.require_dt(dt, name)

        def tau(a):
            return over(step * step if self.tau_written_times_dt else step, a)

        spikes = dict(v_threshold=p64(n, "v_threshold"), v_reset=p64(n, "v_reset")) if n.fires else {}
        if n.synapse:
            return continuous(
                "CubaLIF", n, tau_mem=tau(p64(n, "g_syn")), tau_syn=tau(1 - p64(n, "alpha")), r=1.0,
                v_leak=p64(n, "v0"), w_in=1.0, **spikes,
            )
        if n.fires and np.all(p64(n, "beta") == 1) and not np.any(p64(n, "bias")):
            return continuous("IF", n, r=1.0, **spikes)
        kind = "LIF" if n.fires else "LI"
        return continuous(kind, n, tau=tau(p64(n, "g_x")), r=1.0, v_leak=p64(n, "v0"), **spikes)

    def encode_neuron(self, name: str, n: Node, dt: float | None) -> tuple[Node, list[str]]:
        """Norse's ``from_nir(graph, dt=dt)``: LIF -> ``LIFBoxCell(tau_mem_inv = 1/tau, v_leak, v_th)``
        (v_reset 0, reset_value, v starts at v_leak); IF -> ``IAFCell(v_th)``; r is ignored (warned). With
        ``a = 1 - beta``: ``tau = dt/a``, the membrane scaled by ``k = g_x/a``, ``v_leak = bias/g_x``. The
        file
        writes tau in seconds, as the importer reads it (not ``to_nir``'s dt*tau)."""
        peer = "Norse"
        dt = self.require_dt(dt, name)
        require(n.fires, name, peer, "Norse's importer has no LI")
        require(
            not n.synapse,
            name,
            peer,
            "Norse imports CubaLIF as a compound module (w_in, LIBox synapse, r as a "
            "recurrent weight) that spyx does not target",
        )
        plain_options(n, name, peer, reset="value", test="gt", count="binary")
        require(
            np.all(P(n, "v_reset") == 0), name, peer, "its cells reset to v_reset = 0 (the default it builds)"
        )
        require(n.v_min is None, name, peer, "no membrane clamp")
        beta, g, b, thr = P(n, "beta"), P(n, "g_x"), P(n, "bias"), P(n, "v_threshold")
        require(bool(np.all(g > 0)), name, peer, "the input gain must be positive")
        v0 = P(n, "v0")
        if np.all(beta == 1):
            require(np.all(b == 0), name, peer, "IAFCell has no bias")
            require(not np.any(v0), name, peer, "IAFCell starts at 0")
            return nir_if(1.0, thr / g, 0.0), [f"{name}: import with norse.torch.from_nir(graph, dt={dt:g})"]
        require(bool(np.all(beta < 1)), name, peer, "mixed leaky and non-leaky neurons in one layer")
        a = 1.0 - beta
        k = g / a
        leak = b / g
        notes = []
        if not np.allclose(v0 / k, leak, rtol=1e-6, atol=1e-12):
            notes.append(
                f"{name}: Norse starts the membrane at v_leak = {np.ravel(leak)[0]:.4g}, spyx at "
                f"{np.ravel(v0 / k)[0]:.4g}: the first steps differ"
            )
        return nir_lif(dt / a, 1.0, leak, thr / k, 0.0), notes
