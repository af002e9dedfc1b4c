"""``lower-neurons{profile=...,dt=...}``: continuous neurons and delays to ``spyx.Neuron``/``spyx.Shift`` by a
profile's rules (preserves: approximate; exactly what the exporting framework computes, per its profile).

The fourth stage of the lowering pipeline (:mod:`spyx.profiles.pipeline`), on a flat graph:

1. the profile settles the options its file decides (:meth:`~spyx.profiles.base.Profile.resolved`);
2. the time step is chosen by the one rule of :func:`spyx.profiles.resolve.resolve_dt` (the ``dt`` option
   is the caller's);
3. the profile lowers every continuous node (:meth:`~spyx.profiles.base.Profile.lower_nodes`; the ``nir``
   profile is the ``discretize`` pass);
4. the lowered graph records what it was lowered for: ``spyx.dt`` in its metadata, and no ``spyx.profile``
   any more (the graph is discrete: lowering it again changes nothing).

``profile`` is a spec (``snntorch{reset=zero}``, braces nest in pipeline text) or a
:class:`~spyx.profiles.base.Profile`; per-node options (``option@node=value``) must each name a node or a
nested graph of the file, or the pass raises :class:`OptionError` listing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spyx.errors import OptionError, PassError
from spyx.ir.graph import Graph
from spyx.passes.base import Pass, PassResult
from spyx.passes.retime import DT_KEY
from spyx.profiles.base import Profile
from spyx.profiles.registry import get_profile
from spyx.profiles.resolve import PROFILE_KEY, resolve_dt

__all__ = ["LowerNeurons"]


@dataclass(frozen=True, kw_only=True)
class LowerNeurons(Pass):
    """Lower every continuous node with a profile's rules at one dt."""

    name = "lower-neurons"
    description = "lower continuous neurons and delays to spyx.Neuron/Shift by a profile's rules at dt (nir: exact ZOH)"
    preserves = "approximate"

    profile: Any = "nir"
    dt: float | None = None

    def spec(self) -> str:
        profile = self._profile().spec()
        opts = ([] if profile == "nir" else [f"profile={profile}"]) + ([] if self.dt is None else [f"dt={self.dt}"])
        return self.name + ("{" + ",".join(opts) + "}" if opts else "")

    def _profile(self) -> Profile:
        return self.profile if isinstance(self.profile, Profile) else get_profile(str(self.profile))

    def requires(self, graph: Graph) -> None:
        nested = [n for n, node in graph.nodes.items() if isinstance(node, Graph)]
        if nested:
            raise PassError(
                f"lower-neurons works on a flat graph; {', '.join(nested)} are nested graphs: run inline first "
                "(the lowering pipeline does)"
            )

    def option_scope(self, graph: Graph) -> list[str]:
        return list(graph.nodes)

    def check_options(self, graph: Graph) -> None:
        """Each per-node option must name a node of the flat graph or a nested graph it was inlined from."""
        profile = self._profile()
        names = set(graph.nodes)
        prefixes = {".".join(n.split(".")[:i]) for n in names for i in range(1, n.count(".") + 1)}
        unused = [k for k in profile.node_options if k not in names and k not in prefixes]
        if unused:
            listed = ", ".join(sorted(names)[:12]) + (", ..." if len(names) > 12 else "")
            raise OptionError(
                f"profile {profile.name!r}: per-node options for {', '.join(map(repr, unused))} name no node of the "
                f"graph (a typo?); the nodes are: {listed}"
            )

    def call(self, graph: Graph) -> PassResult:
        profile, notes = self._profile().resolved(graph, self.dt)
        dt, more = resolve_dt(self.dt, profile, graph)
        lowered, changes = profile.lower_nodes(graph, dt)
        meta = {k: v for k, v in graph.metadata.items() if k != PROFILE_KEY}
        if changes and dt is not None:
            meta[DT_KEY] = dt
        if not changes and meta == dict(graph.metadata):
            return PassResult(graph, False, (), tuple(notes + more))
        new = Graph(nodes=lowered.nodes, edges=lowered.edges, metadata=meta)
        return PassResult(new, True, tuple(changes), tuple(notes + more))
