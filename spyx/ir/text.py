"""A deterministic text form of a graph, for ``spyx-convert inspect`` and golden tests.

Nodes and edges appear in the graph's own order (run the ``reorder`` pass for a canonical one). Each
parameter shows its dtype and shape and, for arrays of up to four values, the values; larger arrays show a
CRC-32 of their bytes, so a golden test sees any change of any bit without printing the data.
"""

from __future__ import annotations

import zlib

import numpy as np

from spyx.errors import SpyxError
from spyx.ir.algorithms import feedback_edges, sccs
from spyx.ir.graph import Graph
from spyx.ir.shapes import fmt_shape, infer_shapes

__all__ = ["to_text", "format_array"]


def format_array(arr: np.ndarray) -> str:
    head = f"{arr.dtype}[{','.join(str(s) for s in arr.shape)}]"
    if arr.size <= 4:
        return f"{head} {np.array2string(arr.reshape(-1), separator=',', precision=8)}"
    crc = zlib.crc32(np.ascontiguousarray(arr).tobytes()) & 0xFFFFFFFF
    return f"{head} crc={crc:08x}"


def _lines(graph: Graph, indent: str) -> list[str]:
    try:
        shapes = infer_shapes(graph, diagnostics=[])
    except SpyxError:
        shapes = {}
    out = []
    for name, node in graph.nodes.items():
        s = shapes.get(name)
        io = f"{fmt_shape(s.input)} -> {fmt_shape(s.output)}" if s is not None else "(?) -> (?)"
        if isinstance(node, Graph):
            out.append(f"{indent}{name}: NIRGraph")
            out.extend(_lines(node, indent + "    "))
            continue
        opts = [f"{k}={getattr(node, k)!r}" for k in node.option_names() if getattr(node, k) is not None]
        out.append(f"{indent}{name}: {node.kind} {io}" + (f" {' '.join(opts)}" if opts else ""))
        for pname, arr in node.params().items():
            out.append(f"{indent}    {pname}: {format_array(arr)}")
        if node.metadata:
            out.append(f"{indent}    metadata: {', '.join(sorted(node.metadata))}")
    try:
        fb = set(feedback_edges(graph))
        comps = sccs(graph)
    except SpyxError:
        fb, comps = set(), []
    for a, b in graph.edges:
        out.append(f"{indent}{a} -> {b}" + ("  [feedback]" if (a, b) in fb else ""))
    for comp in comps:
        out.append(f"{indent}cycle: {', '.join(comp)}")
    return out


def to_text(graph: Graph) -> str:
    """The text form: one line per node (kind, input -> output shape, options), parameters, edges, cycles."""
    head = ["graph"]
    for name, node in graph.inputs.items():
        head.append(f"  input {name} {fmt_shape(node.declared_input_shape())}")
    shapes = infer_shapes(graph, diagnostics=[])
    for name in graph.outputs:
        head.append(f"  output {name} {fmt_shape(shapes[name].output)}")
    if graph.metadata:
        head.append(f"  metadata: {', '.join(sorted(graph.metadata))}")
    return "\n".join(head + _lines(graph, "  ")) + "\n"
