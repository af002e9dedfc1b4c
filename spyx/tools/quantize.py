"""The library side of ``spyx-convert quantize`` (NIR in, integer-weight NIR out).

**Profile.** ``profile`` (``--profile``) is the semantics of the file as in ``run``: the file is read with the
profile's fixups (:func:`spyx.profiles.prepare`), its dt defaults to the one the exporter used
(:func:`spyx.profiles.resolve_dt`: snnTorch's 1e-4, Rockpool's recovered step, ...), the report runs the float
and the quantized graph under that profile, and the written file records it (``spyx.profile``), so that a
later ``run`` reads it the same way. ``auto`` is resolved once and says what it assumed, as ``run`` does.
None (the default) reads the file with the profile it records, else ``nir``.

**Exit code.** 0 when the file was written: with ``force``, rule violations that remain are printed as
warnings and the file is written anyway (the user asked for it); 1 when violations remain and nothing was
written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spyx.errors import MissingDtError, OptionError
from spyx.io import read_nir, write_nir
from spyx.ir.graph import Graph
from spyx.ir.traits import Continuous
from spyx.passes.inline import inline_graph
from spyx.passes.quantize import quantize_graph
from spyx.passes.retime import graph_dt
from spyx.profiles.pipeline import prepare
from spyx.profiles.resolve import PROFILE_KEY, dt_guess, resolve_dt
from spyx.quant.arith import MAX_BITS
from spyx.quant.formats import decay_params
from spyx.quant.report import report as run_report
from spyx.targets import get_target, quantize_for
from spyx.tools.result import ToolResult
from spyx.tools.run import read_inputs

__all__ = ["quantize_command"]


def _read(src, profile, repair: bool, dt: float | None, out: ToolResult) -> tuple[Graph, str, float | None]:
    """The graph as its profile means it, the profile's spec, and the dt (given, else the exporter's)."""
    named = profile not in (None, "")
    loaded = read_nir(src, repair=repair, verify=not named or profile == "nir")
    out.lines += [f"note: {r}" for r in loaded.repairs]
    spec = profile if named else loaded.graph.metadata.get(PROFILE_KEY, "nir")
    if spec == "nir":
        return loaded.graph, "nir", dt
    graph, chosen, notes = prepare(loaded.graph, spec)
    out.warnings += [n for n in notes if n.startswith(("note: ", "warning: "))]
    out.lines += [n for n in notes if not n.startswith(("note: ", "warning: "))]
    flat, _ = inline_graph(graph)
    used, more = resolve_dt(dt, chosen, flat)
    out.lines += more
    out.warnings += dt_guess(dt, chosen, flat)
    return graph, chosen.spec(), used


def _require_dt(graph: Graph, dt: float | None, decays: bool, report: bool) -> None:
    """The command's own flags in the message: a pass would name its pipeline option instead."""
    if dt is not None or graph_dt(graph) is not None:
        return
    nodes = [p for p, n in graph.walk() if n.trait(Continuous) is not None]
    timed = [p for p, n in graph.walk() if any(c for _, c in decay_params(n))]
    if decays and timed:
        why, which = "to turn their time constants into the target's decays", timed
    elif report and nodes:
        why, which = "to run them for --report", nodes
    else:
        return
    names = ", ".join(which[:5]) + (" ..." if len(which) > 5 else "")
    nodes_are = f"nodes {names} are" if len(which) > 1 else f"node {names} is"
    raise MissingDtError(
        f"quantize: {nodes_are} continuous-time: a time step is needed {why}; pass --dt SECONDS "
        "(or --profile NAME: a peer's file has its exporter's dt)"
    )


def quantize_command(src, dst, *, target: str | None = None, bits: int | None = None, granularity: str | None = None,
                     pow2: bool = False, ternary: bool = False, dt: float | None = None, report: bool = False,
                     report_input=None, seed: int = 0, repair: bool = False, force: bool = False,
                     profile: str | None = None) -> ToolResult:
    """Quantize ``src`` (for ``target``, whose rules are then checked) and write ``dst`` atomically.

    Nothing is written when the target's rules are still violated (exit code 1) unless ``force`` (exit code
    0, the violations printed as warnings). With ``report``, the float and quantized graphs are run under
    the profile on ``report_input`` (or seeded random spikes) and the per-layer spike agreement, firing rates
    and weight errors are added to the lines.
    """
    if bits is not None and not (ternary or 2 <= bits <= MAX_BITS):  # the pass would name its own option
        raise OptionError(
            f"quantize: --bits {bits} is out of range; use an integer from 2 to {MAX_BITS} "
            "(or --ternary for {-1, 0, 1} weights)"
        )
    out = ToolResult()
    graph, spec, dt = _read(src, profile, repair, dt, out)
    decays = target is not None and (get_target(target).formats().decay or "float") != "float"
    _require_dt(graph, dt, decays, report)
    errors = 0
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
        rep = run_report(graph, quantized, dt=dt, inputs=inputs, seed=seed, profile=spec)
        out.lines += rep.table().splitlines()
    out.data = {"source": str(src), "target": target, "violations": errors, "summary": summary,
                "report": rep.to_dict() if rep is not None else None, "written": None}
    if errors and not force:
        out.exit_code = 1
        out.lines.append(f"not written: {errors} rule violation(s) remain (use --force to write anyway)")
        return out
    if errors:
        out.warnings.append(f"warning: {errors} rule violation(s) remain; written anyway (--force)")
    written = quantized.graph
    if spec != "nir":  # a later run reads it as the exporter's model, as the report did
        written = Graph(nodes=written.nodes, edges=written.edges, metadata={**written.metadata, PROFILE_KEY: spec})
    write_nir(written, dst)
    out.wrote(dst)
    out.data["written"] = str(dst)
    return out
