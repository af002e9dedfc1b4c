"""What ``spyx-convert inspect`` and ``validate`` report, as plain data (the CLI only prints it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spyx.ir import Graph, diagnose, feedback_edges, infer_shapes, sccs, to_text
from spyx.ir.shapes import fmt_shape

__all__ = ["describe", "to_dot", "validate_file"]


def _shape(s) -> list[int] | None:
    return None if s is None else [int(x) for x in s]


def _nodes(graph: Graph, prefix: str = "") -> list[dict[str, Any]]:
    shapes = infer_shapes(graph, diagnostics=[])
    rows = []
    for name, node in graph.nodes.items():
        s = shapes[name]
        row: dict[str, Any] = {
            "name": prefix + name,
            "kind": node.kind,
            "input_shape": _shape(s.input),
            "output_shape": _shape(s.output),
        }
        if isinstance(node, Graph):
            row["nodes"] = _nodes(node, f"{prefix}{name}.")
            row["edges"] = [list(e) for e in node.edges]
        else:
            params = node.params()
            row["params"] = {k: {"dtype": str(v.dtype), "shape": list(v.shape)} for k, v in params.items()}
            row["param_count"] = int(sum(v.size for k, v in params.items() if v.dtype.kind == "f"))
            opts = {k: getattr(node, k) for k in node.option_names() if getattr(node, k) is not None}
            if opts:
                row["options"] = opts
        rows.append(row)
    return rows


def describe(graph: Graph, *, path: str | Path | None = None, version: str | None = None,
             repairs: tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON-ready description: file, version, inputs/outputs with shapes, nodes, edges, cycles, problems."""
    shapes = infer_shapes(graph, diagnostics=[])
    info: dict[str, Any] = {
        "file": None if path is None else str(path),
        "nir_version": version,
        "inputs": {n: _shape(shapes[n].output) for n in graph.inputs},
        "outputs": {n: _shape(shapes[n].output) for n in graph.outputs},
        "nodes": _nodes(graph),
        "edges": [list(e) for e in graph.edges],
        "cycles": sccs(graph),
        "feedback_edges": [list(e) for e in feedback_edges(graph)],
        "param_count": int(
            sum(v.size for _, n in graph.walk() if not isinstance(n, Graph) for v in n.params().values()
                if v.dtype.kind == "f")
        ),
        "repairs": list(repairs),
        "problems": [m for _, m in diagnose(graph)],
    }
    return info


def describe_text(graph: Graph, info: dict[str, Any]) -> str:
    head = [f"file: {info['file']}", f"nir version: {info['nir_version'] or 'unknown'}"]
    head.append(f"parameters: {info['param_count']}")
    for r in info["repairs"]:
        head.append(f"note: {r}")
    for p in info["problems"]:
        head.append(f"problem: {p}")
    for line in info.get("detection", {}).get("evidence", []):
        head.append(f"exporter: {line}")
    return "\n".join(head) + "\n" + to_text(graph)


def to_dot(graph: Graph) -> str:
    """Graphviz text: one box per node (name, kind, output shape), feedback edges dashed."""
    shapes = infer_shapes(graph, diagnostics=[])
    fb = set(feedback_edges(graph))
    lines = ["digraph spyx {", "  rankdir=LR;", "  node [shape=box, fontname=monospace];"]
    for name, node in graph.nodes.items():
        label = f"{name}\\n{node.kind} {fmt_shape(shapes[name].output)}"
        lines.append(f'  "{name}" [label="{label}"];')
    for a, b in graph.edges:
        style = ' [style=dashed, label="t-1"]' if (a, b) in fb else ""
        lines.append(f'  "{a}" -> "{b}"{style};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def validate_file(path: str | Path, *, repair: bool = False) -> tuple[list[str], Any]:
    """Diagnostics for a file (empty when valid) and the load result. Unreadable files raise ReadError."""
    from spyx.io import read_nir
    from spyx.io.reader import repair_hint

    result = read_nir(path, repair=repair)
    problems = [m for _, m in diagnose(result.graph)]
    return (problems + repair_hint(result.graph) if problems else problems), result


def array_summary(arr: np.ndarray) -> str:
    return f"{arr.dtype}{list(arr.shape)}"
