"""``inline``: flatten nested graphs into their parent (preserves: exact).

A nested graph ``sub`` is replaced by its inner nodes, named ``sub.<inner>``; if such a name is already
taken, ``sub.<inner>_1``, ``_2``, ... (deterministic). The nested graph's Input and Output nodes disappear:
every edge into port ``p`` of ``sub`` is connected to every successor of ``sub``'s Input ``p``, and every
edge out of port ``q`` comes from every predecessor of ``sub``'s Output ``q``. Deeper graphs are flattened
first, so one run flattens everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.ports import Input, Output
from spyx.passes.base import Pass, PassResult


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    i = 1
    while f"{name}_{i}" in taken:
        i += 1
    return f"{name}_{i}"


def inline_graph(graph: Graph) -> tuple[Graph, list[str]]:
    changes: list[str] = []
    nodes: dict[str, Node] = {}
    # Names of every top-level node stay; inner nodes get prefixed names that avoid them.
    taken = set(graph.nodes)
    # For each nested graph: port -> list of inner (renamed) targets / sources.
    entry: dict[str, dict[str, list[str]]] = {}
    exit_: dict[str, dict[str, list[str]]] = {}
    inner_edges: list[tuple[str, str]] = []
    for name, node in graph.nodes.items():
        if not isinstance(node, Graph):
            nodes[name] = node
            continue
        sub, sub_changes = inline_graph(node)
        changes.extend(f"{name}.{c}" for c in sub_changes)
        rename: dict[str, str] = {}
        for inner, inner_node in sub.nodes.items():
            if isinstance(inner_node, Input | Output):
                continue
            new = _unique(f"{name}.{inner}", taken)
            taken.add(new)
            rename[inner] = new
            nodes[new] = inner_node
        entry[name] = {p: [] for p in sub.inputs}
        exit_[name] = {q: [] for q in sub.outputs}
        passthrough: list[tuple[str, str]] = []
        for edge in sub.edges:
            a, b = sub.edge_nodes(edge)
            if a in sub.inputs and b in sub.outputs:
                passthrough.append((a, b))
            elif a in sub.inputs:
                entry[name][a].append(rename[b])
            elif b in sub.outputs:
                exit_[name][b].append(rename[a])
            else:
                inner_edges.append((rename[a], rename[b]))
        for p, q in passthrough:
            exit_[name][q].append(f"\0{name}\0{p}")  # resolved below to the outer sources of port p
        changes.append(f"inlined {name} ({len(rename)} nodes)")
    if not entry:
        return graph, []

    def targets(endpoint: str) -> list[str]:
        node, port = graph.resolve(endpoint, as_source=False)
        if node not in entry:
            return [node]
        port = port or next(iter(entry[node]))
        return entry[node][port]

    def sources(endpoint: str) -> list[str]:
        node, port = graph.resolve(endpoint, as_source=True)
        if node not in exit_:
            return [node]
        port = port or next(iter(exit_[node]))
        return exit_[node][port]

    incoming: dict[tuple[str, str], list[str]] = {}
    for a, b in graph.edges:
        node, port = graph.resolve(b, as_source=False)
        if node in entry:
            incoming.setdefault((node, port or next(iter(entry[node]))), []).extend(sources(a))
    edges: list[tuple[str, str]] = []
    for a, b in graph.edges:
        for s in sources(a):
            if s.startswith("\0"):
                _, sub_name, port = s.split("\0")
                srcs = incoming.get((sub_name, port), [])
            else:
                srcs = [s]
            for src in srcs:
                for t in targets(b):
                    edges.append((src, t))
    edges.extend(inner_edges)
    # Keep a stable, duplicate-free edge list.
    seen: set[tuple[str, str]] = set()
    unique = [e for e in edges if not (e in seen or seen.add(e))]
    return Graph(nodes=nodes, edges=tuple(unique), metadata=graph.metadata), changes


@dataclass(frozen=True, kw_only=True)
class Inline(Pass):
    """Flatten every nested graph into its parent."""

    name = "inline"
    description = "flatten nested graphs into their parent, with unique deterministic names"
    preserves = "exact"

    def call(self, graph: Graph) -> PassResult:
        new, changes = inline_graph(graph)
        return PassResult(new, new is not graph, tuple(changes))
