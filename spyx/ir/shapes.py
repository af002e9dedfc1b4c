"""Shape inference over a graph, nested graphs included (per-sample, channels-first shapes).

Each node's input shape is the shape its own parameters declare or, failing that, what the first of its
incoming edges (in edge order) whose source shape is known carries; its output shape follows from
:meth:`Node.output_shape`. Disagreements are reported per edge, in the form
``edge lif1 -> fc2: lif1 produces (38,), fc2 expects (64,)``.

Cost: linear in the graph. Shapes are propagated with a work list (a node is re-evaluated only when the
shape of one of its sources changed, and at most ``in-degree + 2`` times, which bounds cycles), and each
nested graph is inferred once per distinct set of port shapes it receives: a nested graph's ``Input`` nodes
declare their shapes, so that is once per nested graph. Results are memoised for one call
(:func:`infer_shapes`), including the problems found inside nested graphs, which are reported with the
nested graph's path (``node sub.lif (LIF): ...``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from typing import TYPE_CHECKING

from spyx.errors import DanglingEdgeError, ShapeError
from spyx.ir.node import Node, Shape

if TYPE_CHECKING:  # graph.py imports this module (a graph's output shape is inferred); nodes say if they nest
    from spyx.ir.graph import Graph

__all__ = ["NodeShapes", "infer_shapes", "infer_tree", "fmt_shape"]

# Errors a node's output_shape may raise on parameters that check() would reject (stride 0, empty arrays):
# inference runs on unverified graphs too (spyx-convert inspect), so these become problems, not crashes.
_SHAPE_ERRORS = (ValueError, ArithmeticError, IndexError, TypeError, OverflowError)


def _nested(node: Node) -> bool:
    return node.nested


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


Problem = Callable[[str], str]  # a message, given the path prefix of the graph it was found in ("" or "sub.")


def infer_shapes(
    graph: Graph,
    input_shapes: dict[str, Shape | None] | None = None,
    diagnostics: list[str] | None = None,
) -> dict[str, NodeShapes]:
    """Shapes of every node of ``graph`` (not of nodes inside nested graphs, see ``NodeShapes.ports``).

    ``input_shapes`` overrides the shapes of named Input nodes. With ``diagnostics`` given, problems are
    appended to it (those inside nested graphs too, named by their dotted path); otherwise the first raises
    :class:`ShapeError`.
    """
    shapes, problems = _Inference().infer(graph, _key(input_shapes))
    messages = [p("") for p in problems]
    if diagnostics is not None:
        diagnostics.extend(messages)
    elif messages:
        raise ShapeError(messages)
    return shapes


def infer_tree(graph: Graph, diagnostics: list[str] | None = None) -> dict[str, NodeShapes]:
    """Shapes of every node of the tree by dotted path (``"sub.lif"``), from one inference (each nested graph
    inferred once). Problems are appended to ``diagnostics`` (or the first raises :class:`ShapeError`)."""
    run = _Inference()
    _, problems = run.infer(graph, ())
    messages = [p("") for p in problems]
    if diagnostics is not None:
        diagnostics.extend(messages)
    elif messages:
        raise ShapeError(messages)
    out: dict[str, NodeShapes] = {}
    stack = [("", graph, ())]
    while stack:
        path, g, key = stack.pop()
        _, shapes, _, sub_keys = run.memo[(id(g), key)]
        for name, node in g.nodes.items():
            out[path + name] = shapes[name]
            if _nested(node):
                stack.append((f"{path}{name}.", node, sub_keys.get(name, ())))
    return out


def _key(input_shapes: dict[str, Shape | None] | None) -> tuple:
    return tuple(sorted((k, tuple(v)) for k, v in (input_shapes or {}).items() if v is not None))


class _Inference:
    """One inference run: memoises nested graphs by (identity, port shapes)."""

    def __init__(self) -> None:
        self.memo: dict[tuple[int, tuple], tuple[Graph, dict[str, NodeShapes], list[Problem], dict]] = {}

    def infer(self, graph: Graph, overrides: tuple) -> tuple[dict[str, NodeShapes], list[Problem]]:
        key = (id(graph), overrides)
        hit = self.memo.get(key)
        if hit is None:
            # the graph is kept in the entry so that its id cannot be reused while the memo lives
            hit = (graph, *self._infer(graph, dict(overrides)))
            self.memo[key] = hit
        return hit[1], hit[2]

    def _infer(self, graph: Graph, input_shapes: dict[str, Shape]) -> tuple[dict[str, NodeShapes], list[Problem], dict]:
        problems: list[Problem] = []
        nodes = graph.nodes
        edges = []  # (edge, (src, src_port), (dst, dst_port))
        for edge in graph.edges:
            try:
                src = graph.resolve(edge[0], as_source=True)
                dst = graph.resolve(edge[1], as_source=False)
            except DanglingEdgeError as e:
                problems.append(lambda p, edge=edge, e=e: f"edge {p}{edge[0]} -> {p}{edge[1]}: {e}")
                continue
            edges.append((edge, src, dst))
        incoming: dict[str, list[int]] = {name: [] for name in nodes}
        outgoing: dict[str, list[int]] = {name: [] for name in nodes}
        for i, (_, src, dst) in enumerate(edges):
            incoming[dst[0]].append(i)
            outgoing[src[0]].append(i)
        first_input = {name: next(iter(n.inputs), None) for name, n in nodes.items() if _nested(n)}

        out: dict[str, Shape | None] = {}
        ports: dict[str, dict[str, Shape | None]] = {}
        ins: dict[str, Shape | None] = {}
        failure: dict[str, str] = {}  # node -> why output_shape failed, at its last evaluation
        sub_key: dict[str, tuple] = {}

        def source_shape(src: tuple[str, str | None]) -> Shape | None:
            name, port = src
            if port is not None:
                return ports.get(name, {}).get(port)
            return out.get(name)

        def expected_input(name: str) -> Shape | None:
            if input_shapes.get(name) is not None:
                return tuple(input_shapes[name])
            declared = nodes[name].declared_input_shape()
            if declared is not None:
                return declared
            for i in incoming[name]:
                shape = source_shape(edges[i][1])
                if shape is not None:
                    return shape
            return None

        def port_overrides(name: str, sub: Graph) -> tuple:
            # a nested Input that declares its shape keeps it (a mismatch is reported on the edge above);
            # ports without a declared shape take what arrives
            shapes: dict[str, Shape] = {}
            sub_inputs = sub.inputs
            for i in incoming[name]:
                _, src, dst = edges[i]
                port = dst[1] if dst[1] is not None else first_input[name]
                shape = source_shape(src)
                if port is None or shape is None or port in shapes:
                    continue
                if port in sub_inputs and sub_inputs[port].declared_input_shape() is None:
                    shapes[port] = shape
            return _key(shapes)

        def evaluate(name: str) -> bool:
            node = nodes[name]
            new_ports = None
            if _nested(node):
                sub_key[name] = port_overrides(name, node)
                sub_shapes, _ = self.infer(node, sub_key[name])
                new_ports = {o: sub_shapes[o].output for o in node.outputs}
                new_out = next(iter(new_ports.values())) if len(new_ports) == 1 else None
                in_shape = node.declared_input_shape()
            else:
                in_shape = expected_input(name)
                try:
                    new_out = node.output_shape(in_shape)
                    failure.pop(name, None)
                except _SHAPE_ERRORS as e:
                    new_out = None  # reported once, with the node's name, below
                    failure[name] = str(e) or type(e).__name__
            changed = new_out != out.get(name) or in_shape != ins.get(name) or (
                new_ports is not None and new_ports != ports.get(name)
            )
            out[name], ins[name] = new_out, in_shape
            if new_ports is not None:
                ports[name] = new_ports
            return changed

        budget = {name: 2 * len(incoming[name]) + 3 for name in nodes}
        work = deque(_order(nodes, edges, incoming, outgoing))
        queued = set(nodes)
        while work:
            name = work.popleft()
            queued.discard(name)
            if budget[name] <= 0:
                continue
            budget[name] -= 1
            if evaluate(name):
                for i in outgoing[name]:
                    target = edges[i][2][0]
                    if target not in queued and budget[target] > 0:
                        queued.add(target)
                        work.append(target)

        # Report, deterministically: node-level failures (nested graphs' own problems at their place in
        # node order), then per-edge disagreements.
        for name, node in nodes.items():
            if _nested(node):
                _, sub_problems = self.infer(node, sub_key.get(name, ()))
                problems.extend(lambda p, f=f, name=name: f(f"{p}{name}.") for f in sub_problems)
            elif name in failure:
                problems.append(
                    lambda p, name=name, node=node, why=failure[name]: f"node {p}{name} ({node.kind}): {why}"
                )
        for edge, src, dst in edges:
            produced = source_shape(src)
            target = nodes[dst[0]]
            if _nested(target):
                port = dst[1] or first_input[dst[0]]
                sub_inputs = target.inputs
                expected = sub_inputs[port].declared_input_shape() if port in sub_inputs else None
            else:
                expected = ins.get(dst[0])
            if produced is not None and expected is not None and tuple(produced) != tuple(expected):
                problems.append(
                    lambda p, edge=edge, s=src[0], d=dst[0], a=produced, b=expected: (
                        f"edge {p}{edge[0]} -> {p}{edge[1]}: {p}{s} produces {fmt_shape(a)}, "
                        f"{p}{d} expects {fmt_shape(b)}"
                    )
                )
        shapes = {
            name: NodeShapes(ins.get(name), out.get(name), ports.get(name) if name in ports else None)
            for name in nodes
        }
        return shapes, problems, sub_key


def _order(nodes, edges, incoming, outgoing) -> list[str]:
    """Node names, sources before targets where the edges allow (Kahn's algorithm); when only cycles are
    left, the first remaining node in node order goes next. Linear in nodes + edges."""
    pending = {name: len(incoming[name]) for name in nodes}
    names = list(nodes)
    done: set[str] = set()
    order: list[str] = []
    ready = deque(n for n in names if pending[n] == 0)
    cursor = 0
    while len(order) < len(names):
        if not ready:
            while names[cursor] in done:
                cursor += 1
            ready.append(names[cursor])
        name = ready.popleft()
        if name in done:
            continue
        done.add(name)
        order.append(name)
        for i in outgoing[name]:
            target = edges[i][2][0]
            pending[target] -= 1
            if pending[target] == 0 and target not in done:
                ready.append(target)
    return order
