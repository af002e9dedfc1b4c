"""``quantize_file``: the library side of ``spyx-convert quantize`` (NIR in, integer-weight NIR out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["QuantizeFileReport", "quantize_file"]


@dataclass
class QuantizeFileReport:
    lines: list[str] = field(default_factory=list)
    errors: int = 0
    written: bool = False


def quantize_file(src, dst, *, target: str | None = None, bits: int | None = None, granularity: str | None = None,
                  pow2: bool = False, ternary: bool = False, dt: float | None = None, report: bool = False,
                  report_input=None, seed: int = 0, repair: bool = False, force: bool = False) -> QuantizeFileReport:
    """Quantize ``src`` (for ``target``, whose rules are then checked) and write ``dst`` atomically.

    Nothing is written when the target's rules are still violated (``errors`` > 0) unless ``force``.
    With ``report``, the float and quantized graphs are run on ``report_input`` (or seeded random spikes) and
    the per-layer spike agreement, firing rates and weight errors are added to the lines.
    """
    from spyx.io import read_nir, write_nir
    from spyx.passes.inline import inline_graph
    from spyx.quant import quantize_graph
    from spyx.runner import read_inputs

    loaded = read_nir(src, repair=repair, verify=True)
    out = QuantizeFileReport([f"note: {r}" for r in loaded.repairs])
    graph = loaded.graph
    if target is not None:
        from spyx.targets import quantize_for

        result = quantize_for(graph, target, dt=dt, bits=bits, granularity=granularity, pow2=pow2, ternary=ternary)
        out.lines += result.lines()
        out.errors = len(result.errors)
        quantized = result.quantized
    else:
        flat, _ = inline_graph(graph)
        opts = {"bits": 8 if bits is None else bits, "pow2": pow2, "ternary": ternary}
        if granularity is not None:
            opts["granularity"] = granularity
        if dt is not None:
            opts["dt"] = dt
        quantized = quantize_graph(flat, **opts)
        out.lines += quantized.lines()
    if report:
        from spyx.quant import report as run_report

        inputs = read_inputs(Path(report_input)) if report_input is not None else None
        out.lines += run_report(graph, quantized, dt=dt, inputs=inputs, seed=seed).table().splitlines()
    if out.errors and not force:
        out.lines.append(f"not written: {out.errors} rule violation(s) remain (use --force to write anyway)")
        return out
    write_nir(quantized.graph, dst)
    out.written = True
    out.lines.append(f"wrote {dst}")
    return out
