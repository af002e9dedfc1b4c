"""What the quantize-graph pass did, as data: per layer (format, scales, error, where the scale went) and per
neuron (threshold and decay formats). ``lines()`` gives the pass's change report."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.graph import Graph
from spyx.quant.formats import FormatChange

__all__ = ["LayerReport", "NodeFormatReport", "QuantizeResult"]


def _scale_text(scale: np.ndarray) -> str:
    s = np.asarray(scale, dtype=np.float64).reshape(-1)
    if s.size == 1:
        return f"{s[0]:.6g}"
    return f"{s.size} values in [{s.min():.6g}, {s.max():.6g}]"


@dataclass(frozen=True)
class LayerReport:
    """One weight layer: ``format`` (``int8``, ``ternary``, ``float``), ``granularity`` (``channel``,
    ``tensor``), ``scale`` ((C_out,) or ()), ``max_abs_error`` (max |W - q s|), ``clipped`` (weights that hit
    the integer range), ``bias`` (``int16``, ``float``, ``none``), ``folded_into`` (nodes that took the
    scale), ``shared_with`` (layers sharing it), ``fallback`` (why folding was impossible, or None) and
    ``action`` (what was done instead)."""

    name: str
    kind: str
    format: str
    granularity: str
    scale: np.ndarray
    max_abs_error: float
    clipped: int
    bias: str
    folded_into: tuple[str, ...]
    shared_with: tuple[str, ...]
    fallback: str | None
    action: str = ""

    def line(self) -> str:
        where = f"folded into {', '.join(self.folded_into)}" if self.folded_into else ""
        if self.fallback:
            where = f"NOT folded ({self.fallback}); {self.action}"
        elif self.action:
            where = f"{self.action}; {where}" if where else self.action
        shared = f", shared with {', '.join(self.shared_with)}" if self.shared_with else ""
        if self.format == "float":
            return f"{self.name} ({self.kind}): {where}{shared}"
        return (
            f"{self.name} ({self.kind}): {self.format} per {self.granularity}, "
            f"scale {_scale_text(self.scale)}, max abs error {self.max_abs_error:.3g}, "
            f"{self.clipped} clipped, bias {self.bias}{shared}; {where}"
        )


@dataclass(frozen=True)
class NodeFormatReport:
    """Number formats given to one neuron's thresholds/state levels and decays."""

    name: str
    kind: str
    changes: tuple[FormatChange, ...]

    def line(self) -> str:
        parts = [
            f"{c.param} -> {c.format} (max change {c.max_abs_change:.3g}"
            + (f", {c.clipped} clipped)" if c.clipped else ")")
            for c in self.changes
        ]
        return f"{self.name} ({self.kind}): {'; '.join(parts)}"


@dataclass(frozen=True)
class QuantizeResult:
    """``graph``: integer weights, scales folded (what is saved); ``fake_graph``: the same numbers as floats
    (weights ``q * s``, neurons unscaled) - the model the integer graph is spike-identical to."""

    graph: Graph
    fake_graph: Graph
    layers: tuple[LayerReport, ...]
    formats: tuple[NodeFormatReport, ...]
    notes: tuple[str, ...]
    spec: str

    @property
    def fallbacks(self) -> tuple[LayerReport, ...]:
        return tuple(r for r in self.layers if r.fallback)

    def lines(self) -> list[str]:
        return [r.line() for r in self.layers] + [r.line() for r in self.formats] + list(self.notes)

    def table(self) -> str:
        cols = ("layer", "kind", "format", "gran.", "scale (min..max)", "max|err|")
        head = "{:<20} {:<8} {:<8} {:<8} {:<24} {:>10}  folded".format(*cols)
        rows = [head, "-" * len(head)]
        for r in self.layers:
            s = np.asarray(r.scale, dtype=np.float64).reshape(-1)
            rng = "-" if r.format == "float" else f"{s.min():.4g}..{s.max():.4g}"
            folded = "no: " + r.fallback if r.fallback else ("yes" if r.folded_into else r.action or "-")
            rows.append(
                f"{r.name:<20} {r.kind:<8} {r.format:<8} {r.granularity:<8} {rng:<24} "
                f"{r.max_abs_error:>10.3g}  {folded}"
            )
        rows += [r.line() for r in self.formats] + list(self.notes)
        return "\n".join(rows)
