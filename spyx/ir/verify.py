"""``verify(graph)``: one check of every invariant a graph must satisfy before it is saved or executed.

Diagnostics name the node (``node lif1 (LIF): ...``) or the edge (``edge lif1 -> fc2: ...``); nested graphs
prefix their node names with the graph's path (``lif1.lin``). :func:`diagnose` returns the list;
:func:`verify` raises :class:`VerifyError` (or its subclass for the first problem's category) with all of them.

Order and cost: structure first (edges, ports, each node's own parameters, nesting depth), over the whole
tree; if that is sound, shape inference once for the whole tree (:func:`spyx.ir.infer_shapes`, linear in
the graph, each nested graph inferred once), then sizes against the memory budget, then algebraic loops.
Every step is linear in nodes + edges.

Limits: graphs nest at most :data:`MAX_DEPTH` levels; every signal, every population's state, and all
populations' state together must fit in ``max_bytes`` (default :data:`MAX_BYTES`, 2 GiB) per sample at
float32 (4 bytes per value; a batch of B needs B times as much).
"""

from __future__ import annotations

import math

from spyx.errors import CycleError, ParameterError, ShapeError, SizeError, VerifyError
from spyx.limits import MAX_BYTES, MAX_DEPTH
from spyx.ir.algorithms import cycles_without_state
from spyx.ir.graph import Graph
from spyx.ir.ports import Input, Output
from spyx.ir.shapes import fmt_shape, infer_tree
from spyx.ir.traits import Population

__all__ = ["verify", "diagnose", "MAX_BYTES", "MAX_DEPTH", "graph_depth"]

_VALUE_BYTES = 4  # float32


def _state_values(node) -> int:
    """Values of state per element: a population says (membrane, synaptic current, ...); other stateful
    nodes keep one (a delay line's slot per step is counted by its kernel, not here)."""
    pop = node.trait(Population)
    return pop.state_values(node) if pop is not None else 1


def graph_depth(graph: Graph) -> int:
    """How many graphs deep ``graph`` nests (1: no nested graph). Iterative, so any depth is measured."""
    deepest, stack = 0, [(graph, 1)]
    while stack:
        g, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((n, depth + 1) for n in g.nodes.values() if isinstance(n, Graph))
    return deepest


def diagnose(graph: Graph, prefix: str = "", *, max_bytes: int = MAX_BYTES) -> list[tuple[str, str]]:
    """(category, message) for every problem; categories: edge, param, shape, size, cycle, port, depth."""
    depth = graph_depth(graph)
    if depth > MAX_DEPTH:
        return [("depth", f"graph {prefix or '<top>'} nests {depth} graphs deep; spyx supports at most "
                          f"{MAX_DEPTH} levels (spyx.ir.verify.MAX_DEPTH)")]
    found: list[tuple[str, str]] = []
    _structure(graph, prefix, found)
    if any(c in ("edge", "param") for c, _ in found):
        return found  # shapes of broken nodes or edges would only repeat the same problems
    shape_problems: list[str] = []
    shapes = infer_tree(graph, shape_problems)
    found.extend(("shape", _prefixed(p, prefix)) for p in shape_problems)
    found.extend(("size", m) for m in _sizes(graph, shapes, prefix, max_bytes))
    _cycles(graph, prefix, found)
    return found


def _prefixed(message: str, prefix: str) -> str:
    if not prefix:
        return message
    for head in ("edge ", "node "):
        if message.startswith(head):
            rest = message[len(head):]
            if head == "edge ":
                a, _, tail = rest.partition(" -> ")
                b, _, why = tail.partition(": ")
                return f"edge {prefix}{a} -> {prefix}{b}: {why}"
            return f"node {prefix}{rest}"
    return message


