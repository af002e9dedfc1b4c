"""``reorder{rename=false}``: a canonical, deterministic order of nodes and edges (preserves: structure),
and with ``rename=true`` canonical node names, so that two exports of the same network compare equal.

Order: topological with the graph's feedback edges cut (:func:`spyx.ir.algorithms.feedback_edges`). Among
the nodes that are ready at a point, the next one is chosen by, in turn: whether it waits for a feedback edge
from a node not yet placed (those go last, so a recurrent weight follows the feed-forward inputs of its
neuron), the sorted positions of its (non-feedback) predecessors, its kind, a CRC of its parameters and
options, and last its name. Only the name depends on how the graph was built, so graphs that differ in
insertion order or names get the same order unless two ready nodes are identical in kind, parameters and
inputs. Edges follow, sorted by the positions of their source and target nodes. Nested graphs are ordered
(and renamed) recursively.

Names (``rename=true``): ``input``/``output`` when a graph has one of them, ``input0``, ``input1``, ... when
it has several; every other node ``<prefix><n>`` with ``n`` counting per prefix in the canonical order:
``fc`` (Affine), ``linear``, ``scale``, ``conv`` (Conv1d/2d), ``lif``, ``if``, ``li``, ``i``, ``cubalif``,
``cubali``, ``neuron`` (spyx.Neuron), ``shift``, ``delay``, ``flatten``, ``threshold``, ``sumpool``,
``avgpool`` and ``sub`` (nested graphs). Feedback edges are chosen by name, so a renaming that would change
which edge of a cycle is cut (possible only when a cycle holds two stateful nodes) is refused.

:func:`rekey_params` maps a trained parameter tree back to the keys of a reference tree (Spyx 1.0's
``reorder_layers`` use case).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from spyx.errors import ParameterError, UnsupportedError
from spyx.ir.algorithms import feedback_edges
from spyx.ir.graph import Edge, Graph
from spyx.ir.node import Node, registered_kinds
from spyx.ir.text import to_text
from spyx.passes.base import Pass, PassResult

__all__ = ["Reorder", "reorder_graph", "rekey_params", "PREFIXES", "prefix_of"]


def prefix_of(node: Node) -> str:
    """The name stem of a node: its kind's declared ``prefix``, else the kind's last dotted part, lower case
    (``Affine`` -> ``fc``, ``spyx.Neuron`` -> ``neuron``)."""
    return node.prefix or node.kind.rsplit(".", 1)[-1].lower()


#: kind -> prefix of every registered kind (derived from the kinds' declarations, for reading)
PREFIXES: dict[str, str] = {k: c.prefix or k.rsplit(".", 1)[-1].lower() for k, c in registered_kinds().items()}


def _digest(node: Node) -> int:
    if isinstance(node, Graph):
        return zlib.crc32(to_text(reorder_graph(node, rename=True)[0]).encode())
    crc = zlib.crc32(node.kind.encode())
    for k in node.option_names():
        crc = zlib.crc32(repr(getattr(node, k)).encode(), crc)
    for k, arr in node.params().items():
        crc = zlib.crc32(f"{k}{arr.dtype}{arr.shape}".encode(), crc)
        crc = zlib.crc32(np.ascontiguousarray(arr).tobytes(), crc)
    return crc


def _order(graph: Graph, fb: list[Edge]) -> list[str]:
    cut = set(fb)
    preds: dict[str, list[str]] = {n: [] for n in graph.nodes}
    late: dict[str, set[str]] = {n: set() for n in graph.nodes}  # sources of feedback edges into n
    dag = nx.DiGraph()
    dag.add_nodes_from(graph.nodes)
    for e in graph.edges:
        a, b = graph.edge_nodes(e)
        if e in cut:
            late[b].add(a)
            continue
        preds[b].append(a)
        dag.add_edge(a, b)
    digest = {n: _digest(node) for n, node in graph.nodes.items()}
    waiting = {n: dag.in_degree(n) for n in graph.nodes}
    rank: dict[str, int] = {}
    ready = [n for n, d in waiting.items() if d == 0]
    while ready:
        key = lambda n: (  # noqa: E731
            bool(late[n] - rank.keys()),
            sorted(rank[p] for p in preds[n]),
            graph.nodes[n].kind,
            digest[n],
            n,
        )
        ready.sort(key=key)
        n = ready.pop(0)
        rank[n] = len(rank)
        for s in dag.successors(n):
            waiting[s] -= 1
            if waiting[s] == 0:
                ready.append(s)
    return sorted(rank, key=rank.__getitem__)


def _names(graph: Graph, order: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    counts: dict[str, int] = {}
    for port, group in (("input", graph.inputs), ("output", graph.outputs)):
        ports = [n for n in order if n in group]
        for i, n in enumerate(ports):
            names[n] = port if len(ports) == 1 else f"{port}{i}"
    for n in order:
        if n in names:
            continue
        prefix = prefix_of(graph.nodes[n])
        names[n] = f"{prefix}{counts.get(prefix, 0)}"
        counts[prefix] = counts.get(prefix, 0) + 1
    return names


def reorder_graph(graph: Graph, *, rename: bool = False) -> tuple[Graph, dict[str, str]]:
    """The canonically ordered (and renamed) graph and its renaming: node name -> new name, and for nodes
    of nested graphs dotted path -> new dotted path (``sub_a.lif1`` -> ``sub0.lif0``)."""
    fb = feedback_edges(graph)
    order = _order(graph, fb)
    names = _names(graph, order) if rename else {n: n for n in order}
    nodes: dict[str, Node] = {}
    port_names: dict[str, dict[str, str]] = {}
    nested: dict[str, str] = {}
    for n in order:
        node = graph.nodes[n]
        if isinstance(node, Graph):
            node, port_names[n] = reorder_graph(node, rename=rename)
            nested.update({f"{n}.{k}": f"{names[n]}.{v}" for k, v in port_names[n].items()})
        nodes[names[n]] = node

    def endpoint(text: str, as_source: bool) -> str:
        node, port = graph.resolve(text, as_source=as_source)
        return names[node] if port is None else f"{names[node]}.{port_names[node][port]}"

    rank = {n: i for i, n in enumerate(order)}
    keyed = []
    for a, b in graph.edges:
        sa, sb = graph.edge_nodes((a, b))
        keyed.append(((rank[sa], rank[sb], endpoint(a, True), endpoint(b, False)), (a, b)))
    keyed.sort(key=lambda t: t[0])
    edges = tuple((k[2], k[3]) for k, _ in keyed)
    new = Graph(nodes=nodes, edges=edges, metadata=graph.metadata)
    if rename:
        expected = sorted((endpoint(a, True), endpoint(b, False)) for a, b in fb)
        if sorted(feedback_edges(new)) != expected:
            raise UnsupportedError(
                f"reorder: renaming would change which edge of a cycle is the feedback edge "
                f"(was {', '.join(f'{a} -> {b}' for a, b in fb)}); reorder without rename=true"
            )
    return new, {**names, **nested}


@dataclass(frozen=True, kw_only=True)
class Reorder(Pass):
    """Canonical node and edge order; canonical names with rename=true."""

    name = "reorder"
    description = "canonical node and edge order (topological, feedback cut); rename=true: canonical names"
    preserves = "structure"

    rename: bool = False

    def call(self, graph: Graph) -> PassResult:
        new, names = reorder_graph(graph, rename=self.rename)
        same = (
            list(new.nodes) == list(graph.nodes)
            and new.edges == graph.edges
            and all(_same_nested(new.nodes[k], graph.nodes[k]) for k in new.nodes)
        )
        if same:
            return PassResult(graph, False)
        changes = [f"renamed {old} -> {new_name}" for old, new_name in names.items() if old != new_name]
        if list(new.nodes) != [names.get(n, n) for n in graph.nodes]:
            changes.append("nodes: " + ", ".join(new.nodes))
        if not changes:
            changes.append("edges or nested graphs reordered")
        return PassResult(new, True, tuple(changes))


def _same_nested(a: Node, b: Node) -> bool:
    if not isinstance(a, Graph):
        return True
    return (
        list(a.nodes) == list(b.nodes)
        and a.edges == b.edges
        and all(_same_nested(a.nodes[k], b.nodes[k]) for k in a.nodes)
    )


# -- parameter trees --------------------------------------------------------------------------------------
def _signature(tree: Any) -> tuple:
    import jax

    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return (str(treedef), tuple((tuple(np.shape(x)), str(np.asarray(x).dtype)) for x in leaves))


def rekey_params(trained: Mapping[str, Any], reference: Mapping[str, Any]) -> dict[str, Any]:
    """``trained`` re-keyed to the keys and key order of ``reference`` (e.g. the initial parameters).

    Keys present in both are matched by name; the rest by structure (tree structure, leaf shapes and
    dtypes). A structure shared by several unmatched keys is ambiguous and an error, as is any key or
    structure that has no partner. Values are not copied.
    """
    sig_t = {k: _signature(v) for k, v in trained.items()}
    sig_r = {k: _signature(v) for k, v in reference.items()}
    out: dict[str, Any] = {}
    rest_r = [k for k in reference if k not in trained]
    rest_t = [k for k in trained if k not in reference]
    for k in reference:
        if k in trained and sig_t[k] != sig_r[k]:
            raise ParameterError(
                f"rekey_params: layer {k!r} has a different structure in trained and reference"
            )
    mapping: dict[str, str] = {k: k for k in reference if k in trained}
    for k in rest_r:
        candidates = [t for t in rest_t if sig_t[t] == sig_r[k]]
        rivals = [r for r in rest_r if sig_r[r] == sig_r[k]]
        if not candidates:
            raise ParameterError(f"rekey_params: no trained layer has the structure of reference layer {k!r}")
        if len(candidates) > 1 or len(rivals) > 1:
            raise ParameterError(
                f"rekey_params: reference layer {k!r} is ambiguous: trained layers "
                f"{', '.join(map(repr, candidates))} and reference layers {', '.join(map(repr, rivals))} "
                "share its structure; rename them to match"
            )
        mapping[k] = candidates[0]
    unused = sorted(set(trained) - set(mapping.values()))
    if unused:
        raise ParameterError(
            f"rekey_params: trained layers {', '.join(map(repr, unused))} match no reference layer"
        )
    for k in reference:
        out[k] = trained[mapping[k]]
    return out
