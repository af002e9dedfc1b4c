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

from spyx.errors import UnsupportedError
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.ports import Input
from spyx.profiles.base import Profile, _each_graph
from spyx.ir.traits import Population, WeightLayer
from spyx.profiles.common import F32, a64, drop_batch_axis, make_neuron, population_shape

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
            membrane).
    """

    name = "spyx1"
    framework = "Spyx 1.0"
    description = "Spyx 1.0 (flax.nnx) models as exported by spyx.nir.to_nir"

    dt: float | None = None
    flatten: Literal["channels_last", "channels_first"] = "channels_last"
    rnn_edges: Literal["computed", "as_written"] = "computed"
    shift: bool = True

    def default_dt(self, graph: Graph) -> float | None:
        if self.dt is not None:
            return self.dt
        for node in graph.nodes.values():
            if node.kind in ("LIF", "CubaLIF"):
                tau = a64(node.tau if node.kind == "LIF" else node.tau_mem)
                r = np.broadcast_to(a64(node.r), tau.shape)
                ok = r < 1
                if np.any(ok):
                    return float(np.median((tau * (1 - r))[ok]))
        return 1.0

    def dt_source(self) -> str:
        return "recovered from tau*(1-r) (Spyx 1.0 writes tau = dt/(1-beta), r = beta) or to_nir's default 1"

    def prepare(self, graph: Graph) -> tuple[Graph, list[str]]:
        graph, notes = _each_graph(graph, drop_batch_axis)
        if self.rnn_edges == "computed":
            graph, more = _each_graph(graph, _rnn_edges)
            notes += more
        return graph, notes

    def rewrite(self, graph: Graph) -> tuple[Graph, list[str]]:
        if self.flatten != "channels_last":
            return graph, []
        return _channels_last_flatten(graph)

    def shift_output(self, name: str, node: Node) -> bool:
        return self.shift and node.kind in ("LIF", "IF", "CubaLIF")

    def neuron(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        dt = self.require_dt(dt, name)
        shape = population_shape(node)
        thr = getattr(node, "v_threshold", None)
        base = dict(
            v_threshold=thr,
            v_reset=0.0,
            spike_test="gt",
            spike_count="binary",
            reset="subtract",
            metadata=node.metadata,
        )
        if node.kind == "LIF":
            return make_neuron(
                shape, beta=np.clip(np.asarray(node.r, F32), 0, 1), g_x=1.0, reset_delay=True, **base
            )
        if node.kind == "IF":
            return make_neuron(shape, beta=1.0, g_x=1.0, reset_delay=True, **base)
        if node.kind == "CubaLIF":
            return make_neuron(
                shape,
                synapse=True,
                beta=np.clip(np.asarray(node.r, F32), 0, 1),
                g_x=0.0,
                w_syn=1.0,
                g_syn=1.0,
                g_prev=0.0,
                alpha=np.clip((1.0 - dt / a64(node.tau_syn)).astype(F32), 0, 1),
                reset_delay=False,
                **base,
            )
        if node.kind == "LI":
            return make_neuron(
                shape,
                beta=np.clip((1.0 - dt / a64(node.tau)).astype(F32), 0, 1),
                g_x=a64(node.r),
                fires=False,
                reset="none",
                metadata=node.metadata,
            )
        raise UnsupportedError(
            f"node {name} ({node.kind}): Spyx 1.0 exports no {node.kind}; use the nir profile"
        )


def _dense(node: Node) -> bool:
    layer = node.trait(WeightLayer)
    return layer is not None and layer.layout == "dense"


def _continuous_neuron(node: Node) -> bool:
    return node.has_trait(Population) and node.continuous


def _rnn_edges(graph: Graph, where: str) -> tuple[Graph, list[str]]:
    """In a sub-graph ``input -> w <-> lif``: move ``input -> w`` to ``input -> lif``."""
    ends = [graph.edge_nodes(e) for e in graph.edges]
    edges = list(graph.edges)
    notes = []
    for k, (a, b) in enumerate(ends):
        if not isinstance(graph.nodes[a], Input) or not _dense(graph.nodes[b]):
            continue
        partners = [y for x, y in ends if x == b and _continuous_neuron(graph.nodes[y]) and (y, b) in ends]
        if len(partners) == 1:
            edges[k] = (edges[k][0], partners[0])
            notes.append(
                f"{where}{a} -> {where}{b}: Spyx 1.0 recurrent layer adds W_rec s to its input; "
                f"edge moved to {where}{a} -> {where}{partners[0]}"
            )
    return (Graph(nodes=graph.nodes, edges=tuple(edges), metadata=graph.metadata) if notes else graph), notes


def _channels_last_flatten(graph: Graph) -> tuple[Graph, list[str]]:
    from spyx.ir.shapes import infer_shapes

    shapes = infer_shapes(graph, diagnostics=[])
    nodes = dict(graph.nodes)
    notes = []
    for name, node in graph.nodes.items():
        if node.kind != "Flatten":
            continue
        shape = shapes[name].input
        if shape is None or len(shape) != 3 or node.dims[0] != 0 or node.dims[1] not in (-1, 2):
            continue
        c, h, w = shape
        # column of the (H, W, C)-ordered weight for each (C, H, W)-ordered input position
        order = np.arange(c * h * w).reshape(h, w, c).transpose(2, 0, 1).ravel()
        for a, b in (graph.edge_nodes(e) for e in graph.edges):
            if a != name:
                continue
            nxt = graph.nodes[b]
            if not _dense(nxt):
                raise UnsupportedError(
                    f"node {name} (Flatten): Spyx 1.0 flattens channels-last; it feeds {b} ({nxt.kind}), "
                    "and only an Affine/Linear consumer can be re-ordered; pass "
                    "spyx1{flatten=channels_first} to read it as NIR"
                )
            nodes[b] = nxt.replace(weight=np.asarray(nxt.weight)[:, order])
            notes.append(f"{b}: columns reordered from Spyx 1.0's channels-last flatten of {name} {shape}")
    return graph.with_nodes(nodes), notes
