"""Scaling the rows (outputs) or columns (inputs) of weight nodes, shared by ``rescale`` and ``fuse``.

A *weight node* is Affine, Linear, Scale, Conv1d or Conv2d. Multiplying its output elementwise by ``k``
(``scale_outputs``) or its input by ``s`` (``scale_inputs``) is folded into its parameters; convolutions
share weights over space, so their factor must be constant over the spatial positions of each channel.
Arithmetic is float64; results are stored in the node's original dtype (one rounding per parameter).

Both helpers return ``(node, None)`` on success or ``(None, reason)`` when the factor cannot be folded.
"""

from __future__ import annotations

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.node import Node

__all__ = ["WEIGHT_KINDS", "scale_outputs", "scale_inputs", "exclusive_feeders", "cast_like", "nested_note"]

WEIGHT_KINDS = ("Affine", "Linear", "Scale", "Conv1d", "Conv2d")


def cast_like(value: np.ndarray, like: np.ndarray) -> np.ndarray:
    return np.asarray(value).astype(like.dtype)


def _per_channel(k: np.ndarray, channels: int) -> np.ndarray | None:
    """``k`` of shape (C, *spatial) as (C,) when constant over space per channel, else None."""
    flat = np.asarray(k, dtype=np.float64).reshape(channels, -1)
    if not np.all(flat == flat[:, :1]):
        return None
    return flat[:, 0]


def scale_outputs(node: Node, k: np.ndarray) -> tuple[Node | None, str | None]:
    """``node`` whose output is multiplied elementwise by ``k`` (shape: the node's output shape)."""
    k = np.asarray(k, dtype=np.float64)
    if node.kind in ("Affine", "Linear"):
        w = node.weight.astype(np.float64) * k.reshape(-1, 1)
        if node.kind == "Linear":
            return node.replace(weight=cast_like(w, node.weight)), None
        return node.replace(
            weight=cast_like(w, node.weight), bias=cast_like(node.bias * k.reshape(-1), node.bias)
        ), None
    if node.kind == "Scale":
        return node.replace(
            scale=cast_like(node.scale.astype(np.float64) * k.reshape(node.scale.shape), node.scale)
        ), None
    if node.kind in ("Conv1d", "Conv2d"):
        kc = _per_channel(k, node.weight.shape[0])
        if kc is None:
            return None, f"the factor varies over the spatial positions of {node.kind} output channels"
        w = node.weight.astype(np.float64) * kc.reshape((-1,) + (1,) * (node.weight.ndim - 1))
        b = node.bias.astype(np.float64) * kc
        return node.replace(weight=cast_like(w, node.weight), bias=cast_like(b, node.bias)), None
    return None, f"{node.kind} is not a weight node ({', '.join(WEIGHT_KINDS)})"


def scale_inputs(node: Node, s: np.ndarray) -> tuple[Node | None, str | None]:
    """``node`` computing on ``s * x`` what it computed on ``x`` (``s``: the node's input shape)."""
    s = np.asarray(s, dtype=np.float64)
    if node.kind in ("Affine", "Linear"):
        w = node.weight.astype(np.float64) * s.reshape(1, -1)
        return node.replace(weight=cast_like(w, node.weight)), None
    if node.kind == "Scale":
        return node.replace(
            scale=cast_like(node.scale.astype(np.float64) * s.reshape(node.scale.shape), node.scale)
        ), None
    if node.kind in ("Conv1d", "Conv2d"):
        groups = int(np.asarray(node.groups).reshape(-1)[0])
        c_in_g = node.weight.shape[1]
        sc = _per_channel(s, c_in_g * groups)
        if sc is None:
            return None, f"the factor varies over the spatial positions of {node.kind} input channels"
        c_out_g = node.weight.shape[0] // groups
        # Output channel o reads input channels group(o) * c_in_g + j, j < c_in_g; zero padding stays zero.
        rows = np.stack(
            [sc[(o // c_out_g) * c_in_g : (o // c_out_g + 1) * c_in_g] for o in range(node.weight.shape[0])]
        )
        w = node.weight.astype(np.float64) * rows.reshape(rows.shape + (1,) * (node.weight.ndim - 2))
        return node.replace(weight=cast_like(w, node.weight)), None
    return None, f"{node.kind} is not a weight node ({', '.join(WEIGHT_KINDS)})"


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
        if graph.nodes[src].kind not in WEIGHT_KINDS:
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
