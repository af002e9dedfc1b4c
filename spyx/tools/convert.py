"""The library side of ``spyx-convert convert`` (NIR in, passes, NIR out), ``lower`` (a file through the
lowering pipeline, its text form out) and ``passes`` (every registered pass)."""

from __future__ import annotations

from pathlib import Path

from spyx.io import read_nir, write_nir
from spyx.ir.text import to_text
from spyx.passes import describe_changes, list_passes, run_pipeline
from spyx.profiles.api import encode_for
from spyx.tools.result import ToolResult, text_lines

__all__ = ["convert_command", "lower_command", "passes_command"]


def convert_command(src, dst, *, passes: str = "", repair: bool = False, to_profile: str | None = None,
                    dt: float | None = None) -> ToolResult:
    """Read ``src``, run the pass pipeline, optionally re-encode for a peer profile, write ``dst`` atomically.

    Nothing is written if any step fails. The input is verified before any pass runs, so an invalid file is
    reported with the file name and its own node names (passes such as ``reorder{rename=true}`` rename them).
    """
    result = read_nir(src, repair=repair, verify=True)
    graph = result.graph
    out = ToolResult([f"read {src} (nir {result.version or 'unknown'})"])
    out.lines += [f"note: {r}" for r in result.repairs]
    if passes.strip():
        log: list = []
        graph = run_pipeline(graph, passes, log=log).graph
        described = describe_changes(result.graph, log)
        out.lines += [f"pass {line}" if not line.startswith(" ") else line for line in described]
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
    out = ToolResult([f"# note: {r}" for r in loaded.repairs])
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
