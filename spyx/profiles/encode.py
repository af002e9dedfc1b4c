"""Export for a peer: re-express every neuron the way that framework's NIR *importer* reads the file.

The source graph is first lowered with the semantics it has in spyx (the profile recorded by
``spyx.load(path, profile=...)``, else ``nir`` at the given dt), giving one ``spyx.Neuron`` per population.
Each importer builds modules with a fixed step of its own (docs/interop.md, "Export for a peer"); the
neuron is written as the NIR node whose import computes the same step, with the membrane rescaled by the
neuron's input gain ``k`` where the importer has unit gain (threshold, leak and reset divided by ``k``: same
spikes, membrane ``1/k`` times spyx's). A neuron the importer cannot express (another reset, spike count,
test, clamp, synapse structure) is an :class:`ExportError` naming the node and the difference: nothing is
written approximately without saying so, and approximations that remain are returned as notes.
"""

from __future__ import annotations

import numpy as np

from spyx.errors import ExportError
from spyx.ir.delay import Delay
from spyx.ir.discrete import Neuron
from spyx.ir.graph import Graph
from spyx.ir.neurons import IF, LI, LIF, CubaLIF
from spyx.ir.node import Node
from spyx.ir.traits import Causal, Continuous

__all__ = ["encode_graph", "P", "require", "uniform", "F32"]

F32 = np.float32


def P(n: Neuron, name: str, default: float | None = 0.0) -> np.ndarray | None:
    v = getattr(n, name)
    if v is None:
        return None if default is None else np.full(n.shape, default, np.float64)
    return np.broadcast_to(np.asarray(v, np.float64), n.shape)


def require(ok: bool, name: str, peer: str, what: str) -> None:
    if not ok:
        raise ExportError(f"node {name}: {peer}'s NIR importer cannot express it: {what}")


def uniform(a: np.ndarray, name: str, peer: str, what: str) -> None:
    require(
        bool(np.allclose(a, np.ravel(a)[0], rtol=1e-6, atol=0)),
        name,
        peer,
        f"its importer needs one {what} per layer, this layer has {np.unique(np.ravel(a))[:4]}...",
    )


def plain_options(n: Neuron, name: str, peer: str, *, reset: str, test: str, count: str) -> None:
    """The options every importer fixes: reset kind, no delayed reset, spike test and count."""
    if not n.fires:
        return
    require(
        n.reset == reset and not n.reset_delay,
        name,
        peer,
        f"it builds reset={reset} applied in the same step; the node has reset={n.reset}"
        f"{' with reset_delay' if n.reset_delay else ''}",
    )
    require(n.spike_test == test, name, peer, f"its spike test is {test!r}, the node's {n.spike_test!r}")
    require(n.spike_count == count, name, peer, f"its spikes are {count}, the node's {n.spike_count}")
    require(
        not n.reset_guard and n.delayed_reset_on == "v", name, peer, "the node uses snnTorch's reset guard"
    )


def f32(a, shape=None) -> np.ndarray:
    a = np.asarray(a, np.float64).astype(F32)
    return a if shape is None else np.broadcast_to(a, shape).copy()


def _shape(*arrays) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(*(np.shape(a) for a in arrays)))


def encode_graph(graph: Graph, target, dt: float | None) -> tuple[Graph, list[str]]:
    from spyx.profiles.api import PROFILE_KEY, lower_with_profile

    source = graph.metadata.get(PROFILE_KEY, "nir")
    lowered = lower_with_profile(graph, source, dt=dt)
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
    meta = {k: v for k, v in lowered.graph.metadata.items() if k not in (PROFILE_KEY, "spyx.lowered_with")}
    meta["spyx.encoded_for"] = target.spec()
    return Graph(nodes=nodes, edges=lowered.graph.edges, metadata=meta), notes


def nir_lif(tau, r, v_leak, thr, v_reset) -> LIF:
    s = _shape(tau, r, v_leak, thr, v_reset)
    return LIF(
        tau=f32(tau, s), r=f32(r, s), v_leak=f32(v_leak, s), v_threshold=f32(thr, s), v_reset=f32(v_reset, s)
    )


def nir_if(r, thr, v_reset) -> IF:
    s = _shape(r, thr, v_reset)
    return IF(r=f32(r, s), v_threshold=f32(thr, s), v_reset=f32(v_reset, s))


def nir_li(tau, r, v_leak) -> LI:
    s = _shape(tau, r, v_leak)
    return LI(tau=f32(tau, s), r=f32(r, s), v_leak=f32(v_leak, s))


def nir_cubalif(tau_syn, tau_mem, r, v_leak, thr, v_reset, w_in) -> CubaLIF:
    s = _shape(tau_syn, tau_mem, r, v_leak, thr, v_reset, w_in)
    return CubaLIF(
        tau_syn=f32(tau_syn, s),
        tau_mem=f32(tau_mem, s),
        r=f32(r, s),
        v_leak=f32(v_leak, s),
        v_threshold=f32(thr, s),
        v_reset=f32(v_reset, s),
        w_in=f32(w_in, s),
    )
