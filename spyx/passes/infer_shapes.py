"""``infer-shapes``: store inferred shapes where NIR has optional shape fields (preserves: structure).

Fills the optional shape parameters that kinds declare with the :class:`~spyx.ir.traits.ShapeField` trait
(``Output.shape``, ``Conv1d/Conv2d.input_shape``, ``Flatten.input_type``) when a file left them out, so that
readers that need them (nir's own type checker, hardware mappers) get them. Values that are present are
never changed; ``verify`` reports disagreements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.shapes import fmt_shape, infer_shapes
from spyx.ir.traits import ShapeField
from spyx.passes.base import Pass, PassResult


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
        field = node.trait(ShapeField)
        if field is None or getattr(node, field.param) is not None:
            continue
        s = shapes[name]
        value = field.value(s.output if field.records == "output" else s.input)
        if value is None:
            continue
        fname = field.param
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
