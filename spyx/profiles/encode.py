"""Export for a peer: re-express every neuron the way that framework's NIR *importer* reads the file.

The source graph is first lowered with the semantics it has in spyx (the profile recorded by
``spyx.load(path, profile=...)``, else ``nir`` at the given dt), through the one lowering pipeline
(:func:`spyx.profiles.pipeline.lower`), giving one ``spyx.Neuron`` per population.
Each importer builds modules with a fixed step of its own (docs/interop.md, "Export for a peer"); the
neuron is written as the NIR node whose import computes the same step, with the membrane rescaled by the
neuron's input gain ``k`` where the importer has unit gain (threshold, leak and reset divided by ``k``: same
spikes, membrane ``1/k`` times spyx's). A neuron the importer cannot express (another reset, spike count,
test, clamp, synapse structure) is an :class:`ExportError` naming the node and the difference: nothing is
written approximately without saying so, and approximations that remain are returned as notes. The
helpers each profile's ``encode_neuron`` uses are in :mod:`spyx.profiles.encoding`.
"""

from __future__ import annotations

from spyx.errors import ExportError
from spyx.ir.delay import Delay
from spyx.ir.discrete import Neuron
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.traits import Causal, Continuous
from spyx.passes.retime import DT_KEY
from spyx.profiles.base import Profile
from spyx.profiles.encoding import F32, P, nir_cubalif, nir_if, nir_li, nir_lif, plain_options, require, uniform
from spyx.profiles.pipeline import lower
from spyx.profiles.resolve import PROFILE_KEY

__all__ = [
    "encode_graph", "P", "require", "uniform", "plain_options", "nir_lif", "nir_if", "nir_li", "nir_cubalif", "F32",
]


def encode_graph(graph: Graph, target: Profile, dt: float | None) -> tuple[Graph, list[str]]:
    """``graph`` with every neuron written for ``target``'s importer, and the notes (see the module docstring)."""
    if target.native_nir:  # NIR's own semantics: the file is already what its reader computes
        return graph, []
    source = graph.metadata.get(PROFILE_KEY, "nir")
    lowered = lower(graph, source, dt=dt)
    dt = lowered.dt if lowered.dt is not None else dt
    notes = [
        f"encode for {target.name}: the graph is read with the {source} profile"
        + (f" at dt = {dt:g}" if dt is not None else "")
    ]
    nodes: dict[str, Node] = {}
    for name, node in lowered.graph.nodes.items():
        if isinstance(node, Neuron):  # what every profile's encode_neuron reads
            new, more = target.encode_neuron(name, node, dt)
            nodes[name] = new.replace(metadata=dict(node.metadata))
            notes += more
        elif node.has_trait(Causal) and not node.continuous:  # a delay line in steps: NIR's Delay in seconds
            if dt is None:
                raise ExportError(f"node {name} ({node.kind}): writing it as a NIR Delay needs dt")
            nodes[name] = Delay(**Delay.declared_trait(Continuous).inverse(node, dt))
        else:
            nodes[name] = node
    # the peer reads the file with its own step conventions: neither spyx's profile nor its step is kept
    meta = {k: v for k, v in lowered.graph.metadata.items() if k not in (PROFILE_KEY, DT_KEY)}
    meta["spyx.encoded_for"] = target.spec()
    return Graph(nodes=nodes, edges=lowered.graph.edges, metadata=meta), notes


