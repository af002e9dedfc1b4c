"""``convert_file``: NIR in, passes, NIR out - the library side of ``spyx-convert convert``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from spyx.ir import Graph

__all__ = ["ConvertReport", "convert_file", "summarize_change"]


def _count(graph: Graph) -> tuple[int, int]:
    nodes = [n for _, n in graph.walk() if not isinstance(n, Graph)]
    return len(nodes), sum(v.size for n in nodes for v in n.params().values() if v.dtype.kind == "f")


def summarize_change(before: Graph, after: Graph) -> str:
    """``"7 -> 6 nodes, 1771 -> 1764 parameters"``."""
    (n0, p0), (n1, p1) = _count(before), _count(after)
    return f"{n0} -> {n1} nodes, {p0} -> {p1} parameters"


@dataclass
class ConvertReport:
    src: Path
    dst: Path
    version: str | None
    repairs: tuple[str, ...] = ()
    passes: list[tuple[str, bool, tuple[str, ...], str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"read {self.src} (nir {self.version or 'unknown'})"]
        out += [f"note: {r}" for r in self.repairs]
        for name, modified, changes, summary in self.passes:
            out.append(f"pass {name}: {'changed' if modified else 'unchanged'} ({summary})")
            out += [f"  {c}" for c in changes]
        out += self.notes
        out.append(f"wrote {self.dst}")
        return out


def convert_file(src, dst, *, passes: str = "", repair: bool = False, to_profile: str | None = None,
                 dt: float | None = None) -> ConvertReport:
    """Read ``src``, run the pass pipeline, optionally re-encode for a peer profile, write ``dst`` atomically.

    Nothing is written if any step fails.
    """
    from spyx.io import read_nir, write_nir
    from spyx.passes import parse_pipeline
    from spyx.passes.base import PassManager

    result = read_nir(src, repair=repair)
    graph = result.graph
    report = ConvertReport(Path(src), Path(dst), result.version, result.repairs)
    pipeline = parse_pipeline(passes) if passes.strip() else []
    for p in pipeline:
        before = graph
        res = PassManager([p])(graph)
        graph = res.graph
        report.passes.append((p.spec(), res.modified, tuple(c.split(": ", 1)[-1] for c in res.changes),
                              summarize_change(before, graph)))
    if to_profile is not None:
        from spyx.profiles import encode_for

        graph, notes = encode_for(graph, to_profile, dt=dt)
        report.notes.extend(notes)
    write_nir(graph, dst)
    return report
