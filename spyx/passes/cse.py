"""``cse``: merge identical stateless nodes that read identical inputs (preserves: exact).

Two nodes are merged when they are of one stateless kind (not a port, not a nested graph), equal in every
parameter, option and metadata entry, and fed by the same multiset of edge sources. The later one (in node
order) is removed and its consumers read the earlier one. A merge that would put two parallel edges between
the same pair of nodes is skipped (edges into a node are summed, so the merged edge would have to count
twice) and noted. Repeats until nothing merges, so identical chains collapse. Top level only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from spyx.ir.graph import Graph
from spyx.ir.ports import Input, Output
from spyx.passes.base import Pass, PassResult
from spyx.passes.weights import nested_note

__all__ = ["CommonSubexpressionElimination"]


def _candidates(graph: Graph) -> list[str]:
    return [
        n
        for n, node in graph.nodes.items()
        if not node.stateful and not isinstance(node, Graph | Input | Output)
    ]


@dataclass(frozen=True, kw_only=True)
class CommonSubexpressionElimination(Pass):
    """Merge identical stateless nodes with identical inputs."""

    name = "cse"
    description = "merge identical stateless nodes that read identical inputs"
    preserves = "exact"

    def _merge_one(self, graph: Graph, notes: list[str]) -> tuple[Graph, str] | None:
        sources = {n: Counter() for n in graph.nodes}
        for a, b in graph.edges:
            sources[graph.edge_nodes((a, b))[1]][a] += 1
        names = _candidates(graph)
        for i, keep in enumerate(names):
            for drop in names[i + 1 :]:
                if (
                    sources[keep] != sources[drop]
                    or not sources[keep]
                    or graph.nodes[keep] != graph.nodes[drop]
                ):
                    continue
                rewired = [
                    (keep if graph.edge_nodes((a, b))[0] == drop else a, b)
                    for a, b in graph.edges
                    if graph.edge_nodes((a, b))[1] != drop
                ]
                if len(rewired) - len(set(rewired)) > len(graph.edges) - len(set(graph.edges)):
                    note = f"kept {drop}: merging it into {keep} would make parallel edges"
                    if note not in notes:
                        notes.append(note)
                    continue
                nodes = {k: v for k, v in graph.nodes.items() if k != drop}
                return Graph(
                    nodes=nodes, edges=tuple(rewired), metadata=graph.metadata
                ), f"merged {drop} into {keep} ({graph.nodes[keep].kind})"
        return None

    def call(self, graph: Graph) -> PassResult:
        changes: list[str] = []
        notes: list[str] = nested_note(graph)
        while (step := self._merge_one(graph, notes)) is not None:
            graph, line = step
            changes.append(line)
        return PassResult(graph, bool(changes), tuple(changes), tuple(notes))
