"""The pass framework: a pass is a small frozen dataclass whose fields are its options.

``Pass.__call__(graph)`` checks the pass's preconditions, runs :meth:`Pass.call`, and returns a
:class:`PassResult` that says whether anything changed and what. Passes never mutate their input (the IR
is immutable); an unchanged graph is returned as the same object with ``modified=False``.

Each pass declares what it preserves (``preserves``):

* ``"structure"``: changes no computation at all (names, order, shapes only);
* ``"exact"``: program outputs are identical (bit for bit in float64; up to float32 rounding otherwise);
* ``"spikes"``: spike outputs identical, membranes equal up to a stated per-neuron scale;
* ``"approximate"``: within a tolerance the pass documents (e.g. quantization, re-timing).

The contract is enforced here, not left to each pass (onnx-ir's pass infrastructure, qwix's unused rules):

* ``call`` must return a :class:`PassResult` holding a :class:`Graph` (anything else is a :class:`PassError`
  naming the pass and what it returned);
* ``modified`` is honest: the content digest of the graph (:mod:`spyx.ir.digest`) is compared before and
  after, a pass that reports no change but changed the graph is a :class:`PassError`, and one that reports a
  change but returns the same content is corrected to ``modified=False``;
* an exception that is not a :class:`SpyxError` (a ``KeyError`` in a pass) becomes a :class:`PassError`
  naming the pass; :class:`PassManager` adds the passes that ran before it;
* options that address nodes by name or pattern (``name_options``: quantize-graph's ``skip``, ``scales``,
  ``integers``) must each address at least one of the names the pass looks at (:meth:`Pass.option_scope`),
  so that a typo is an :class:`OptionError` listing the names, not an option silently ignored.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from spyx.errors import OptionError, PassError, SpyxError
from spyx.ir.digest import graph_digest
from spyx.ir.graph import Graph
from spyx.ir.verify import verify

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
    #: options that address nodes: option name -> ``"pattern"`` (a regex, full match) or ``"key"`` (a mapping
    #: keyed by node name); each must address a name of :meth:`option_scope`
    name_options: ClassVar[Mapping[str, Literal["pattern", "key"]]] = {}
    #: what :meth:`option_scope` names, for messages
    scope_noun: ClassVar[str] = "node"
    #: running the pass on its own output changes nothing (a test checks every registered pass); False only
    #: for a pass that reinterprets a file convention and is applied once (spyx1-channels-last)
    idempotent: ClassVar[bool] = True

    def requires(self, graph: Graph) -> None:
        """Raise a :class:`SpyxError` if ``graph`` does not meet the pass's preconditions."""

    def call(self, graph: Graph) -> PassResult:
        raise NotImplementedError

    def option_scope(self, graph: Graph) -> list[str]:
        """The names ``name_options`` address: every node's dotted path unless the pass says otherwise."""
        return [path for path, _ in graph.walk()]

    def check_options(self, graph: Graph) -> None:
        """:class:`OptionError` for every pattern or key of ``name_options`` that addresses no name."""
        if not self.name_options:
            return
        scope = self.option_scope(graph)
        for option, how in self.name_options.items():
            value = getattr(self, option)
            if not value:
                continue
            if how == "pattern":
                unused = [] if any(re.fullmatch(value, n) for n in scope) else [value]
            else:
                unused = [k for k in value if k not in scope]
            if unused:
                listed = ", ".join(scope[:12]) + (", ..." if len(scope) > 12 else "") if scope else "none"
                what = "matches" if how == "pattern" else "names"
                raise OptionError(
                    f"{self.name}: {option}={', '.join(map(repr, unused))} {what} no {self.scope_noun} of the graph "
                    f"(a typo?); the {self.scope_noun}s are: {listed}"
                )

    def __call__(self, graph: Graph) -> PassResult:
        """Run the pass with its contract checked; any failure names the pass (see the module docstring)."""
        try:
            return self._checked(graph)
        except SpyxError:
            raise
        except Exception as e:  # a bug in the pass: say which one
            raise PassError(f"pass {self.spec()!r} failed: {type(e).__name__}: {e}") from e

    def _checked(self, graph: Graph) -> PassResult:
        if not isinstance(graph, Graph):
            raise PassError(f"pass {self.spec()!r} runs on a spyx Graph, got {type(graph).__name__}")
        self.requires(graph)
        self.check_options(graph)
        before = graph_digest(graph)
        result = self.call(graph)
        if not isinstance(result, PassResult) or not isinstance(result.graph, Graph):
            got = type(result).__name__
            if isinstance(result, PassResult):
                got = f"PassResult({type(result.graph).__name__})"
            raise PassError(
                f"pass {self.spec()!r} returned {got}; a pass returns PassResult(graph, modified, changes, notes)"
            )
        claimed = result.modified or bool(result.changes)
        changed = result.graph is not graph and graph_digest(result.graph) != before
        if changed and not claimed:
            raise PassError(
                f"pass {self.spec()!r} reported modified=False but changed the graph; a pass must say when it "
                "changes anything (PassResult(graph, True, changes))"
            )
        if claimed and not changed:  # rebuilt the same content: nothing changed, whatever it says
            return PassResult(result.graph, False, (), result.notes)
        if changed and not result.modified:
            return PassResult(result.graph, True, result.changes, result.notes)
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

    A failing pass raises :class:`PassError` naming it and the passes that ran before it, with the cause
    (its own message for a :class:`SpyxError`, the exception's type and message otherwise). With
    ``keep_error_types`` a :class:`SpyxError` passes through as it is (the lowering pipeline: a
    :class:`MissingDtError` stays one, and its message names the node already); any other exception is still
    wrapped.
    """

    passes: list[Pass]
    fixed_point: bool = False
    max_iterations: int = 20
    verify_each: bool = False
    keep_error_types: bool = False
    log: list[tuple[str, PassResult]] = field(default_factory=list)

    def __call__(self, graph: Graph) -> PassResult:
        changes: list[str] = []
        notes: list[str] = []
        modified = False
        ran: list[str] = []
        for _ in range(self.max_iterations if self.fixed_point else 1):
            round_modified = False
            for p in self.passes:
                try:
                    result = p._checked(graph)
                    if self.verify_each and result.modified:
                        verify(result.graph)
                except SpyxError as e:
                    if self.keep_error_types:
                        raise
                    self._fail(p, ran, e)
                except Exception as e:
                    self._fail(p, ran, e)
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

    @staticmethod
    def _fail(p: Pass, ran: list[str], e: BaseException) -> None:
        before = f" (after {', '.join(ran)})" if ran else " (first pass)"
        cause = str(e) if isinstance(e, SpyxError) else f"{type(e).__name__}: {e}"
        raise PassError(f"pass {p.spec()!r} failed{before}: {cause}") from e
