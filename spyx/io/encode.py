"""spyx IR nodes -> NIR node dictionaries (the inverse of :mod:`spyx.io.decode`).

A node dict has ``type``, one entry per present parameter (the node's own arrays: same dtype, scalars 0-d),
``metadata`` when there is any, and for graphs ``nodes`` and ``edges``. Metadata keys ``spyx.extra.*`` (fields
an input file had that spyx has no field for) are written back as metadata entries, where ``nir.read``
accepts them.

Discrete-time spyx kinds (``spyx.Neuron``, ``spyx.Shift``) are not NIR. :data:`ENCODERS` maps such a kind to a
function that returns a NIR-only :class:`~spyx.ir.Graph` (with ``Input``/``Output`` ports) to be written in
the node's place; without one, encoding raises :class:`~spyx.errors.ExportError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from spyx.errors import ExportError
from spyx.io.spellings import WRITE_HOOKS
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.ports import Output

__all__ = ["ENCODERS", "encode_node"]

ENCODERS: dict[str, Callable[[str, Node], Graph]] = {}
"""spyx-only kind -> ``encoder(path, node) -> Graph`` of NIR nodes that replaces it in the file (none yet)."""


def encode_node(node: Node, where: str = "") -> dict[str, Any]:
    """The NIR dict of ``node``; ``where`` is its dotted path, used in error messages."""
    label = where or "<top>"
    if node.kind.startswith("spyx."):
        encoder = ENCODERS.get(node.kind)
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


def _encode_graph(graph: Graph, where: str) -> dict[str, Any]:
    shapes = None
    nodes: dict[str, Any] = {}
    for name, node in graph.nodes.items():
        path = f"{where}.{name}" if where else name
        if isinstance(node, Output) and node.shape is None:
            # nir.read needs every Output's shape; older files may lack it, so it is inferred here.
            if shapes is None:
                from spyx.ir.shapes import infer_shapes

                shapes = infer_shapes(graph)
            shape = shapes[name].input if name in shapes else None
            if shape is None:
                raise ExportError(f"node {path} (Output): shape unknown and cannot be inferred; NIR needs it")
            node = node.replace(shape=np.asarray(shape, dtype=np.int64))
        nodes[name] = encode_node(node, path)
    out: dict[str, Any] = {"type": "NIRGraph", "nodes": nodes, "edges": [tuple(e) for e in graph.edges]}
    if graph.metadata:
        out["metadata"] = dict(graph.metadata)
    return out
