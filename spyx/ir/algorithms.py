"""Graph algorithms on networkx: topological order, strongly connected components, feedback edges.

Feedback edges define the time semantics of cycles, so the rule is fixed and documented here and in
``docs/semantics.md``:

* Every cycle must pass through a stateful node (``verify`` checks it).
* Candidate edges to cut are the edges inside a strongly connected component that leave a stateful node.
  Edges leaving a *causal* node (a delay of at least one step, whose output at step t does not depend on its
  input at step t) are preferred: cutting them adds no latency. Cutting any other edge means it carries the
  value its source produced in the *previous* step (zero at t = 0).
* Start with every candidate cut; then, in order (non-causal before causal, then by source and target
  name), restore each candidate whose restoration keeps the component acyclic. What stays cut is the
  feedback set: minimal, deterministic, and made of edges that leave stateful nodes only.

For a recurrent layer ``fc -> lif -> w_rec -> lif`` the feedback edge is ``lif -> w_rec``: the recurrent
Affine sees the previous step's spikes (its bias enters alone at t = 0), as snnTorch and nirtorch compute.
"""

from __future__ import annotations

import networkx as nx

from spyx.ir.graph import Edge, Graph
from spyx.ir.node import Node
from spyx.ir.traits import Causal

__all__ = ["to_networkx", "sccs", "feedback_edges", "topological_order", "is_causal", "cycles_without_state"]


def is_causal(node: Node) -> bool:
    """True when the node's output at step t does not depend on its input at step t: a :class:`Causal`
    node whose minimum delay is above zero (a Shift of >= 1 step, a Delay of > 0 s)."""
    causal = node.trait(Causal)
    return causal is not None and causal.is_causal(node)


def to_networkx(graph: Graph) -> nx.MultiDiGraph:
    """Node names as networkx nodes (with ``node`` attributes), one networkx edge per IR edge (``edge`` attr)."""
    g = nx.MultiDiGraph()
    for name, node in graph.nodes.items():
        g.add_node(name, node=node)
    for edge in graph.edges:
        a, b = graph.edge_nodes(edge)
        g.add_edge(a, b, edge=edge)
    return g


def sccs(graph: Graph) -> list[list[str]]:
    """Strongly connected components that contain a cycle (size > 1 or a self-loop), names sorted."""
    g = to_networkx(graph)
    out = []
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1 or any(g.has_edge(n, n) for n in comp):
            out.append(sorted(comp))
    return sorted(out)


def cycles_without_state(graph: Graph) -> list[list[str]]:
    """Cycles made of stateless nodes only (algebraic loops): the SCCs of the stateless subgraph."""
    g = to_networkx(graph)
    stateless = [n for n in g.nodes if not graph.nodes[n].stateful]
    sub = g.subgraph(stateless)
    out = []
    for comp in nx.strongly_connected_components(sub):
        if len(comp) > 1 or any(sub.has_edge(n, n) for n in comp):
            out.append(sorted(comp))
    return sorted(out)


def feedback_edges(graph: Graph) -> list[Edge]:
    """The edges that close cycles, chosen by the rule in this module's docstring, in a stable order."""
    g = to_networkx(graph)
    cut: list[Edge] = []
    for comp in sccs(graph):
        members = set(comp)
        inside = [
            (a, b, d["edge"]) for a, b, d in g.edges(data=True) if a in members and b in members
        ]
        candidates = [t for t in inside if graph.nodes[t[0]].stateful]
        candidates.sort(key=lambda t: (is_causal(graph.nodes[t[0]]), t[0], t[1], t[2]))
        cut_set = {t[2] for t in candidates}
        kept = nx.DiGraph()
        kept.add_nodes_from(members)
        kept.add_edges_from((a, b) for a, b, e in inside if e not in cut_set)
        for a, b, e in candidates:
            kept.add_edge(a, b)
            if nx.is_directed_acyclic_graph(kept):
                cut_set.discard(e)
            elif not any(
                (a, b) == (x, y) and ed not in cut_set for x, y, ed in inside if ed != e
            ):
                kept.remove_edge(a, b)
        cut.extend(e for e in graph.edges if e in cut_set and e not in cut)
    return [e for e in graph.edges if e in set(cut)]


def topological_order(graph: Graph, feedback: list[Edge] | None = None) -> list[str]:
    """Node names in an order where every non-feedback edge goes forward; ties broken by the graph's order."""
    fb = set(feedback_edges(graph) if feedback is None else feedback)
    g = nx.DiGraph()
    index = {n: i for i, n in enumerate(graph.nodes)}
    g.add_nodes_from(graph.nodes)
    for edge in graph.edges:
        if edge not in fb:
            g.add_edge(*graph.edge_nodes(edge))
    return list(nx.lexicographical_topological_sort(g, key=lambda n: index[n]))
