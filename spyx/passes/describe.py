"""Summaries of what a pipeline changed, for ``spyx-convert convert --passes`` and logs.

:func:`graph_diff` compares two graphs node by node (nested graphs by dotted path); :func:`describe_changes`
turns a pipeline's log into one line per pass, e.g.
``rescale: 3 nodes changed, 5 parameters touched, nodes 12 -> 12``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spyx.ir.graph import Graph
from spyx.ir.node import _values_equal
from spyx.passes.base import PassResult

__all__ = ["GraphDiff", "graph_diff", "describe_changes"]


@dataclass(frozen=True)
class GraphDiff:
    """Dotted paths of nodes added, removed, renamed (old, new: equal content under a new path) and changed,
    the parameters touched, and node and edge counts."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...]
    changed: tuple[str, ...]
    params_touched: tuple[str, ...]
    nodes_before: int
    nodes_after: int
    edges_before: int
    edges_after: int


def _flat(graph: Graph) -> dict[str, object]:
    return {path: node for path, node in graph.walk() if not isinstance(node, Graph)}


def _edge_count(graph: Graph) -> int:
    return len(graph.edges) + sum(_edge_count(n) for n in graph.nodes.values() if isinstance(n, Graph))


def graph_diff(before: Graph, after: Graph) -> GraphDiff:
    """What differs between two graphs; nodes are matched by dotted path, nested graphs are looked into."""
    a, b = _flat(before), _flat(after)
    changed, touched = [], []
    for path in a.keys() & b.keys():
        x, y = a[path], b[path]
        if type(x) is not type(y):
            changed.append(path)
            touched.extend(f"{path}.{p}" for p in y.params())
            continue
        if x == y:
            continue
        changed.append(path)
        for p in sorted(set(x.param_names()) | set(y.param_names())):
            if not _values_equal(getattr(x, p, None), getattr(y, p, None)):
                touched.append(f"{path}.{p}")
    added = sorted(b.keys() - a.keys())
    removed = sorted(a.keys() - b.keys())
    renamed = []
    for old in list(removed):  # a removed node equal to an added one was renamed
        match = next((new for new in added if a[old] == b[new]), None)
        if match is not None:
            renamed.append((old, match))
            removed.remove(old)
            added.remove(match)
    return GraphDiff(
        added=tuple(added),
        removed=tuple(removed),
        renamed=tuple(renamed),
        changed=tuple(sorted(changed)),
        params_touched=tuple(sorted(touched)),
        nodes_before=len(a),
        nodes_after=len(b),
        edges_before=_edge_count(before),
        edges_after=_edge_count(after),
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _port_renames(before: Graph, result: PassResult) -> list[str]:
    """The graph's interface renamed (Input/Output nodes): callers address inputs and outputs by these names,
    and a canonical renaming need not keep their order, so each one is spelled out."""
    ports = set(before.inputs) | set(before.outputs)
    out = []
    for change in result.changes:
        old, sep, new = change.removeprefix("renamed ").partition(" -> ")
        if change.startswith("renamed ") and sep and old in ports:
            kind = "input" if old in before.inputs else "output"
            out.append(f"    {kind} {old} is now {new}")
    return out


def describe_changes(initial: Graph, log: Sequence[tuple[str, PassResult]]) -> list[str]:
    """One line per pass of a pipeline log (``PassManager.log`` or ``run_pipeline(..., log=[])``), e.g.
    ``fuse: 2 nodes removed, 1 node changed, 2 parameters touched, nodes 9 -> 7, edges 8 -> 6``;
    ``reorder: unchanged``; notes (things skipped on purpose) follow as indented lines."""
    lines: list[str] = []
    before = initial
    for spec, result in log:
        after = result.graph
        if not result.modified:
            lines.append(f"{spec}: unchanged")
        else:
            d = graph_diff(before, after)
            parts = [
                _plural(len(d.added), "node") + " added" if d.added else "",
                _plural(len(d.removed), "node") + " removed" if d.removed else "",
                _plural(len(d.renamed), "node") + " renamed" if d.renamed else "",
                _plural(len(d.changed), "node") + " changed" if d.changed else "",
                _plural(len(d.params_touched), "parameter") + " touched" if d.params_touched else "",
                f"nodes {d.nodes_before} -> {d.nodes_after}",
                f"edges {d.edges_before} -> {d.edges_after}" if d.edges_before != d.edges_after else "",
            ]
            if not (d.added or d.removed or d.changed or d.renamed):
                parts.insert(0, "order, names or metadata changed")
            lines.append(f"{spec}: " + ", ".join(p for p in parts if p))
        lines.extend(_port_renames(before, result))
        lines.extend(f"    note: {n}" for n in result.notes)
        before = after
    return lines
