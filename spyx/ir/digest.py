"""A content digest of nodes and graphs: equal content, equal digest (up to CRC-32 collisions).

The pass manager compares the digest of a graph before and after each pass, so that a pass that says it
changed nothing cannot have changed anything. Every bit counts: kind, options, each parameter's dtype,
shape and bytes, metadata, node names and order, edges. Nodes are immutable, so a node's digest is
computed once and remembered for as long as the node lives; a pass that leaves most nodes alone costs
only the nodes it replaced. Linear in the bytes of the nodes not seen before.
"""

from __future__ import annotations

import weakref
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.node import Node

__all__ = ["node_digest", "graph_digest"]

_CACHE: weakref.WeakKeyDictionary[Node, int] = weakref.WeakKeyDictionary()


def _value(value: Any, crc: int) -> int:
    if isinstance(value, np.ndarray):
        crc = zlib.crc32(f"{value.dtype.str}{value.shape}".encode(), crc)
        return zlib.crc32(np.ascontiguousarray(value).tobytes(), crc)
    if isinstance(value, Mapping):
        for k in sorted(value, key=str):
            crc = _value(value[k], zlib.crc32(str(k).encode(), crc))
        return crc
    if isinstance(value, tuple | list):
        for v in value:
            crc = _value(v, zlib.crc32(b",", crc))
        return crc
    return zlib.crc32(f"{type(value).__name__}:{value!r}".encode(), crc)


def node_digest(node: Node) -> int:
    """The digest of one node (a nested graph: of everything inside it)."""
    hit = _CACHE.get(node)
    if hit is not None:
        return hit
    if isinstance(node, Graph):
        crc = graph_digest(node)
    else:
        crc = zlib.crc32(node.kind.encode())
        for name in node.option_names():
            crc = _value(getattr(node, name), zlib.crc32(name.encode(), crc))
        for name in node.param_names():
            crc = _value(getattr(node, name), zlib.crc32(name.encode(), crc))
        crc = _value(dict(node.metadata), crc)
    _CACHE[node] = crc
    return crc


def graph_digest(graph: Graph) -> int:
    """The digest of a graph: its metadata, its nodes in order with their names, its edges in order."""
    crc = _value(dict(graph.metadata), zlib.crc32(b"graph"))
    for name, node in graph.nodes.items():
        crc = zlib.crc32(f"{name}={node_digest(node):08x};".encode(), crc)
    return _value(list(graph.edges), crc)
