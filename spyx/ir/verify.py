"""``verify(graph)``: one check of every invariant a graph must satisfy before it is saved or executed.

Diagnostics name the node (``node lif1 (LIF): ...``) or the edge (``edge lif1 -> fc2: ...``); nested graphs
prefix their node names with the graph's path (``lif1.lin``). :func:`diagnose` returns the list;
:func:`verify` raises :class:`VerifyError` (or its subclass for the first problem's category) with all of them.
"""

from __future__ import annotations

from spyx.errors import CycleError, ParameterError, ShapeError, VerifyError
from spyx.ir.algorithms import cycles_without_state
from spyx.ir.graph import Graph
from spyx.ir.ports import Input, Output
from spyx.ir.shapes import infer_shapes

__all__ = ["verify", "diagnose"]


def diagnose(graph: Graph, prefix: str = "") -> list[tuple[str, str]]:
    """(category, message) for every problem; categories: edge, param, shape, cycle, port."""
    found: list[tuple[str, str]] = []
    names = graph.nodes
    for a, b in graph.edges:
        bad = False
        for end, role in ((a, "source"), (b, "target")):
            try:
                graph.resolve(end, as_source=role == "source")
            except Exception:
                found.append(("edge", f"edge {prefix}{a} -> {prefix}{b}: {role} {end!r} names no node"))
                bad = True
        if bad:
            continue
        src, dst = graph.edge_nodes((a, b))
        if isinstance(names[dst], Input):
            found.append(("edge", f"edge {prefix}{a} -> {prefix}{b}: an Input node cannot receive edges"))
        if isinstance(names[src], Output):
            found.append(("edge", f"edge {prefix}{a} -> {prefix}{b}: an Output node cannot send edges"))
    if not graph.inputs:
        found.append(("port", f"graph {prefix or '<top>'} has no Input node"))
    if not graph.outputs:
        found.append(("port", f"graph {prefix or '<top>'} has no Output node"))
    if not any(c == "edge" for c, _ in found):
        targets = {graph.edge_nodes(e)[1] for e in graph.edges}
        for name in graph.outputs:
            if name not in targets:
                found.append(("port", f"node {prefix}{name} (Output): no edge reaches this output"))
    for name, node in names.items():
        if isinstance(node, Graph):
            found.extend(diagnose(node, f"{prefix}{name}."))
            continue
        for problem in node.check():
            found.append(("param", f"node {prefix}{name} ({node.kind}): {problem}"))
    if any(c in ("edge", "param") for c, _ in found):
        return found  # shapes of broken nodes or edges would only repeat the same problems
    shape_problems: list[str] = []
    infer_shapes(graph, diagnostics=shape_problems)
    if prefix:
        shape_problems = [
            p.replace("edge ", f"edge {prefix}", 1).replace("node ", f"node {prefix}", 1) for p in shape_problems
        ]
    found.extend(("shape", p) for p in shape_problems)
    for comp in cycles_without_state(graph):
        loop = " -> ".join(prefix + n for n in comp)
        found.append(("cycle", f"cycle {loop}: passes through no stateful node (an algebraic loop)"))
    return found


_ERRORS = {"shape": ShapeError, "param": ParameterError, "cycle": CycleError}


def verify(graph: Graph) -> Graph:
    """Raise :class:`VerifyError` listing every problem; return the graph unchanged when it is valid."""
    found = diagnose(graph)
    if found:
        raise _ERRORS.get(found[0][0], VerifyError)([m for _, m in found])
    return graph
