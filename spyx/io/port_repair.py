"""Input/Output shapes written with a leading batch axis of 1: find them, and repair them.

NIR port shapes are per sample. Some exporters store the example batch with them: rockpool 3.1's ``to_nir``
writes ``Input(shape=[1, 3])`` before a ``Linear`` of 3 inputs and ``Output(shape=[1, 1, 2])`` after 2
neurons. The rule, per (sub)graph:

1. an ``Input`` whose shape is ``(1, ..., 1, *s)`` where every node it feeds (that declares an input shape)
   expects exactly ``s``, becomes ``Input(shape=s)``;
2. then an ``Output`` whose shape is ``(1, ..., 1, *p)``, ``p`` being what its upstream produces, becomes
   ``Output(shape=p)``.

Only leading axes of size 1 are dropped, only when the neighbours agree on the rest; each change is reported.
"""

from __future__ import annotations

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.ports import Input, Output, shape_of
from spyx.ir.shapes import fmt_shape, infer_shapes

__all__ = ["drop_port_batch_axes"]


def _strip(shape: tuple[int, ...], want: tuple[int, ...]) -> bool:
    k = len(shape) - len(want)
    return k > 0 and tuple(shape[k:]) == tuple(want) and all(d == 1 for d in shape[:k])


def _with_shape(node, shape: tuple[int, ...]):
    return node.replace(shape=np.asarray(shape, dtype=np.asarray(node.shape).dtype))


def drop_port_batch_axes(graph: Graph, where: str = "") -> tuple[Graph, list[str]]:
    """``graph`` with the port shapes above repaired (recursively), and one line per change."""
    lines: list[str] = []
    scope = where or "<top>"
    nodes = dict(graph.nodes)
    for name, node in graph.nodes.items():
        if isinstance(node, Graph):
            nodes[name], sub = drop_port_batch_axes(node, f"{where}.{name}" if where else name)
            lines += sub
    for name, node in graph.nodes.items():
        shape = shape_of(node.shape) if isinstance(node, Input) else None
        if shape is None:
            continue
        wanted = set()
        for a, b in graph.edges:
            if graph.edge_nodes((a, b))[0] != name:
                continue
            target = nodes[graph.edge_nodes((a, b))[1]]
            declared = None if isinstance(target, Graph) else target.declared_input_shape()
            if declared is not None:
                wanted.add(tuple(declared))
        if len(wanted) == 1 and _strip(shape, (want := wanted.pop())):
            nodes[name] = _with_shape(node, want)
            lines.append(
                f"{scope}: Input {name} shape {fmt_shape(shape)} has a leading batch axis; "
                f"now {fmt_shape(want)}, what {name}'s successors expect"
            )
    graph = graph.replace(nodes=nodes)
    outputs = [n for n, node in nodes.items() if isinstance(node, Output) and node.shape is not None]
    if not outputs:
        return graph, lines
    shapes = infer_shapes(
        graph.replace(nodes={**nodes, **{n: nodes[n].replace(shape=None) for n in outputs}}), diagnostics=[]
    )
    for name in outputs:
        shape, produced = shape_of(nodes[name].shape), shapes[name].input
        if produced is not None and _strip(shape, tuple(produced)):
            nodes[name] = _with_shape(nodes[name], tuple(produced))
            lines.append(
                f"{scope}: Output {name} shape {fmt_shape(shape)} has a leading batch axis; "
                f"now {fmt_shape(produced)}, what its upstream produces"
            )
    return graph.replace(nodes=nodes), lines
