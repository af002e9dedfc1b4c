"""spyx IR nodes -> NIR node dictionaries (the inverse of :mod:`spyx.io.decode`).

A node dict has ``type``, one entry per present parameter (the node's own arrays: same dtype, scalars 0-d),
``metadata`` when there is any, and for graphs ``nodes`` and ``edges``. Metadata keys ``spyx.extra.*`` (fields
an input file had that spyx has no field for) are written back as metadata entries, where ``nir.read``
accepts them.

Discrete-time spyx kinds (``spyx.Neuron``, ``spyx.Shift``) are not NIR. :data:`ENCODERS` maps such a kind to a
function that returns a NIR-only :class:`~spyx.ir.Graph` (with ``Input``/``Output`` ports) to be written in
the node's place; without one, encoding raises :class:`~spyx.errors.ExportError` (with the kind's
``no_nir_reason`` when it declares why no encoding can exist, as ``spyx.AdaptiveNeuron`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from spyx.errors import ExportError
from spyx.io.spellings import WRITE_HOOKS
from spyx.ir.graph import Graph
from spyx.ir.node import Node, Shape
from spyx.ir.ports import Output

__all__ = ["ENCODERS", "encode_node"]

ENCODERS: dict[str, Callable[[str, Node], Graph]] = {}
"""spyx-only kind -> ``encoder(path, node) -> Graph`` of NIR nodes that replaces it in the file (none yet)."""


def encode_node(node: Node, where: str = "") -> dict[str, Any]:
    """The NIR dict of ``node``; ``where`` is its dotted path, used in error messages."""
    label = where or "<top>"
    if node.kind.startswith("spyx."):
        encoder = ENCODERS.get(node.kind)
        reason = getattr(type(node), "no_nir_reason", None)
        if encoder is None and reason:
            raise ExportError(
                f"node {label} is a {node.kind}, which has no NIR equivalent: {reason}; it cannot be saved "
                "as NIR (run it with spyx.compile, or replace it before saving)"
            )
        if encoder is None:
            raise ExportError(
                f"node {label} is a {node.kind}, a discrete-time spyx kind with no NIR equivalent; the graph "
                f"must be exported through an encoding (none is registered for {node.kind} in "
                "spyx.io.ENCODERS), or "
                "save the graph before it is discretised"
            )
        return encode_node(encoder(label, node), where)
    if isinstance(node, Graph):
        return _encode_graph(node, where)
    out: dict[str, Any] = {"type": node.kind}
    out.update(node.params())
    out = WRITE_HOOKS.get(node.kind, lambda n, f: f)(node, out)
    if node.metadata:
        out["metadata"] = dict(node.metadata)
    return out


def _output_shape(node: Node, shape: Shape) -> Node | None:
    return node.replace(shape=np.asarray(shape, dtype=np.int64)) if node.shape is None else None


def _conv_input_shape(node: Node, shape: Shape) -> Node | None:
    if node.input_shape is not None:
        return None
    spatial = np.asarray(shape[1:], dtype=np.int64)
    # nir 1.0.8 spells a Conv1d's input_shape as one integer and a Conv2d's as one per axis
    return node.replace(input_shape=spatial[0] if node.kind == "Conv1d" else spatial)


# Fields older files may lack but nir.read (1.0.8) requires: filled from the inferred input shape on write.
WRITE_SHAPE_FILLS: dict[str, Callable[[Node, Shape], Node | None]] = {
    "Output": _output_shape,
    "Conv1d": _conv_input_shape,
    "Conv2d": _conv_input_shape,
}


def _encode_graph(graph: Graph, where: str) -> dict[str, Any]:
    shapes = None
    nodes: dict[str, Any] = {}
    for name, node in graph.nodes.items():
        path = f"{where}.{name}" if where else name
        fill = WRITE_SHAPE_FILLS.get(node.kind)
        if fill is not None:
            if shapes is None:
                from spyx.ir.shapes import infer_shapes

                shapes = infer_shapes(graph)
            in_shape = shapes[name].input if name in shapes else None
            filled = fill(node, in_shape) if in_shape is not None else None
            if filled is not None:
                node = filled
            elif _needs(node):
                raise ExportError(
                    f"node {path} ({node.kind}): input shape unknown; NIR needs it to be stored"
                )
        nodes[name] = encode_node(node, path)
    out: dict[str, Any] = {"type": "NIRGraph", "nodes": nodes, "edges": [tuple(e) for e in graph.edges]}
    if graph.metadata:
        out["metadata"] = dict(graph.metadata)
    return out


def _needs(node: Node) -> bool:
    return getattr(node, "shape" if isinstance(node, Output) else "input_shape", 0) is None
