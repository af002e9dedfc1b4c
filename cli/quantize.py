"""``spyx-convert quantize``: integer weights with folded scales, a target's formats and rules, a report."""

from __future__ import annotations

from pathlib import Path

import click

from spyx_cli.output import emit, is_quiet
from spyx_cli.progress import progress


@click.command(epilog="Example: spyx-convert quantize model.nir model_int8.nir --target xylo --dt 1e-3 --report")
@click.argument("src", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("dst", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--target", default=None, help="Hardware target (xylo, loihi2, speck, spinnaker2; options as name{k=v}).")
@click.option("--bits", type=int, default=None,
              help="Weight bits, 2..16 (default: the target's; 8 when the target's is unknown or no --target).")
@click.option("--granularity", type=click.Choice(["channel", "tensor"]), default=None)
@click.option("--pow2", is_flag=True, help="Power-of-two scales (integer files then reproduce spikes bit for bit).")
@click.option("--ternary", is_flag=True, help="Ternary weights {-1, 0, 1} times a scale (BitNet absmean).")
@click.option("--dt", type=float, default=None, help="Time step, for decay formats and for --report.")
@click.option("--report", is_flag=True, help="Run float and quantized graphs and print spike agreement per layer.")
@click.option("--report-input", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Input for --report (T, B, *shape) .npy/.npz; default: seeded random spikes.")
@click.option("--repair", is_flag=True, help="Fix unambiguous file defects (reported) instead of failing.")
@click.option("--force", is_flag=True, help="Write the file even if target rules are still violated (exit 0).")
@click.option("--profile", default=None,
              help="Semantics of the file, as for run (nir, snntorch, ..., auto): the report runs it, the output "
                   "records it. Default: the profile the file records, else nir.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="The summary (and --report) as text or as one JSON object.")
def quantize(src: Path, dst: Path, target, bits, granularity, pow2, ternary, dt, report, report_input, repair,
             force, profile, fmt) -> None:
    """Quantize weights to integers (scales folded into the neurons) and write NIR."""
    with progress(f"quantizing {src.name}" + (" and running the report" if report else ""), quiet=is_quiet()):
        from spyx.tools.quantize import quantize_command

        result = quantize_command(src, dst, target=target, bits=bits, granularity=granularity, pow2=pow2,
                                  ternary=ternary, dt=dt, report=report, report_input=report_input, repair=repair,
                                  force=force, profile=profile)
    emit(result, as_json=fmt == "json")
