"""``convert_file``: NIR in, passes, NIR out - the library side of ``spyx-convert convert``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


__all__ = ["ConvertReport", "convert_file"]


@dataclass
class ConvertReport:
    src: Path
    dst: Path
    version: str | None
    repairs: tuple[str, ...] = ()
    passes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"read {self.src} (nir {self.version or 'unknown'})"]
        out += [f"note: {r}" for r in self.repairs]
        out += [f"pass {line}" if not line.startswith(" ") else line for line in self.passes]
        out += self.notes
        out.append(f"wrote {self.dst}")
        return out


def convert_file(src, dst, *, passes: str = "", repair: bool = False, to_profile: str | None = None,
                 dt: float | None = None) -> ConvertReport:
    """Read ``src``, run the pass pipeline, optionally re-encode for a peer profile, write ``dst`` atomically.

    Nothing is written if any step fails. The input is verified before any pass runs, so an invalid file is
    reported with the file name and its own node names (passes such as ``reorder{rename=true}`` rename them).
    """
    from spyx.io import read_nir, write_nir
    from spyx.passes import describe_changes, run_pipeline

    result = read_nir(src, repair=repair, verify=True)
    graph = result.graph
    report = ConvertReport(Path(src), Path(dst), result.version, result.repairs)
    if passes.strip():
        log: list = []
        graph = run_pipeline(graph, passes, log=log).graph
        report.passes = describe_changes(result.graph, log)
    if to_profile is not None:
        from spyx.profiles import encode_for

        graph, notes = encode_for(graph, to_profile, dt=dt)
        report.notes.extend(notes)
    write_nir(graph, dst)
    return report
