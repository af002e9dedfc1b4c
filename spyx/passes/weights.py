"""Scaling the rows (outputs) or columns (inputs) of weight layers, shared by ``rescale`` and ``fuse``.

A *weight layer* is a node with the :class:`~spyx.ir.traits.WeightLayer` trait (Affine, Linear, Scale,
Conv1d, Conv2d today); the trait folds a factor into its parameters. Multiplying its output elementwise by
``k`` (``scale_outputs``) or its input by ``s`` (``scale_inputs``) is folded into its parameters;
convolutions share weights over space, so their factor must be constant over the spatial positions of each
channel. Arithmetic is float64; results are stored in the node's original dtype (one rounding per
parameter).

Both helpers return ``(node, None)`` on success or ``(None, reason)`` when the factor cannot be folded.
"""

from __future__ import annotations

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.node import Node, kinds_with
from spyx.ir.traits import WeightLayer, cast_like

__all__ = ["WEIGHT_KINDS", "scale_outputs", "scale_inputs", "exclusive_feeders", "cast_like", "nested_note"]

#: the kinds with the WeightLayer trait, for messages (passes ask ``node.trait(WeightLayer)``)
WEIGHT_KINDS = kinds_with(WeightLayer)


def _not_weight(node: Node) -> tuple[None, str]:
    return None, f"{node.kind} is not a weight layer (it has no WeightLayer trait)"


def scale_outputs(node: Node, k: np.ndarray) -> tuple[Node | None, str | None]:
    """``node`` whose output is multiplied elementwise by ``k`` (shape: the node's output shape)."""
    layer = node.trait(WeightLayer)
    return layer.scale_outputs(node, k) if layer is not None else _not_weight(node)


def scale_inputs(node: Node, s: np.ndarray) -> tuple[Node | None, str | None]:
    """``node`` computing on ``s * x`` what it computed on ``x`` (``s``: the node's input shape)."""
    layer = node.trait(WeightLayer)
    return layer.scale_inputs(node, s) if layer is not None else _not_weight(node)


def exclusive_feeders(graph: Graph, name: str) -> tuple[list[str], str | None]:
    """The nodes with edges into ``name`` when every one is a weight node whose only consumer is ``name``
    (through plain edges, no nested-graph ports); otherwise ``([], reason)``."""
    feeders: list[str] = []
    for a, b in graph.edges:
        src, dst = graph.edge_nodes((a, b))
        if dst != name:
            continue
        if a != src or b != dst:
            return [], f"it is fed through a nested-graph port ({a} -> {b})"
        if not graph.nodes[src].has_trait(WeightLayer):
            return [], f"it is fed by {src} ({graph.nodes[src].kind}), not by a weight node"
        others = sorted({t for t in graph.successors(src) if t != name})
        if others:
            return [], f"its feeder {src} also feeds {', '.join(others)}"
        if src not in feeders:
            feeders.append(src)
    if not feeders:
        return [], "it has no incoming edges"
    return feeders, None


def nested_note(graph: Graph) -> list[str]:
    """A note for passes that work on the top level only, naming the nested graphs they did not enter."""
    nested = [n for n, node in graph.nodes.items() if isinstance(node, Graph)]
    if not nested:
        return []
    return [f"nested graphs {', '.join(nested)} were not looked into (run inline first)"]