def _structure(graph: Graph, prefix: str, found: list[tuple[str, str]]) -> None:
    names = graph.nodes
    broken = False
    targets: set[str] = set()
    for a, b in graph.edges:
        ends = []
        for end, role in ((a, "source"), (b, "target")):
            try:
                ends.append(graph.resolve(end, as_source=role == "source")[0])
            except Exception:
                found.append(("edge", f"edge {prefix}{a} -> {prefix}{b}: {role} {end!r} names no node"))
        if len(ends) < 2:
            broken = True
            continue
        src, dst = ends
        targets.add(dst)
        if isinstance(names[dst], Input):
            found.append(("edge", f"edge {prefix}{a} -> {prefix}{b}: an Input node cannot receive edges"))
        if isinstance(names[src], Output):
            found.append(("edge", f"edge {prefix}{a} -> {prefix}{b}: an Output node cannot send edges"))
    inputs, outputs = graph.inputs, graph.outputs
    if not inputs:
        found.append(("port", f"graph {prefix or '<top>'} has no Input node"))
    if not outputs:
        found.append(("port", f"graph {prefix or '<top>'} has no Output node"))
    if not broken:
        for name in outputs:
            if name not in targets:
                found.append(("port", f"node {prefix}{name} (Output): no edge reaches this output"))
    for name, node in names.items():
        if isinstance(node, Graph):
            _structure(node, f"{prefix}{name}.", found)
            continue
        for problem in node.check():
            found.append(("param", f"node {prefix}{name} ({node.kind}): {problem}"))


def _sizes(graph: Graph, shapes: dict, prefix: str, max_bytes: int) -> list[str]:
    problems: list[str] = []
    total = 0
    budget = f"the memory budget of {max_bytes} bytes (max_bytes=)"
    for path, node in graph.walk():
        if isinstance(node, Graph) or path not in shapes:
            continue
        out = shapes[path].output
        if out is None:
            continue
        values = math.prod(int(d) for d in out)
        signal = values * _VALUE_BYTES
        if signal > max_bytes:
            problems.append(
                f"node {prefix}{path} ({node.kind}): its output {fmt_shape(out)} takes {signal} bytes per sample "
                f"at float32, more than {budget}"
            )
            continue
        if node.stateful:
            state = values * _state_values(node) * _VALUE_BYTES
            total += state
            if state > max_bytes:
                problems.append(
                    f"node {prefix}{path} ({node.kind}): a population of {fmt_shape(out)} = {values} neurons "
                    f"needs {state} bytes of state per sample at float32, more than {budget}"
                )
    if not problems and total > max_bytes:
        problems.append(f"graph {prefix or '<top>'}: its populations need {total} bytes of state per sample at "
                        f"float32 together, more than {budget}")
    return problems


def _cycles(graph: Graph, prefix: str, found: list[tuple[str, str]]) -> None:
    stack = [(graph, prefix)]
    while stack:
        g, p = stack.pop()
        for comp in cycles_without_state(g) if _may_loop(g) else ():
            loop = " -> ".join(p + n for n in comp)
            found.append(("cycle", f"cycle {loop}: passes through no stateful node (an algebraic loop)"))
        stack.extend((n, f"{p}{name}.") for name, n in reversed(list(g.nodes.items())) if isinstance(n, Graph))


def _may_loop(graph: Graph) -> bool:
    """Whether the stateless nodes of ``graph`` (not inside nested graphs) have a cycle: Kahn's algorithm,
    linear; only then is networkx asked for the loops themselves (it is slow on big graphs)."""
    stateless = {n for n, node in graph.nodes.items() if not node.stateful}
    succ: dict[str, list[str]] = {n: [] for n in stateless}
    pending = dict.fromkeys(stateless, 0)
    for edge in graph.edges:
        a, b = graph.edge_nodes(edge)
        if a in stateless and b in stateless:
            succ[a].append(b)
            pending[b] += 1
    ready = [n for n, k in pending.items() if k == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for m in succ[n]:
            pending[m] -= 1
            if pending[m] == 0:
                ready.append(m)
    return seen < len(stateless)


_ERRORS = {"shape": ShapeError, "param": ParameterError, "cycle": CycleError, "size": SizeError}


def verify(graph: Graph, *, max_bytes: int = MAX_BYTES) -> Graph:
    """Raise :class:`VerifyError` listing every problem; return the graph unchanged when it is valid.

    ``max_bytes``: the memory budget per sample (see the module docstring); :class:`SizeError` names the
    node and the number of bytes when a signal or a population's state would exceed it.
    """
    found = diagnose(graph, max_bytes=max_bytes)
    if found:
        raise _ERRORS.get(found[0][0], VerifyError)([m for _, m in found])
    return graph
