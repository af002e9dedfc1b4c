"""The profile framework: a profile is a frozen dataclass whose fields are the exporting framework's own
options (named as that framework names them), plus the *data* that says how spyx reads that framework's
files: per-kind rules, fixups, a default dt, and its own ``detect()`` (how to recognise them, asked by
:mod:`spyx.profiles.detect` in order).

A profile contributes to the one lowering pipeline (:mod:`spyx.profiles.pipeline`), which every entry
point runs (``spyx.compile``, ``spyx.load(profile=)``, ``spyx-convert run`` and ``lower``,
``spyx.nn.from_nir``)::

    *fixups()  ->  inline  ->  *flat_fixups()  ->  lower-neurons{profile=..., dt=...}  ->  verify

1. :meth:`Profile.fixups`: registered passes fixing the exporter's file conventions on the nested graph as
   read (the sample's batch axis in Input/Output types; Spyx 1.0's recurrent sub-graph wiring);
2. ``inline``;
3. :meth:`Profile.flat_fixups`: registered passes on the flat graph (Spyx 1.0's channels-last Flatten);
4. ``lower-neurons`` (:mod:`spyx.profiles.lower_neurons`): :meth:`Profile.resolved` settles options the file
   decides, the dt is chosen by the one rule of :func:`spyx.profiles.resolve.resolve_dt`, and
   :meth:`Profile.lower_nodes` lowers every continuous node: a neuron population by the profile's ``rules``
   (kind -> method, per-node options applied), with a one-step ``spyx.Shift`` on its output where
   :meth:`Profile.shift_output` holds; any other continuous node (a Delay) by its kind's own
   :class:`~spyx.ir.traits.Continuous` trait, which is NIR's meaning in every framework;
5. ``verify``.

The ``nir`` profile's ``lower_nodes`` is the ``discretize`` pass. Options the file cannot carry are fields
with the framework's own constructor default. ``node_options`` overrides any field for one node (the node's
flat name or the name of a nested graph holding it); the spec syntax is ``option@node=value``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from spyx.errors import ExportError, MissingDtError, OptionError, UnsupportedError
from spyx.ir.discrete import Shift
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.traits import Continuous, Population
from spyx.passes.base import Pass
from spyx.profiles.common import cycle_members
from spyx.profiles.fixups import DropBatchAxis

__all__ = ["Profile", "LoweredGraph"]


@dataclass(frozen=True)
class LoweredGraph:
    """A profile's lowering: the flat discrete graph, the dt it used (None if none), one line per decision
    the user should know about, and apart from them the ``note:``/``warning:`` lines of what was assumed
    rather than read from the file (:func:`spyx.profiles.resolve.assumptions`, ``dt_guess``)."""

    graph: Graph
    dt: float | None
    notes: tuple[str, ...]
    assumptions: tuple[str, ...] = ()  # what profile="auto" assumed that the file does not record, and dt guesses
    #: the spec of the profile it was lowered with, ``auto`` resolved (``spyx.save`` of a Program inverts it)
    profile: str = "nir"


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

    # -- data and hooks ----------------------------------------------------------------------------------
    #: node kind -> the name of the method that lowers it (``method(name, node, dt, in_cycle) -> Node``)
    rules: ClassVar[Mapping[str, str]] = {}
    #: the file is NIR as NIR means it (the ``nir`` profile): nothing to fix, nothing to re-encode
    native_nir: ClassVar[bool] = False
    #: the framework's short name in messages (default: ``framework``)
    peer: ClassVar[str] = ""
    #: the spike timing, in the word of NIR's open proposal: True = the framework integrates this step's
    #: input (the dynamics) and then tests the spike (the transition) in the same step, so a spike appears in
    #: the step whose input caused it; False = the spike is tested on the membrane from before this step's
    #: dynamics, one step later. Every profile states it in its own class (a property where an option
    #: decides it); docs/interop.md has the table and tests/profiles check it against a one-neuron run.
    dynamic_before_transition: ClassVar[bool] = True

    #: the options the file cannot carry (option -> what the file leaves out and what values it may take):
    #: ``profile="auto"`` takes them at the framework's default and says so (:mod:`spyx.profiles.resolve`)
    unrecorded: ClassVar[Mapping[str, str]] = {}

    def fixups(self) -> list[Pass]:
        """Passes fixing the exporter's file conventions on the nested graph as read. Default: drop a batch
        axis written into the port types (every torch exporter that traces a batched sample)."""
        return [DropBatchAxis()]

    def flat_fixups(self) -> list[Pass]:
        """Passes on the flat graph before the neurons are lowered. Default: none."""
        return []

    @staticmethod
    def detect(evidence: Any) -> Any:
        """Whether a file's neuron parameters (:class:`~spyx.profiles.evidence.Evidence`) follow this
        framework's export convention: a :class:`~spyx.profiles.evidence.Detection`, or None. Default: the
        framework is never recognised (``nir`` is what is left)."""
        return None

    def resolved(self, graph: Graph, dt: float | None) -> tuple[Profile, list[str]]:
        """This profile with the options the file decides settled (Norse: how tau was written), and notes."""
        return self, []

    def default_dt(self, graph: Graph) -> float | None:
        """The dt to use when the caller gives none (the framework's default, or one read from the file)."""
        return None

    def dt_guessed(self, graph: Graph) -> bool:
        """Whether :meth:`default_dt` of ``graph`` is a guess (the framework's default, not a value the file
        determines): then the lowering warns. Default: no (no default dt, or one the file convention fixes)."""
        return False

    def dt_option(self) -> float | None:
        """The profile's own ``dt`` option when the user set it (it then wins over a dt recorded in the
        graph); None when the profile has none or it is the default."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        if "dt" not in fields or self.dt is None or self.dt == fields["dt"].default:  # type: ignore[attr-defined]
            return None
        return float(self.dt)  # type: ignore[attr-defined]

    def neuron(self, name: str, node: Node, dt: float | None, in_cycle: bool) -> Node:
        """The ``spyx.Neuron`` for one continuous population, by the profile's rule for its kind."""
        rule = self.rules.get(node.kind)
        if rule is None:
            raise self.unsupported(name, node)
        return getattr(self, rule)(name, node, dt, in_cycle)

    def unsupported(self, name: str, node: Node) -> UnsupportedError:
        return UnsupportedError(
            f"node {name} ({node.kind}): {self.peer or self.framework} exports no {node.kind}; use the nir profile"
        )

    def shift_output(self, name: str, node: Node) -> bool:
        return False

    def encode_neuron(self, name: str, neuron: Node, dt: float | None) -> tuple[Node, list[str]]:
        raise UnsupportedError(
            f"profile {self.name!r} has no export encoding: spyx targets no {self.framework} NIR importer"
        )

    # -- the inverse of the lowering, for spyx.save of a compiled program (spyx/profiles/invert.py) ------------
    def invert_neuron(self, name: str, neuron: Node, dt: float | None) -> Node:
        """The continuous node this profile lowers (at ``dt``) to the discrete ``neuron``; float64 parameters.
        :func:`spyx.profiles.invert.invert_graph` checks the result by lowering it again."""
        raise ExportError(
            f"node {name}: the {self.name} profile has no inverse of its lowering; save with profile='nir'"
        )

    def unlower_fixups(self, graph: Graph) -> Graph:
        """The flat ``graph`` with :meth:`flat_fixups` undone (their inverse). Default: no fixups, nothing."""
        return graph

    # -- the lowering of step 4 ------------------------------------------------------------------------------
    def lower_nodes(self, graph: Graph, dt: float | None) -> tuple[Graph, list[str]]:
        """Every continuous node of the flat ``graph`` lowered at ``dt`` (see the module docstring);
        ``(graph, one line per lowered node)``."""
        cyc = cycle_members(graph)
        nodes: dict[str, Node] = {}
        edges = list(graph.edges)
        changes: list[str] = []
        for name, node in graph.nodes.items():
            continuous = node.trait(Continuous)
            if continuous is None:
                nodes[name] = node
                continue
            if not node.has_trait(Population):  # a Delay: every framework means NIR's equation
                if dt is None:
                    raise MissingDtError(
                        f"node {name} ({node.kind}) needs dt to become whole steps; pass dt (CLI: --dt)"
                    )
                nodes[name] = continuous.discretize(name, node, float(dt), "exact", "error", None)
                changes.append(f"{name}: {node.kind} -> {nodes[name].kind} (dt={dt})")
                continue
            own = self.for_node(name)
            nodes[name] = own.neuron(name, node, dt, name in cyc)
            changes.append(f"{name}: {node.kind} -> {nodes[name].kind} ({own.spec()})")
            if own.shift_output(name, node):
                shift = f"{name}.shift"
                steps = np.ones(tuple(nodes[name].shape), dtype=np.int64)
                nodes[shift] = Shift(steps=steps, metadata={"spyx.profile.note": f"{self.name} output delay"})
                edges = [(shift, b) if a == name else (a, b) for a, b in edges]
                edges.append((name, shift))
        if not changes:
            return graph, []
        return Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata), changes

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
