r"""``fuse``: merge chains of linear maps with nothing nonlinear between them (preserves: approximate).

A pair ``A -> B`` is fused when ``A`` and ``B`` are each a weight layer with a dense form (the
:class:`~spyx.ir.traits.WeightLayer` trait's ``dense``: Affine, Linear, Scale over a 1-D signal), the edge is
the only edge out of ``A`` and the only edge into ``B``, and neither is a port. With ``y = B(A(x))``:

==================  ==================================================
A, B                fused
==================  ==================================================
Affine/Linear x2    ``W = W_B W_A``, ``b = W_B b_A + b_B`` (Linear when neither has a bias)
Scale, Affine/Lin.  ``W = W_B diag(s)``
Affine/Lin., Scale  ``W = diag(s) W_A``, ``b = s b_A``
Scale, Scale        ``s = s_A s_B``
==================  ==================================================

The fused node takes the place of ``A`` and keeps its name, except that a Scale followed by a weight layer
keeps the weight layer's name. A Flatten between two layers stops
fusion (it changes the layout, and nothing here moves a dense layer across it). Products are computed in
float64 and stored in the result type of the two nodes' parameters, so outputs equal the unfused graph's up
to that type's rounding (exact in real arithmetic; in float32, about ``1e-6`` relative to ``|W_B| |W_A| |x|``;
spikes can differ only where a membrane lies that close to a threshold). A fusion that would grow the
weight matrix beyond the two it replaces (a low-rank bottleneck) is skipped unless ``allow_growth=true``.
Runs to a fixed point, so chains of any length become one node. Top level only (run ``inline`` first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.linear import Affine, Linear, Scale
from spyx.ir.node import Node
from spyx.ir.traits import WeightLayer
from spyx.passes.base import Pass, PassResult
from spyx.passes.weights import nested_note

__all__ = ["Fuse", "fuse_pair"]


def _fusible(node: Node) -> bool:
    layer = node.trait(WeightLayer)
    return layer is not None and layer.dense(node) is not None


def _elementwise(node: Node) -> bool:
    return node.trait(WeightLayer).layout == "elementwise"


def fuse_pair(a: Node, b: Node) -> Node:
    """The single node computing ``b(a(x))``; both must be weight layers with a dense form."""
    dtype = np.result_type(*[p.dtype for p in (*a.params().values(), *b.params().values())])
    la, lb = a.trait(WeightLayer), b.trait(WeightLayer)
    if _elementwise(a) and _elementwise(b):
        product = la.weights(a).astype(np.float64) * lb.weights(b).astype(np.float64)
        return Scale(scale=product.astype(dtype), metadata=a.metadata)
    wa, ba = la.dense(a)
    wb, bb = lb.dense(b)
    w = wb @ wa
    bias = None
    if ba is not None or bb is not None:
        bias = (wb @ ba if ba is not None else 0.0) + (bb if bb is not None else 0.0)
    if bias is None:
        return Linear(weight=w.astype(dtype), metadata=a.metadata)
    return Affine(weight=w.astype(dtype), bias=np.asarray(bias).astype(dtype), metadata=a.metadata)


def _size(node: Node) -> int:
    return node.trait(WeightLayer).count(node)


def _fused_size(a: Node, b: Node) -> int:
    if _elementwise(a) and _elementwise(b):
        return _size(a)
    rows = _size(b) if _elementwise(b) else b.trait(WeightLayer).weights(b).shape[0]
    cols = _size(a) if _elementwise(a) else a.trait(WeightLayer).weights(a).shape[1]
    return int(rows * cols)


@dataclass(frozen=True, kw_only=True)
class Fuse(Pass):
    """Fuse Affine/Linear/Scale chains into one node."""

    name = "fuse"
    description = "fuse Affine/Linear/Scale chains with no nonlinearity between them into one node"
    preserves = "approximate"

    allow_growth: bool = False

    def _candidate(self, graph: Graph, notes: list[str]) -> tuple[str, str] | None:
        for a, b in graph.edges:
            na, nb = graph.nodes.get(a), graph.nodes.get(b)
            if na is None or nb is None or not _fusible(na) or not _fusible(nb):
                continue
            if [e for e in graph.edges if graph.edge_nodes(e)[0] == a] != [(a, b)]:
                continue
            if [e for e in graph.edges if graph.edge_nodes(e)[1] == b] != [(a, b)]:
                continue
            if not self.allow_growth and _fused_size(na, nb) > _size(na) + _size(nb):
                grown = f"{_size(na) + _size(nb)} weights to {_fused_size(na, nb)}"
                note = f"kept {a} -> {b}: fusing would grow {grown}"
                if note not in notes:
                    notes.append(note)
                continue
            return a, b
        return None

    def call(self, graph: Graph) -> PassResult:
        changes: list[str] = []
        notes: list[str] = nested_note(graph)
        while (pair := self._candidate(graph, notes)) is not None:
            a, b = pair
            fused = fuse_pair(graph.nodes[a], graph.nodes[b])
            keep = b if _elementwise(graph.nodes[a]) and not _elementwise(graph.nodes[b]) else a
            drop = b if keep == a else a
            nodes = {}
            for k, v in graph.nodes.items():
                if k == a:
                    nodes[keep] = fused
                elif k != b:
                    nodes[k] = v
            edges = tuple(
                (keep if x == drop else x, keep if y == drop else y)
                for x, y in graph.edges
                if (x, y) != (a, b)
            )
            kinds = f"{a} ({graph.nodes[a].kind}) and {b} ({graph.nodes[b].kind})"
            changes.append(f"fused {kinds} into {keep} ({fused.kind})")
            graph = Graph(nodes=nodes, edges=edges, metadata=graph.metadata)
        return PassResult(graph, bool(changes), tuple(changes), tuple(notes))
