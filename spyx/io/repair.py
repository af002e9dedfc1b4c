"""Dangling edges: find them, and repair the unambiguous ones.

An edge endpoint *dangles* when it names no node of its (sub)graph (nor a ``sub.port`` of a nested graph).
Some exporters rename a node but not the edges (the Braille subgraph file stores ``lif1`` and its edges say
``lif``). The repair rule, applied per (sub)graph and per missing name ``m``:

1. candidates are the nodes ``n`` of that graph, other than ``Input``/``Output`` ports, whose name starts
   with ``m`` or is a prefix of ``m`` (``lif`` -> ``lif1``, ``lif1`` -> ``lif``);
2. that have no edge, among the edges that do resolve, in a role ``m`` plays (if ``m`` is used as a source,
   ``n`` must have no outgoing edge; if as a target, no incoming edge): a node that is already wired on
   that side is not the one the broken edges meant;
3. exactly one candidate must remain, and no two missing names may map to the same node.

Then every occurrence of ``m`` in that graph's edges is renamed to ``n``, and the change is reported.
Anything else (no candidate, several) stays a :class:`~spyx.errors.DanglingEdgeError` listing what was found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spyx.errors import DanglingEdgeError
from spyx.ir.graph import Edge, Graph
from spyx.ir.node import Node
from spyx.ir.ports import Input, Output

__all__ = ["dangling_endpoints", "repair_edges"]


def dangling_endpoints(nodes: Mapping[str, Node], edges: Sequence[Edge]) -> list[tuple[Edge, str, str]]:
    """(edge, missing endpoint, "source"|"target") for every endpoint that names nothing, in edge order."""
    probe = Graph(nodes=nodes, edges=())
    found = []
    for edge in edges:
        for end, role in ((edge[0], "source"), (edge[1], "target")):
            try:
                probe.resolve(end, as_source=role == "source")
            except DanglingEdgeError:
                found.append((edge, end, role))
    return found


def dangling_message(source: str, where: str, nodes: Mapping[str, Node], edge: Edge, missing: str) -> str:
    scope = f"subgraph {where}" if where else "the top graph"
    return (
        f"{source}: edge {edge[0]} -> {edge[1]} in {scope} names node {missing!r}, which does not exist "
        f"(nodes: {', '.join(nodes)})"
    )


def repair_edges(
    source: str, where: str, nodes: Mapping[str, Node], edges: Sequence[Edge]
) -> tuple[tuple[Edge, ...], list[str]]:
    """Edges with every dangling endpoint renamed by the rule above, and one report line per rename."""
    dangling = dangling_endpoints(nodes, edges)
    bad_edges = {e for e, _, _ in dangling}
    good = Graph(nodes=nodes, edges=tuple(e for e in edges if e not in bad_edges))
    wired = {
        "source": {good.edge_nodes(e)[0] for e in good.edges},
        "target": {good.edge_nodes(e)[1] for e in good.edges},
    }
    roles: dict[str, set[str]] = {}
    first_edge: dict[str, Edge] = {}
    for edge, missing, role in dangling:
        roles.setdefault(missing, set()).add(role)
        first_edge.setdefault(missing, edge)

    mapping: dict[str, str] = {}
    for missing, used_as in roles.items():
        candidates = [
            n
            for n, node in nodes.items()
            if not isinstance(node, Input | Output)
            and (n.startswith(missing) or missing.startswith(n))
            and not any(n in wired[r] for r in used_as)
        ]
        base = dangling_message(source, where, nodes, first_edge[missing], missing)
        if len(candidates) != 1:
            why = f"candidates {', '.join(candidates)}" if candidates else "no candidate"
            raise DanglingEdgeError(
                f"{base}; cannot repair: {why} (rule: a non-port node whose name starts with or is a prefix "
                f"of {missing!r} and has no {' or '.join(sorted(used_as))} edges of its own); "
                "fix the file's edges"
            )
        mapping[missing] = candidates[0]
    taken = [n for n in mapping.values()]
    for n in set(taken):
        if taken.count(n) > 1:
            names = sorted(m for m, c in mapping.items() if c == n)
            raise DanglingEdgeError(
                f"{dangling_message(source, where, nodes, first_edge[names[0]], names[0])}; cannot repair: "
                f"missing names {', '.join(names)} would all become {n!r}"
            )

    fixed = tuple((mapping.get(a, a), mapping.get(b, b)) for a, b in edges)
    scope = where or "<top>"
    lines = []
    for missing, target in mapping.items():
        changed = [f"{a} -> {b}" for a, b in edges if missing in (a, b)]
        lines.append(
            f"{scope}: edge endpoint {missing!r} names no node; renamed to {target!r}, the only non-port "
            f"node whose name matches it and has no such edges ({len(changed)} edges: {', '.join(changed)})"
        )
    return fixed, lines
