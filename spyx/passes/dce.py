"""``dce``: remove nodes from which no Output can be reached (preserves: exact).

Input nodes always stay (they are the graph's interface). Nested graphs are cleaned recursively.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from spyx.ir.algorithms import to_networkx
from spyx.ir.graph import Graph
from spyx.ir.ports import Input
from spyx.passes.base import Pass, PassResult


def dce_graph(graph: Graph, prefix: str = "") -> tuple[Graph, list[str]]:
    changes: list[str] = []
    nodes = dict(graph.nodes)
    for name, node in graph.nodes.items():
        if isinstance(node, Graph):
            new, sub_changes = dce_graph(node, f"{prefix}{name}.")
            if new is not node:
                nodes[name] = new
                changes.extend(sub_changes)
    g = to_networkx(graph)
    live: set[str] = set()
    for out in graph.outputs:
        live |= nx.ancestors(g, out) | {out}
    dead = [n for n in graph.nodes if n not in live and not isinstance(graph.nodes[n], Input)]
    if not dead and not changes:
        return graph, []
    for n in dead:
        changes.append(f"removed {prefix}{n} ({graph.nodes[n].kind})")
        del nodes[n]
    edges = tuple(e for e in graph.edges if not set(graph.edge_nodes(e)) & set(dead))
    return Graph(nodes=nodes, edges=edges, metadata=graph.metadata), changes


@dataclass(frozen=True, kw_only=True)
class DeadCodeElimination(Pass):
    """Remove nodes that cannot reach an output."""

    name = "dce"
    description = "remove nodes from which no output can be reached"
    preserves = "exact"

    def call(self, graph: Graph) -> PassResult:
        new, changes = dce_graph(graph)
        return PassResult(new, new is not graph, tuple(changes))
