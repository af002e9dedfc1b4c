"""``infer-shapes``: store inferred shapes where NIR has optional shape fields (preserves: structure).

Fills ``Output.shape``, ``Conv1d/Conv2d.input_shape`` and ``Flatten.input_type`` when a file left them out,
so that readers that need them (nir's own type checker, hardware mappers) get them. Values that are present
are never changed; ``verify`` reports disagreements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.shapes import fmt_shape, infer_shapes
from spyx.passes.base import Pass, PassResult

_FIELDS = {"Output": "shape", "Conv1d": "input_shape", "Conv2d": "input_shape", "Flatten": "input_type"}


def _fill(graph: Graph, prefix: str = "") -> tuple[Graph, list[str]]:
    shapes = infer_shapes(graph, diagnostics=[])
    nodes = dict(graph.nodes)
    changes = []
    for name, node in graph.nodes.items():
        if isinstance(node, Graph):
            new, sub = _fill(node, f"{prefix}{name}.")
            if new is not node:
                nodes[name], changes = new, changes + sub
            continue
        fname = _FIELDS.get(node.kind)
        if fname is None or getattr(node, fname) is not None:
            continue
        s = shapes[name]
        value = s.output if node.kind == "Output" else s.input
        if value is None:
            continue
        if node.kind.startswith("Conv"):
            value = value[1:]
        nodes[name] = node.replace(**{fname: np.asarray(value, dtype=np.int64)})
        changes.append(f"{prefix}{name}.{fname} = {fmt_shape(tuple(value))}")
    if not changes:
        return graph, []
    return graph.with_nodes(nodes), changes


@dataclass(frozen=True, kw_only=True)
class InferShapes(Pass):
    """Store inferred shapes in optional shape fields."""

    name = "infer-shapes"
    description = "store inferred shapes in optional shape fields (Output.shape, Conv input_shape, Flatten input_type)"
    preserves = "structure"

    def call(self, graph: Graph) -> PassResult:
        new, changes = _fill(graph)
        return PassResult(new, new is not graph, tuple(changes))
