"""The library side of ``spyx-convert convert`` (NIR in, passes, NIR out), ``lower`` (a file through the
lowering pipeline, its text form out) and ``passes`` (every registered pass)."""

from __future__ import annotations

from pathlib import Path

from spyx.errors import OptionError
from spyx.io import read_nir, write_nir
from spyx.ir.graph import Graph
from spyx.ir.text import to_text
from spyx.passes import describe_changes, list_passes, run_pipeline
from spyx.profiles.api import encode_for
from spyx.profiles.detect import detect
from spyx.profiles.pipeline import prepare
from spyx.profiles.resolve import PROFILE_KEY
from spyx.tools.result import ToolResult, text_lines

__all__ = ["convert_command", "lower_command", "passes_command"]


def _read_with(graph: Graph, profile: str, out: ToolResult) -> Graph:
    """``graph`` with ``profile``'s fixups applied and the profile recorded (:func:`spyx.profiles.prepare`)."""
    graph, _, notes = prepare(graph, profile)
    out.warnings += [n for n in notes if n.startswith(("note: ", "warning: "))]
    out.lines += [n for n in notes if not n.startswith(("note: ", "warning: "))]
    return graph


def _looks_exported(src, graph: Graph) -> list[str]:
    """A note when passes ran with NIR semantics on a file that follows a peer's export convention."""
    found = detect(graph)
    if found.exporter is None:
        return []
    return [
        f"note: {src} follows {found.exporter}'s export convention ({found.evidence[0]}); the passes ran with "
        f"NIR semantics and nothing records the reading: pass --profile {found.exporter} (or auto) so that the "
        "passes and a later run keep the exporter's meaning"
    ]


def convert_command(src, dst, *, passes: str = "", repair: bool = False, to_profile: str | None = None,
                    dt: float | None = None, profile: str | None = None) -> ToolResult:
    """Read ``src``, run the pass pipeline, optionally re-encode for a peer profile, write ``dst`` atomically.

    Nothing is written if any step fails. The input is verified before any pass runs, so an invalid file is
    reported with the file name and its own node names (passes such as ``reorder{rename=true}`` rename them).

    ``profile`` (``--profile``; ``auto`` says what it assumed): the file is read as that exporter's model. Its
    fixups run first, on the graph as read (Spyx 1.0's recurrent sub-graphs are rewired before ``inline``
    flattens them away), the passes run on the fixed graph, and the written file records the profile
    (``spyx.profile``) so that ``run`` without ``--profile`` reads it the same way: convert lowers nothing.
    """
    named = profile not in (None, "")  # --profile nir too: the output then says it means NIR semantics
    if named and profile != "nir" and to_profile is not None:
        raise OptionError(
            "give --profile or --to-profile, not both: --to-profile re-encodes a graph with NIR semantics, "
            f"--profile {profile} keeps the file a {profile} model"
        )
    result = read_nir(src, repair=repair, verify=not named or profile == "nir")
    graph = result.graph
    out = ToolResult([f"read {src} (nir {result.version or 'unknown'})"])
    out.lines += [f"note: {r}" for r in result.repairs]
    if profile:  # the same as `named`, in the form the type checker narrows
        graph = _read_with(graph, profile, out)
    elif passes.strip() and profile is None:
        out.warnings += _looks_exported(src, graph)
    recorded = graph.metadata.get(PROFILE_KEY) if named else None
    if passes.strip():
        log: list = []
        before = graph
        graph = run_pipeline(graph, passes, log=log).graph
        described = describe_changes(before, log)
        out.lines += [f"pass {line}" if not line.startswith(" ") else line for line in described]
    if recorded is not None and graph.metadata.get(PROFILE_KEY) != recorded:  # passes may drop metadata
        graph = Graph(nodes=graph.nodes, edges=graph.edges, metadata={**graph.metadata, PROFILE_KEY: recorded})
    if to_profile is not None:
        graph, notes = encode_for(graph, to_profile, dt=dt)
        out.lines += notes
    write_nir(graph, dst)
    out.wrote(Path(dst))
    return out


def lower_command(file, *, profile: str = "nir", dt: float | None = None, method: str = "exact",
                  delay_rounding: str = "error", repair: bool = False) -> ToolResult:
    """``spyx-convert lower FILE --profile P``: the graph the backend would run, in the text form of
    :func:`spyx.ir.to_text` (after the decisions the pipeline made, as ``# `` comment lines)."""
    from spyx.tools.compile import lowered  # JAX: `convert` and `passes` start without it

    loaded = read_nir(file, repair=repair, verify=profile in ("nir", "", None))
    low = lowered(loaded.graph, dt=dt, method=method, delay_rounding=delay_rounding, profile=profile or "nir")
    out = ToolResult([f"# note: {r}" for r in loaded.repairs], warnings=list(low.assumptions))
    out.lines += [f"# {n}" for n in low.notes]
    at = f" at dt = {low.dt:g}" if low.dt is not None else ""
    out.lines.append(f"# lowered {file} with profile {profile}{at}")
    out.lines += text_lines(to_text(low.graph))
    return out


def passes_command() -> ToolResult:
    """``spyx-convert passes``: every registered pass, its contract and its options."""
    out = ToolResult()
    for name, description, preserves, options in list_passes():
        out.lines.append(f"{name:22s} {description} [preserves: {preserves}]")
        out.lines += [f"{'':22s}   {opt}" for opt in options]
    return out
