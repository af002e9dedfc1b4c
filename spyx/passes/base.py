"""The pass framework: a pass is a small frozen dataclass whose fields are its options.

``Pass.__call__(graph)`` checks the pass's preconditions, runs :meth:`Pass.call`, and returns a
:class:`PassResult` that says whether anything changed and what. Passes never mutate their input (the IR
is immutable); an unchanged graph is returned as the same object with ``modified=False``.

Each pass declares what it preserves (``preserves``):

* ``"structure"``: changes no computation at all (names, order, shapes only);
* ``"exact"``: program outputs are identical (bit for bit in float64; up to float32 rounding otherwise);
* ``"spikes"``: spike outputs identical, membranes equal up to a stated per-neuron scale;
* ``"approximate"``: within a tolerance the pass documents (e.g. quantization, re-timing).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from spyx.errors import PassError, SpyxError
from spyx.ir.graph import Graph

__all__ = ["Pass", "PassResult", "PassManager"]

PRESERVES = ("structure", "exact", "spikes", "approximate")


@dataclass(frozen=True)
class PassResult:
    """The graph after a pass, whether it changed, one human line per change, and notes: things the pass
    looked at and left alone on purpose (``"skipped lif0: fc0 also feeds lif1"``), which do not count as
    changes."""

    graph: Graph
    modified: bool
    changes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Pass:
    """Base class. Subclasses set ``name``, ``description``, ``preserves`` and implement :meth:`call`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    preserves: ClassVar[str] = "exact"

    def requires(self, graph: Graph) -> None:
        """Raise a :class:`SpyxError` if ``graph`` does not meet the pass's preconditions."""

    def call(self, graph: Graph) -> PassResult:
        raise NotImplementedError

    def __call__(self, graph: Graph) -> PassResult:
        self.requires(graph)
        result = self.call(graph)
        if not result.modified and result.changes:
            result = PassResult(result.graph, True, result.changes, result.notes)
        return result

    @classmethod
    def options(cls) -> list[dataclasses.Field]:
        return list(dataclasses.fields(cls))

    def spec(self) -> str:
        """The pass as pipeline text, e.g. ``quantize-graph{bits=8}`` (options that differ from defaults only)."""
        opts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            default = f.default if f.default is not dataclasses.MISSING else None
            if value != default:
                opts.append(f"{f.name}={str(value).lower() if isinstance(value, bool) else value}")
        return self.name + ("{" + ",".join(opts) + "}" if opts else "")


@dataclass
class PassManager:
    """Run passes in order; optionally repeat the whole sequence until nothing changes.

    A failing pass raises :class:`PassError` naming it and the passes that ran before it, with the cause.
    """

    passes: list[Pass]
    fixed_point: bool = False
    max_iterations: int = 20
    verify_each: bool = False
    log: list[tuple[str, PassResult]] = field(default_factory=list)

    def __call__(self, graph: Graph) -> PassResult:
        from spyx.ir.verify import verify

        changes: list[str] = []
        notes: list[str] = []
        modified = False
        ran: list[str] = []
        for _ in range(self.max_iterations if self.fixed_point else 1):
            round_modified = False
            for p in self.passes:
                try:
                    result = p(graph)
                    if self.verify_each and result.modified:
                        verify(result.graph)
                except SpyxError as e:
                    before = f" (after {', '.join(ran)})" if ran else " (first pass)"
                    raise PassError(f"pass {p.spec()!r} failed{before}: {e}") from e
                ran.append(p.spec())
                self.log.append((p.spec(), result))
                graph = result.graph
                changes.extend(f"{p.name}: {c}" for c in result.changes)
                notes.extend(f"{p.name}: {c}" for c in result.notes)
                round_modified |= result.modified
            modified |= round_modified
            if not round_modified:
                break
        return PassResult(graph, modified, tuple(changes), tuple(notes))
