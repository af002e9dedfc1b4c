r"""The ``spyx1`` profile: what Spyx 1.0 (flax.nnx) computes for a file written by ``spyx.nir.to_nir``.

Native step (``spyx/nn.py``): LIF ``S = H(V - thr)`` (strict) on the *previous* membrane,
``V = beta V + x - S thr``; IF the same with beta = 1; CuBaLIF ``S = H(V - thr); V -= S thr;
I = alpha I + x; V = beta V + I``; RLIF/RCuBaLIF add ``S @ W_rec`` with the same-step S; PSU_LIF
``V = beta V + x; S = H(V - thr)``, no reset; LI ``V = beta V + x``. Conv is NHWC, so Flatten is
channels-last.

File convention (``spyx/nir.py``, ``to_nir(..., dt=1)``): LIF -> LIF(tau = dt/(1-beta), r = beta,
v_leak = 0); CuBaLIF -> CubaLIF(tau_mem, tau_syn = dt/(1-alpha), r = beta); IF -> IF(r = 1); PSU_LIF ->
LI(tau, r = 1) + Threshold; RLIF/RCuBaLIF -> sub-graph ``input -> w_rec <-> lif -> output`` (which as NIR
means ``lif`` sees ``W (x + s)``; Spyx 1.0 computes ``x + W s``); Flatten(start_dim = 0) over the
channels-first shape although Spyx flattens (H, W, C).

Lowering: LIF ``beta = r``, ``g_x = 1``, subtract with ``reset_delay``; IF ``beta = 1``, the same; CubaLIF
``beta = r``, ``alpha = 1 - dt/tau_syn``, ``w_syn = g_syn = 1``, ``g_x = 0``, subtract without delay (its
decayed subtraction is the immediate reset of the previous step); all three followed by a one-step
``spyx.Shift`` (the spike of the previous membrane), test ``gt``, binary. LI ``beta = 1 - dt/tau``,
``g_x = r``,
not spiking (the file's Threshold node makes the spikes). Graph rewrites: the recurrent sub-graph's
``input -> w_rec`` edge is moved to ``input -> lif``; an Affine/Linear fed by a Flatten of a (C, H, W) signal
gets its columns reordered from (H, W, C) to (C, H, W) order (``flatten=channels_last``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.traits import Continuous, Population, Spiking
from spyx.passes.base import Pass
from spyx.profiles.base import Profile
from spyx.profiles.invert import continuous, over, p64
from spyx.profiles.common import F32, a64, make_neuron, population_shape
from spyx.profiles.evidence import RTOL, Detection, Evidence
from spyx.profiles.fixups import DropBatchAxis, Spyx1ChannelsLast, Spyx1RnnEdges

__all__ = ["Spyx1Profile"]


@dataclass(frozen=True, kw_only=True)
class Spyx1Profile(Profile):
    """Spyx 1.0 LIF / IF / CuBaLIF / RLIF / RCuBaLIF / PSU_LIF.

    Options:
        dt: the ``dt`` given to ``to_nir`` (None: recovered from ``tau (1 - r)`` of the LIF/CubaLIF nodes,
            else Spyx 1.0's default 1).
        flatten: ``channels_last`` (default: Spyx 1.0 is NHWC) or ``channels_first`` (read Flatten as NIR).
        rnn_edges: ``computed`` (default: what Spyx 1.0 computes) or ``as_written``.
        shift: delay every LIF/IF/CubaLIF output by one step (default true: Spyx 1.0 spikes from the previous
            membrane); it decides ``dynamic_before_transition`` (``not shift``).
    """

    name = "spyx1"
    framework = "Spyx 1.0"
    description = "Spyx 1.0 (flax.nnx) models as exported by spyx.nir.to_nir"

    dt: float | None = None
    flatten: Literal["channels_last", "channels_first"] = "channels_last"
    rnn_edges: Literal["computed", "as_written"] = "computed"
    shift: bool = True

    rules = {"LIF": "_lif", "IF": "_if", "CubaLIF": "_cubalif", "LI": "_li"}

    def dt_guessed(self, graph: Graph) -> bool:
        """When no LIF/CubaLIF gives ``tau (1 - r)`` but a node's step depends on dt (PSU_LIF's LI): dt 1 is
        then to_nir's default only. IF-only files do not depend on dt."""
        if self.dt is not None or any(_spiking_leaky(n) and np.any(a64(n.r) < 1) for n in graph.nodes.values()):
            return False
        return any(
            (cont := n.trait(Continuous)) is not None and bool(cont.time_constants) for n in graph.nodes.values()
        )

    def default_dt(self, graph: Graph) -> float | None:
        if self.dt is not None:
            return self.dt
        for node in graph.nodes.values():
            if _spiking_leaky(node):  # LIF, CubaLIF: tau = dt/(1-beta), r = beta
                tau = a64(getattr(node, node.trait(Continuous).time_constants[-1]))  # the membrane's
                r = np.broadcast_to(a64(node.r), tau.shape)
                ok = r < 1
                if np.any(ok):
                    return float(np.median((tau * (1 - r))[ok]))
        return 1.0

    def dt_source(self) -> str:
        return "dt = tau*(1-r) of a LIF/CubaLIF (Spyx 1.0 writes tau = dt/(1-beta), r = beta), else to_nir's default 1"

    @staticmethod
    def detect(ev: Evidence) -> Detection | None:
        """An LI feeding a Threshold (Spyx 1.0's PSU_LIF), or ``r < 1`` on every LIF/CubaLIF with one
        ``dt = tau (1 - r)`` for all of them (Spyx 1.0 writes ``r = beta``, ``tau = dt/(1-beta)``)."""
        graphs = [ev.graph, *(v for v in ev.nodes.values() if isinstance(v, Graph))]
        li_thr = [
            (a, b)
            for sub in graphs
            for a, b in (sub.edge_nodes(e) for e in sub.edges)
            if sub.nodes[a].kind == "LI" and sub.nodes[b].kind == "Threshold"
        ]
        if li_thr:
            return Detection(
                "spyx1",
                ("spyx1",),
                (f"LI -> Threshold pair ({li_thr[0][0]} -> {li_thr[0][1]}): Spyx 1.0's PSU_LIF export",),
            )
        if not (ev.spiking and all(np.all(ev.rs[k] < 1) for k in ev.spiking)):
            return None
        dts = np.concatenate(
            [np.ravel(t * (1 - np.broadcast_to(ev.rs[k], t.shape))) for k, t in ev.spiking.items()]
        )
        if not np.allclose(dts, dts[0], rtol=RTOL):
            return None
        return Detection(
            "spyx1",
            ("spyx1",),
            (
                f"r < 1 and tau*(1 - r) == {dts[0]:.6g} on all {ev.what}: Spyx 1.0 export (r = beta, "
                f"tau = dt/(1-beta), dt = {dts[0]:.6g})",
            ),
        )

    @property
    def dynamic_before_transition(self) -> bool:  # type: ignore[override]
        """False with ``shift`` (the default): Spyx 1.0 tests ``S = H(V - thr)`` on the previous membrane,
        then integrates, so a spike comes one step after its input; True with ``shift=false``."""
        return not self.shift

    def fixups(self) -> list[Pass]:
        return [DropBatchAxis(), *([Spyx1RnnEdges()] if self.rnn_edges == "computed" else [])]

    def flat_fixups(self) -> list[Pass]:
        return [Spyx1ChannelsLast()] if self.flatten == "channels_last" else []

    def shift_output(self, name: str, node: Node) -> bool:
        return self.shift and node.spiking  # LIF, IF, CubaLIF: the spike of the previous membrane

    @staticmethod
    def _base(node: Node) -> dict:
        return dict(
            v_threshold=getattr(node, "v_threshold", None),
            v_reset=0.0,
            spike_test="gt",
            spike_count="binary",
            reset="subtract",
            metadata=node.metadata,
        )

    def _lif(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        self.require_dt(dt, name)
        return make_neuron(
            population_shape(node),
            beta=np.clip(np.asarray(node.r, F32), 0, 1),
            g_x=1.0,
            reset_delay=True,
            **self._base(node),
        )

    def _if(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        self.require_dt(dt, name)
        return make_neuron(population_shape(node), beta=1.0, g_x=1.0, reset_delay=True, **self._base(node))

    def _cubalif(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        dt = self.require_dt(dt, name)
        return make_neuron(
            population_shape(node),
            synapse=True,
            beta=np.clip(np.asarray(node.r, F32), 0, 1),
            g_x=0.0,
            w_syn=1.0,
            g_syn=1.0,
            g_prev=0.0,
            alpha=np.clip((1.0 - dt / a64(node.tau_syn)).astype(F32), 0, 1),
            reset_delay=False,
            **self._base(node),
        )

    def _li(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        dt = self.require_dt(dt, name)
        return make_neuron(
            population_shape(node),
            beta=np.clip((1.0 - dt / a64(node.tau)).astype(F32), 0, 1),
            g_x=a64(node.r),
            fires=False,
            reset="none",
            metadata=node.metadata,
        )

    def invert_neuron(self, name: str, n: Node, dt: float | None) -> Node:
        """The inverse of the lowering, as ``spyx.nir.to_nir`` writes: LIF ``r = beta``, ``tau = dt/(1-beta)``
        (``beta = 1``: IF); CubaLIF also ``tau_syn = dt/(1-alpha)``; LI ``tau = dt/(1-beta)``, ``r = g_x``."""
        dt = self.require_dt(dt, name)
        beta = p64(n, "beta")
        if not n.fires:
            return continuous("LI", n, tau=over(dt, 1 - beta), r=p64(n, "g_x"), v_leak=0.0)
        levels = dict(v_threshold=p64(n, "v_threshold"), v_reset=0.0)
        if n.synapse:
            return continuous(
                "CubaLIF", n, tau_mem=over(dt, 1 - beta), tau_syn=over(dt, 1 - p64(n, "alpha")), r=beta,
                v_leak=0.0, w_in=1.0, **levels,
            )
        if np.all(beta == 1):
            return continuous("IF", n, r=1.0, **levels)
        return continuous("LIF", n, tau=over(dt, 1 - beta), r=beta, v_leak=0.0, **levels)

    def unlower_fixups(self, graph: Graph) -> Graph:
        return Spyx1ChannelsLast.undo(graph) if self.flatten == "channels_last" else graph


def _spiking_leaky(node: Node) -> bool:
    """A spiking continuous population with a membrane time constant (LIF, CubaLIF)."""
    cont = node.trait(Continuous)
    return cont is not None and bool(cont.time_constants) and node.has_trait(Population) and node.has_trait(Spiking)
