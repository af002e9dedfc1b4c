"""The library side of ``spyx-convert quantize`` (NIR in, integer-weight NIR out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spyx.io import read_nir, write_nir
from spyx.passes.inline import inline_graph
from spyx.passes.quantize import quantize_graph
from spyx.quant.report import report as run_report
from spyx.targets import quantize_for
from spyx.tools.result import ToolResult
from spyx.tools.run import read_inputs

__all__ = ["quantize_command"]


def quantize_command(src, dst, *, target: str | None = None, bits: int | None = None, granularity: str | None = None,
                     pow2: bool = False, ternary: bool = False, dt: float | None = None, report: bool = False,
                     report_input=None, seed: int = 0, repair: bool = False, force: bool = False) -> ToolResult:
    """Quantize ``src`` (for ``target``, whose rules are then checked) and write ``dst`` atomically.

    Nothing is written when the target's rules are still violated (exit code 1) unless ``force``.
    With ``report``, the float and quantized graphs are run on ``report_input`` (or seeded random spikes) and
    the per-layer spike agreement, firing rates and weight errors are added to the lines.
    """
    loaded = read_nir(src, repair=repair, verify=True)
    out = ToolResult([f"note: {r}" for r in loaded.repairs])
    errors = 0
    graph = loaded.graph
    if target is not None:
        result = quantize_for(graph, target, dt=dt, bits=bits, granularity=granularity, pow2=pow2, ternary=ternary)
        out.lines += result.lines()
        errors = len(result.errors)
        quantized = result.quantized
    else:
        flat, _ = inline_graph(graph)
        opts: dict[str, Any] = {"bits": 8 if bits is None else bits, "pow2": pow2, "ternary": ternary}
        if granularity is not None:
            opts["granularity"] = granularity
        if dt is not None:
            opts["dt"] = dt
        quantized = quantize_graph(flat, **opts)
        out.lines += quantized.lines()
    summary = [line for line in out.lines if not line.startswith("note: ")]
    rep = None
    if report:
        inputs = read_inputs(Path(report_input)) if report_input is not None else None
        rep = run_report(graph, quantized, dt=dt, inputs=inputs, seed=seed)
        out.lines += rep.table().splitlines()
    out.exit_code = 1 if errors else 0
    out.data = {"source": str(src), "target": target, "violations": errors, "summary": summary,
                "report": rep.to_dict() if rep is not None else None, "written": None}
    if errors and not force:
        out.lines.append(f"not written: {errors} rule violation(s) remain (use --force to write anyway)")
        return out
    write_nir(quantized.graph, dst)
    out.wrote(dst)
    out.data["written"] = str(dst)
    return out
