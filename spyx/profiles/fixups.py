"""Fixups: registered passes that repair an exporter's file conventions before its neurons are lowered.

They are the first and third stages of the lowering pipeline (:mod:`spyx.profiles.pipeline`); a profile
lists the ones its exporter needs (:meth:`spyx.profiles.base.Profile.fixups`, ``flat_fixups``), and
``spyx.load(path, profile=...)`` runs the first stage alone. Each is also a pass of its own
(``spyx-convert convert --passes drop-batch-axis``), reporting every repair as a change.

* ``drop-batch-axis`` (every torch exporter that traces a batched sample: Norse ``to_nir``, Rockpool): an
  Input/Output type ``(1, 6)`` whose neighbour is ``(6,)`` is read as ``(6,)``. Idempotent.
* ``spyx1-rnn-edges`` (Spyx 1.0's recurrent sub-graph ``input -> w_rec <-> lif``): the ``input -> w_rec``
  edge is moved to ``input -> lif``, which is what Spyx 1.0 computes (``x + W s``). Idempotent.
* ``spyx1-channels-last`` (Spyx 1.0 flattens (H, W, C)): the columns of the Affine/Linear after a Flatten
  of a (C, H, W) signal are reordered from (H, W, C) order to NIR's (C, H, W). This reinterprets the file,
  so it is not idempotent: the ``spyx1`` profile runs it once, on the graph as read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from spyx.errors import UnsupportedError
from spyx.ir.flatten import Flatten
from spyx.ir.graph import Graph
from spyx.ir.ports import Input
from spyx.ir.shapes import infer_shapes
from spyx.ir.traits import Population, WeightLayer
from spyx.passes.base import Pass, PassResult
from spyx.profiles.common import drop_batch_axis, each_graph

__all__ = ["DropBatchAxis", "Spyx1RnnEdges", "Spyx1ChannelsLast"]


def _dense(node) -> bool:
    layer = node.trait(WeightLayer)
    return layer is not None and layer.layout == "dense"


def _result(old: Graph, new: Graph, notes: list[str]) -> PassResult:
    return PassResult(new, True, tuple(notes)) if notes else PassResult(old, False)


@dataclass(frozen=True, kw_only=True)
class DropBatchAxis(Pass):
    """Drop the exporter's batch axis from Input/Output types (every nested graph)."""

    name = "drop-batch-axis"
    description = "read port types (1, n) whose neighbour is (n,) as (n,): a batch axis the exporter wrote"
    preserves = "structure"

    def call(self, graph: Graph) -> PassResult:
        new, notes = each_graph(graph, drop_batch_axis)
        return _result(graph, new, notes)


def rnn_edges(graph: Graph, where: str) -> tuple[Graph, list[str]]:
    """In a sub-graph ``input -> w <-> lif``: move ``input -> w`` to ``input -> lif``."""
    ends = [graph.edge_nodes(e) for e in graph.edges]
    edges = list(graph.edges)
    notes = []
    for k, (a, b) in enumerate(ends):
        if not isinstance(graph.nodes[a], Input) or not _dense(graph.nodes[b]):
            continue
        partners = [
            y for x, y in ends if x == b and graph.nodes[y].has_trait(Population) and graph.nodes[y].continuous
            and (y, b) in ends
        ]
        if len(partners) == 1:
            edges[k] = (edges[k][0], partners[0])
            notes.append(
                f"{where}{a} -> {where}{b}: Spyx 1.0 recurrent layer adds W_rec s to its input; "
                f"edge moved to {where}{a} -> {where}{partners[0]}"
            )
    return (Graph(nodes=graph.nodes, edges=tuple(edges), metadata=graph.metadata) if notes else graph), notes


@dataclass(frozen=True, kw_only=True)
class Spyx1RnnEdges(Pass):
    """Rewire Spyx 1.0's recurrent sub-graphs to what Spyx 1.0 computes."""

    name = "spyx1-rnn-edges"
    description = "Spyx 1.0 recurrent sub-graphs: move input -> w_rec to input -> lif (x + W s, as computed)"
    preserves = "approximate"

    def call(self, graph: Graph) -> PassResult:
        new, notes = each_graph(graph, rnn_edges)
        return _result(graph, new, notes)


@dataclass(frozen=True, kw_only=True)
class Spyx1ChannelsLast(Pass):
    """Reorder the dense layer after a (C, H, W) Flatten from Spyx 1.0's (H, W, C) order (flat graph)."""

    name = "spyx1-channels-last"
    description = "reorder the weight columns after a Flatten of (C, H, W) from Spyx 1.0's (H, W, C) order"
    preserves = "approximate"
    idempotent: ClassVar[bool] = False  # it reinterprets the file: once, on the graph as read

    def call(self, graph: Graph) -> PassResult:
        shapes = infer_shapes(graph, diagnostics=[])
        nodes = dict(graph.nodes)
        notes = []
        for name, node in graph.nodes.items():
            if not isinstance(node, Flatten):
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
                layer = nxt.trait(WeightLayer)
                nodes[b] = nxt.replace(**{layer.weight: np.asarray(layer.weights(nxt))[:, order]})
                notes.append(f"{b}: columns reordered from Spyx 1.0's channels-last flatten of {name} {shape}")
        return _result(graph, graph.with_nodes(nodes), notes)

    @staticmethod
    def undo(graph: Graph) -> Graph:
        """The inverse, for writing a flat graph back in Spyx 1.0's convention (``spyx.save`` of a program):
        the columns after each (C, H, W) Flatten put back in (H, W, C) order."""
        shapes = infer_shapes(graph, diagnostics=[])
        nodes = dict(graph.nodes)
        for name, node in graph.nodes.items():
            shape = shapes[name].input if isinstance(node, Flatten) else None
            if shape is None or len(shape) != 3 or node.dims[0] != 0 or node.dims[1] not in (-1, 2):
                continue
            c, h, w = shape
            back = np.argsort(np.arange(c * h * w).reshape(h, w, c).transpose(2, 0, 1).ravel())
            for b in (graph.edge_nodes(e)[1] for e in graph.edges if graph.edge_nodes(e)[0] == name):
                layer = nodes[b].trait(WeightLayer)
                if layer is not None and _dense(nodes[b]):
                    nodes[b] = nodes[b].replace(**{layer.weight: np.asarray(layer.weights(nodes[b]))[:, back]})
        return graph.with_nodes(nodes)
