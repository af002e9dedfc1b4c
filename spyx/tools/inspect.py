"""What ``spyx-convert inspect`` and ``validate`` report, as plain data, and the two commands' library side
(:func:`inspect_command`, :func:`validate_command`; the CLI only prints their :class:`ToolResult`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from spyx.errors import DanglingEdgeError, SpyxError
from spyx.io import read_nir
from spyx.io.reader import repair_hint
from spyx.ir import Graph, diagnose, feedback_edges, infer_shapes, sccs, to_text
from spyx.ir.shapes import fmt_shape
from spyx.profiles.detect import detect
from spyx.targets import check, get_target
from spyx.tools.result import ToolResult, text_lines

__all__ = ["describe", "describe_text", "to_dot", "validate_file", "inspect_command", "validate_command"]


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
    """Graphviz text: one box per node (name, kind, output shape), nested graphs as clusters whose port nodes
    the edges reach, feedback edges dashed. Names are quoted and escaped, so any node name is valid DOT."""
    lines = ["digraph spyx {", "  rankdir=LR;", "  node [shape=box, fontname=monospace];"]
    _dot_graph(graph, "", lines, "  ")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_endpoint(graph: Graph, endpoint: str, prefix: str, *, as_source: bool) -> str:
    """The DOT id an edge endpoint reaches: a node, or a nested graph's Input/Output port node."""
    try:
        name, port = graph.resolve(endpoint, as_source=as_source)
    except DanglingEdgeError:
        return prefix + endpoint
    node = graph.nodes[name]
    if isinstance(node, Graph) and port is None:
        ports = node.outputs if as_source else node.inputs
        port = next(iter(ports), None)
    return prefix + name + ("" if port is None else "." + port)


def _dot_graph(graph: Graph, prefix: str, lines: list[str], indent: str) -> None:
    shapes = infer_shapes(graph, diagnostics=[])
    fb = set(feedback_edges(graph))
    for name, node in graph.nodes.items():
        ident = prefix + name
        if isinstance(node, Graph):
            lines.append(f"{indent}subgraph {_dot_quote('cluster_' + ident)} {{")
            lines.append(f"{indent}  label={_dot_quote(ident + ' (NIRGraph)')};")
            _dot_graph(node, ident + ".", lines, indent + "  ")
            lines.append(f"{indent}}}")
            continue
        # "\\n" is DOT's line break inside a label; quoting escapes the name's own backslashes first
        detail = f"{node.kind} {fmt_shape(shapes[name].output)}"
        label = _dot_quote(name)[:-1] + "\\n" + _dot_quote(detail)[1:]
        lines.append(f"{indent}{_dot_quote(ident)} [label={label}];")
    for a, b in graph.edges:
        style = ' [style=dashed, label="t-1"]' if (a, b) in fb else ""
        src = _dot_endpoint(graph, a, prefix, as_source=True)
        dst = _dot_endpoint(graph, b, prefix, as_source=False)
        lines.append(f"{indent}{_dot_quote(src)} -> {_dot_quote(dst)}{style};")


def validate_file(path: str | Path, *, repair: bool = False) -> tuple[list[str], Any]:
    """Diagnostics for a file (empty when valid) and the load result. Unreadable files raise ReadError."""
    result = read_nir(path, repair=repair)
    problems = [m for _, m in diagnose(result.graph)]
    return (problems + repair_hint(result.graph) if problems else problems), result


def array_summary(arr: np.ndarray) -> str:
    return f"{arr.dtype}{list(arr.shape)}"


def inspect_command(file: str | Path, *, fmt: str = "text", repair: bool = False) -> ToolResult:
    """``spyx-convert inspect``: the graph as text (with the exporter detection), JSON or Graphviz DOT."""
    result = read_nir(file, repair=repair)
    info = describe(result.graph, path=file, version=result.version, repairs=result.repairs)
    info["detection"] = detect(result.graph).to_dict()
    if fmt == "json":
        text = json.dumps(info, indent=2) + "\n"
    elif fmt == "dot":
        text = to_dot(result.graph)
    else:
        text = describe_text(result.graph, info)
    return ToolResult(text_lines(text))


def validate_command(
    file: str | Path, *, repair: bool = False, target: str | None = None, fmt: str = "text"
) -> ToolResult:
    """``spyx-convert validate``: exit 0 when valid (and within the target's rules), 1 with one diagnostic per
    line on standard error otherwise; an unreadable file raises its error (exit 2).

    With a ``target``, the rule results are followed by the target's resource table
    (:meth:`spyx.targets.Target.resources`). ``fmt="json"``: one JSON object on standard output instead
    (``file``, ``target``, ``valid``, ``problems``, ``violations``, ``resources``, ``repairs``), same exit code.
    """
    try:
        problems, result = validate_file(file, repair=repair)
    except SpyxError as e:
        if e.exit_code == 2:
            raise
        problems, result = list(getattr(e, "diagnostics", [str(e)])), None
    out = ToolResult()
    file_problems = list(problems)
    violations, table = [], None
    if target is not None and result is not None and not problems:
        t = get_target(target)
        violations = check(result.graph, t)
        table = t.resources(result.graph)
        out.lines += [f"{file}: {v}" for v in violations if v.severity != "error"]
        problems = [str(v) for v in violations if v.severity == "error"]
    repairs = list(result.repairs) if result is not None else []
    if fmt == "json":
        info = {
            "file": str(file),
            "target": None if target is None else get_target(target).spec(),
            "valid": not problems,
            "problems": file_problems,
            "violations": [v.to_dict() for v in violations],
            "resources": None if table is None else table.to_dict(),
            "repairs": repairs,
        }
        return ToolResult(text_lines(json.dumps(info, indent=2) + "\n"), exit_code=1 if problems else 0)
    out.lines += [f"note: {r}" for r in repairs]
    if table is not None:
        out.lines += text_lines(table.format_table() + "\n")
    if problems:
        out.errors = [p if p.startswith(str(file)) else f"{file}: {p}" for p in problems]
        out.exit_code = 1
        return out
    out.lines.append(f"{file}: valid" + (f" for target {target}" if target else ""))
    return out
