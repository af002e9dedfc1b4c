"""The profile framework: a profile is a frozen dataclass whose fields are the exporting framework's own
options (named as that framework names them), plus a lowering from continuous NIR nodes to ``spyx.Neuron``
/ ``spyx.Shift`` that reproduces what the framework computed.

:meth:`Profile.lower` is the pass a profile contributes to ``spyx.compile`` in place of ``discretize``:

1. :meth:`Profile.prepare`: fixes of the exporter's file conventions on the nested graph (e.g. the sample's
   batch axis in Input/Output types, Spyx 1.0's recurrent sub-graph wiring);
2. ``inline``;
3. :meth:`Profile.rewrite`: rewrites of the flat graph (e.g. Spyx 1.0's channels-last Flatten);
4. every continuous neuron through :meth:`Profile.neuron` (per-node options applied), every Delay to a
   ``spyx.Shift``; a neuron for which :meth:`Profile.shift_output` holds gets a one-step ``spyx.Shift`` on
   its output (all outgoing edges);
5. ``verify``.

Options the file cannot carry are fields with the framework's own constructor default. ``node_options``
overrides any field for one node (the node's flat name or the name of a nested graph holding it); the
spec syntax is ``option@node=value``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from spyx.errors import MissingDtError, OptionError, UnsupportedError
from spyx.ir.discrete import Shift
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.traits import Continuous, Population
from spyx.profiles.common import cycle_members, drop_batch_axis

__all__ = ["Profile", "LoweredGraph"]


@dataclass(frozen=True)
class LoweredGraph:
    """A profile's lowering: the flat discrete graph, the dt it used (None if none), and one line per
    decision the user should know about."""

    graph: Graph
    dt: float | None
    notes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Profile:
    """Base class: subclasses set ``name``, ``framework``, ``description`` and implement :meth:`neuron`."""

    name: ClassVar[str] = ""
    framework: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: the option fields that only mean something per node (documented per profile)
    node_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    # -- options -------------------------------------------------------------------------------------------
    def option_fields(self) -> list[dataclasses.Field]:
        return [f for f in dataclasses.fields(self) if f.name != "node_options"]

    def for_node(self, name: str) -> Profile:
        """This profile with the per-node overrides of ``name`` (or of a nested graph holding it) applied."""
        changes: dict[str, Any] = {}
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            changes.update(self.node_options.get(".".join(parts[:i]), {}))
        return dataclasses.replace(self, **changes) if changes else self

    def spec(self) -> str:
        """The profile as spec text, e.g. ``snntorch{reset=zero}`` (options that differ from the defaults)."""
        opts = []
        for f in self.option_fields():
            value = getattr(self, f.name)
            default = f.default if f.default is not dataclasses.MISSING else None
            if value != default:
                opts.append(f"{f.name}={_fmt(value)}")
        for node, over in self.node_options.items():
            opts += [f"{k}@{node}={_fmt(v)}" for k, v in over.items()]
        return self.name + ("{" + ",".join(opts) + "}" if opts else "")

    # -- hooks -----------------------------------------------------------------------------------------------
    def default_dt(self, graph: Graph) -> float | None:
        """The dt to use when the caller gives none (the framework's default, or one read from the file)."""
        return None

    def prepare(self, graph: Graph) -> tuple[Graph, list[str]]:
        """Fixes on the nested graph as read (before inlining). Default: drop a batch axis in port types."""
        return _each_graph(graph, drop_batch_axis)

    def rewrite(self, graph: Graph) -> tuple[Graph, list[str]]:
        """Rewrites of the flat graph before the neurons are lowered. Default: none."""
        return graph, []

    def neuron(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        raise NotImplementedError

    def shift_output(self, name: str, node: Node) -> bool:
        return False

    def encode(self, graph: Graph, dt: float | None) -> tuple[Graph, list[str]]:
        """``graph`` with every neuron written the way this framework's NIR importer reads it, so that the
        import computes what spyx computes for ``graph`` (see :mod:`spyx.profiles.encode`)."""
        from spyx.profiles.encode import encode_graph

        return encode_graph(graph, self, dt)

    def encode_neuron(self, name: str, neuron: Node, dt: float | None) -> tuple[Node, list[str]]:
        raise UnsupportedError(
            f"profile {self.name!r} has no export encoding: spyx targets no {self.framework} NIR importer"
        )

    # -- the lowering ----------------------------------------------------------------------------------------
    def lower(self, graph: Graph, dt: float | None = None) -> LoweredGraph:
        from spyx.ir.verify import verify
        from spyx.passes.inline import inline_graph

        notes: list[str] = []
        graph, more = self.prepare(graph)
        notes += more
        graph, _ = inline_graph(graph)
        graph, more = self.rewrite(graph)
        notes += more
        if dt is None:
            dt = self.default_dt(graph)
            if dt is not None:
                notes.append(f"{self.name}: dt = {dt:g} ({self.dt_source()})")
        cyc = cycle_members(graph)
        nodes: dict[str, Node] = {}
        edges = list(graph.edges)
        for name, node in graph.nodes.items():
            continuous = node.trait(Continuous)
            if continuous is not None and node.has_trait(Population):
                nodes[name] = self.for_node(name).neuron(name, node, dt, name in cyc)
                if self.for_node(name).shift_output(name, node):
                    shift = f"{name}.shift"
                    steps = np.ones(tuple(nodes[name].shape), dtype=np.int64)
                    nodes[shift] = Shift(
                        steps=steps, metadata={"spyx.profile.note": f"{self.name} output delay"}
                    )
                    edges = [(shift, b) if a == name else (a, b) for a, b in edges]
                    edges.append((name, shift))
            elif continuous is not None:  # not a neuron (a Delay): every framework means NIR's equation
                if dt is None:
                    raise MissingDtError(
                        f"node {name} ({node.kind}) needs dt to become whole steps; pass dt (CLI: --dt)"
                    )
                nodes[name] = continuous.discretize(name, node, float(dt), "exact", "error", None)
            else:
                nodes[name] = node
        # record what lowered it under another key: a lowered graph must not be lowered again by compile
        meta = {k: v for k, v in graph.metadata.items() if k != "spyx.profile"}
        lowered = Graph(nodes=nodes, edges=tuple(edges), metadata={**meta, "spyx.lowered_with": self.spec()})
        return LoweredGraph(verify(lowered), dt, tuple(notes))

    def dt_source(self) -> str:
        return "the framework's default"

    def require_dt(self, dt: float | None, name: str) -> float:
        if dt is None:
            raise MissingDtError(f"node {name}: profile {self.name!r} needs dt; pass dt (CLI: --dt)")
        if not (np.isfinite(dt) and dt > 0):
            raise OptionError(f"profile {self.name!r}: dt must be a positive number, got {dt!r}")
        return float(dt)


def _fmt(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def _each_graph(graph: Graph, fn, where: str = "") -> tuple[Graph, list[str]]:
    """Apply ``fn(graph, where) -> (graph, notes)`` to a graph and every nested graph (inner first)."""
    notes: list[str] = []
    nodes = dict(graph.nodes)
    changed = False
    for name, node in graph.nodes.items():
        if isinstance(node, Graph):
            new, more = _each_graph(node, fn, f"{where}{name}.")
            if more:
                nodes[name] = new
                notes += more
                changed = True
    if changed:
        graph = Graph(nodes=nodes, edges=graph.edges, metadata=graph.metadata)
    graph, more = fn(graph, where)
    return graph, notes + more
