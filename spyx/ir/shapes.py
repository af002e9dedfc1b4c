"""Shape inference over a graph, nested graphs included (per-sample, channels-first shapes).

Each node's input shape is the shape its own parameters declare or, failing that, what its incoming edges
carry; its output shape follows from :meth:`Node.output_shape`. Inference runs to a fixed point so that
cycles get shapes from their stateful nodes. Disagreements are reported per edge, in the form
``edge lif1 -> fc2: lif1 produces (38,), fc2 expects (64,)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from spyx.errors import DanglingEdgeError, ShapeError
from spyx.ir.graph import Graph
from spyx.ir.node import Shape

__all__ = ["NodeShapes", "infer_shapes", "fmt_shape"]


def fmt_shape(shape: Shape | None) -> str:
    if shape is None:
        return "(?)"
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


@dataclass(frozen=True)
class NodeShapes:
    """Shapes of one node: its input, its output, and for nested graphs the shape of each output port."""

    input: Shape | None
    output: Shape | None
    ports: dict[str, Shape | None] | None = None

    def __iter__(self):  # allows ``in_shape, out_shape = shapes[name]``
        return iter((self.input, self.output))

    def __getitem__(self, i: int):
        return (self.input, self.output)[i]


def infer_shapes(
    graph: Graph,
    input_shapes: dict[str, Shape | None] | None = None,
    diagnostics: list[str] | None = None,
) -> dict[str, NodeShapes]:
    """Shapes of every node of ``graph`` (not of nodes inside nested graphs, see ``NodeShapes.ports``).

    ``input_shapes`` overrides the shapes of named Input nodes (used for nested graphs). With
    ``diagnostics`` given, problems are appended to it; otherwise the first raises :class:`ShapeError`.
    """
    problems: list[str] = [] if diagnostics is None else diagnostics
    start = len(problems)
    input_shapes = input_shapes or {}
    edges = []
    for edge in graph.edges:
        try:
            src = graph.resolve(edge[0], as_source=True)
            dst = graph.resolve(edge[1], as_source=False)
        except DanglingEdgeError as e:
            problems.append(f"edge {edge[0]} -> {edge[1]}: {e}")
            continue
        edges.append((edge, src, dst))

    out: dict[str, Shape | None] = {}
    ports: dict[str, dict[str, Shape | None]] = {}
    ins: dict[str, Shape | None] = {}

    def source_shape(src: tuple[str, str | None]) -> Shape | None:
        name, port = src
        if port is not None:
            return ports.get(name, {}).get(port)
        return out.get(name)

    def expected_input(name: str) -> Shape | None:
        node = graph.nodes[name]
        if name in input_shapes and input_shapes[name] is not None:
            return tuple(input_shapes[name])
        declared = node.declared_input_shape()
        if declared is not None:
            return declared
        for _, src, dst in edges:
            if dst[0] == name and source_shape(src) is not None:
                return source_shape(src)
        return None

    def port_inputs(name: str, sub: Graph) -> dict[str, Shape | None]:
        shapes: dict[str, Shape | None] = {}
        for _, src, dst in edges:
            if dst[0] != name:
                continue
            port = dst[1] if dst[1] is not None else next(iter(sub.inputs), None)
            if port is not None and source_shape(src) is not None:
                shapes[port] = source_shape(src)
        return shapes

    for _ in range(len(graph.nodes) + 2):
        changed = False
        for name, node in graph.nodes.items():
            if isinstance(node, Graph):
                sub_shapes = infer_shapes(node, port_inputs(name, node), diagnostics=[])
                new_ports = {o: sub_shapes[o].output for o in node.outputs}
                new_out = next(iter(new_ports.values())) if len(new_ports) == 1 else None
                in_shape = node.declared_input_shape()
                if new_ports != ports.get(name):
                    ports[name] = new_ports
                    changed = True
            else:
                in_shape = expected_input(name)
                try:
                    new_out = node.output_shape(in_shape)
                except ValueError:
                    new_out = None  # reported below, once, with the node's name
            if new_out != out.get(name) or in_shape != ins.get(name):
                out[name], ins[name] = new_out, in_shape
                changed = True
        if not changed:
            break

    # Report, deterministically: node-level failures, then per-edge disagreements.
    for name, node in graph.nodes.items():
        if isinstance(node, Graph):
            infer_shapes(node, port_inputs(name, node), diagnostics=problems)
            continue
        try:
            node.output_shape(ins.get(name))
        except ValueError as e:
            problems.append(f"node {name} ({node.kind}): {e}")
    for edge, src, dst in edges:
        produced = source_shape(src)
        target = graph.nodes[dst[0]]
        if isinstance(target, Graph):
            port = dst[1] or next(iter(target.inputs), None)
            expected = target.inputs[port].declared_input_shape() if port in target.inputs else None
        else:
            expected = ins.get(dst[0])
        if produced is not None and expected is not None and tuple(produced) != tuple(expected):
            problems.append(
                f"edge {edge[0]} -> {edge[1]}: {src[0]} produces {fmt_shape(produced)}, "
                f"{dst[0]} expects {fmt_shape(expected)}"
            )
    if diagnostics is None and len(problems) > start:
        raise ShapeError(problems[start:])
    return {
        name: NodeShapes(ins.get(name), out.get(name), ports.get(name) if name in ports else None)
        for name in graph.nodes
    }
