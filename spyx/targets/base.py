"""Hardware targets as data: number formats, design rules, and a rule engine that checks a graph.

A target is a frozen dataclass whose fields are its options (``xylo{variant=imu}``,
``spinnaker2{weight_bits=8}``): values that the collected sources give are defaults; values they do
not give are options defaulting to ``None`` ("unknown"), and the rules that need them are skipped and
listed by :meth:`Target.unknowns`.
Each :class:`Rule` names its id, what it requires, its source, and a check function over a flat graph
(nested graphs are inlined before checking, so node names may be dotted). :meth:`Target.resources` counts
what the graph uses against the target's limits (a :class:`~spyx.targets.resources.ResourceTable`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from spyx.ir.graph import Graph
from spyx.passes.inline import inline_graph
from spyx.passes.retime import graph_dt
from spyx.targets.resources import ResourceRow, ResourceTable

__all__ = ["Formats", "Rule", "Target", "Violation"]


@dataclass(frozen=True)
class Violation:
    """One broken rule: the rule id, the nodes at fault, a message saying what was expected, the source.

    ``severity`` is ``"error"`` (the graph cannot run on the target as it is) or ``"warning"`` (it can, but
    the target computes something the graph does not say, e.g. a different reset).
    """

    rule: str
    nodes: tuple[str, ...]
    message: str
    severity: str = "error"
    source: str = ""

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "nodes": list(self.nodes),
            "message": self.message,
            "source": self.source,
        }

    def __str__(self) -> str:
        where = f" ({', '.join(self.nodes)})" if self.nodes else ""
        tag = "" if self.severity == "error" else f" {self.severity}:"
        return f"[{self.rule}]{tag} {self.message}{where}"


@dataclass(frozen=True)
class Formats:
    """Number formats: signed bit widths (None: unknown), the decay representation (``shift``: Xylo
    ``beta = 1 - 2**-dash``; ``fraction12``: Loihi ``d / 4095``; ``float``: unconstrained; None: unknown),
    whether biases exist on chip (``"weights"``: scaled like weights; ``"none"``: not supported)."""

    weight_bits: int | None
    threshold_bits: int | None
    decay: str | None
    bias: str
    max_shift: int | None = None
    shared_threshold: bool = False  # one threshold per layer: weight scales must be per tensor to keep it

    def describe(self) -> list[str]:
        unk = "unknown"
        return [
            f"weights: {'signed ' + str(self.weight_bits) + '-bit' if self.weight_bits else unk}",
            "thresholds/state: " + (f"signed {self.threshold_bits}-bit" if self.threshold_bits else unk),
            f"decays: {self.decay or unk}" + (f" (shift <= {self.max_shift})" if self.max_shift else ""),
            f"biases: {'scaled like weights' if self.bias == 'weights' else 'not supported'}",
        ]


Check = Callable[[Graph, "Target", "float | None"], list[Violation]]


@dataclass(frozen=True)
class Rule:
    """A design rule: ``id`` (``xylo.max-hidden``), ``text`` (what it requires), ``source``, ``check``.

    ``check(graph, target, dt)`` returns the violations; it may return ``[]`` when an option it needs is
    unknown (:meth:`Target.unknowns` says so).
    """

    id: str
    text: str
    source: str
    check: Check


@dataclass(frozen=True, kw_only=True)
class Target:
    """Base of the targets. Subclasses set ``name``, ``description``, ``sources`` and ``rules`` and give
    :meth:`formats`; their dataclass fields are options."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    sources: ClassVar[tuple[str, ...]] = ()
    rules: ClassVar[tuple[Rule, ...]] = ()
    primitives: ClassVar[tuple[str, ...] | None] = None  # None: the sources do not list them

    def formats(self) -> Formats:
        raise NotImplementedError

    def unknowns(self) -> list[str]:
        """Options left unknown (``None``): rules and formats that need them are not checked."""
        return [f.name for f in dataclasses.fields(self) if getattr(self, f.name) is None]

    def spec(self) -> str:
        opts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value != f.default and value is not None:
                opts.append(f"{f.name}={value}")
        return self.name + ("{" + ",".join(opts) + "}" if opts else "")

    def check(self, graph: Graph, dt: float | None = None) -> list[Violation]:
        dt = graph_dt(graph) if dt is None else dt
        flat, _ = inline_graph(graph)
        found: list[Violation] = []
        for rule in self.rules:
            for v in rule.check(flat, self, dt):
                found.append(dataclasses.replace(v, rule=rule.id, source=rule.source))
        return found

    def resources(self, graph: Graph) -> ResourceTable:
        """What ``graph`` uses of this target's resources, per layer or core (nested graphs inlined)."""
        flat, _ = inline_graph(graph)
        rows, notes = self.resource_rows(flat)
        return ResourceTable(self.spec(), tuple(rows), tuple(notes))

    def resource_rows(self, graph: Graph) -> tuple[list[ResourceRow], list[str]]:
        """Rows and notes for a flat graph; targets with a resource model override this."""
        return [], []
