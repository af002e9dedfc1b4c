"""Helpers shared by the peer profiles: float32 decays computed the way each peer rounds them, building a
``spyx.Neuron`` from per-neuron formulas, the population shape of a NIR neuron node, cycle membership, and
the file fixes every torch exporter needs (the sample's batch axis written into Input/Output types)."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from spyx.ir.discrete import Neuron
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.ports import Input, Output
from spyx.ir.shapes import infer_shapes

F32 = np.float32
F64 = np.float64


def a64(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=F64)


def snap1(g: Any, tol: float = 1e-5) -> np.ndarray:
    """Gains an exporter meant to be exactly 1 (``r*dt/tau`` with ``r = tau/dt``) come back as 1 +- an ulp
    of float32: snap them, so that ``1*x`` is ``x`` bit for bit."""
    g = a64(g)
    return np.where(np.abs(g - 1.0) < tol, 1.0, g)


def torch_exp_decay(dt: float, tau: Any) -> np.ndarray:
    """torch's float32 ``exp(-dt / tau)`` as Rockpool computes it: ``exp(reciprocal(tau) * -dt)``."""
    tau32 = np.asarray(tau, F32)
    return np.exp((F32(1.0) / tau32) * F32(-dt)).astype(F32)


def population_shape(node: Node) -> tuple[int, ...]:
    """The neuron population's shape: the broadcast of the node's parameter shapes."""
    return tuple(np.broadcast_shapes(*(np.shape(v) for v in node.params().values())))


def node_param(node: Node, name: str, default: float = 0.0) -> np.ndarray:
    value = getattr(node, name, None)
    return a64(default if value is None else value)


def make_neuron(shape: tuple[int, ...], metadata=None, **kw: Any) -> Neuron:
    """A ``spyx.Neuron`` with every array parameter broadcast to ``shape`` and stored in float32 (the peers
    run
    float32 state; their rounding is reproduced by computing each factor as they do, then storing float32)."""
    arrays = set(Neuron.param_names())
    params = {
        k: np.broadcast_to(np.asarray(v, F64).astype(F32), shape).copy()
        for k, v in kw.items()
        if k in arrays and v is not None
    }
    options = {k: v for k, v in kw.items() if k not in arrays}
    if options.get("synapse"):
        for k in ("alpha", "w_syn", "g_prev", "g_syn"):
            params.setdefault(k, np.zeros(shape, F32))
    params.setdefault("bias", np.zeros(shape, F32))
    return Neuron(**params, **options, metadata=metadata or {})


def cycle_members(graph: Graph) -> set[str]:
    """Nodes of a flat graph that lie on a cycle (strongly connected component of more than one node, or a
    self-loop)."""
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from(graph.edge_nodes(e) for e in graph.edges)
    out: set[str] = set()
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1 or any(g.has_edge(n, n) for n in comp):
            out |= comp
    return out


def drop_batch_axis(graph: Graph, where: str = "") -> tuple[Graph, list[str]]:
    """Torch exporters that trace a batched sample without ``ignore_dims`` (Norse ``to_nir``, Rockpool) write
    the sample's batch axis into the Input/Output types: ``(1, 6)`` for 6 inputs, ``(1, 1, 4)`` for 4
    outputs. Drop leading axes of size 1 from a port's shape when its neighbour's shape is the rest."""
    notes: list[str] = []
    nodes = dict(graph.nodes)
    declared: dict[str, tuple[int, ...] | None] = {}
    for name, node in graph.nodes.items():
        if not isinstance(node, Input | Output):
            try:
                declared[name] = node.declared_input_shape()
            except Exception:  # noqa: BLE001 (a node that cannot say is simply not used as evidence)
                declared[name] = None
    shapes = infer_shapes(graph, diagnostics=[])
    for name, node in graph.nodes.items():
        if not isinstance(node, Input | Output) or node.shape is None:
            continue
        shape = tuple(int(s) for s in np.ravel(node.shape))
        if isinstance(node, Input):
            others = [
                declared.get(graph.edge_nodes(e)[1]) for e in graph.edges if graph.edge_nodes(e)[0] == name
            ]
        else:
            others = [
                shapes[graph.edge_nodes(e)[0]].output for e in graph.edges if graph.edge_nodes(e)[1] == name
            ]
        others = [o for o in others if o is not None]
        if not others or any(tuple(o) == shape for o in others):
            continue
        want = tuple(others[0])
        k = len(shape) - len(want)
        if k > 0 and shape[k:] == want and all(s == 1 for s in shape[:k]):
            nodes[name] = node.replace(shape=np.asarray(want, dtype=np.int64))
            notes.append(
                f"{where}{name}: {node.kind} type {shape} carries the exporter's batch axis; read as {want}"
            )
    return (graph.with_nodes(nodes) if notes else graph), notes


def each_graph(graph: Graph, fn, where: str = "") -> tuple[Graph, list[str]]:
    """Apply ``fn(graph, where) -> (graph, notes)`` to a graph and every nested graph (inner first)."""
    notes: list[str] = []
    nodes = dict(graph.nodes)
    changed = False
    for name, node in graph.nodes.items():
        if isinstance(node, Graph):
            new, more = each_graph(node, fn, f"{where}{name}.")
            if more:
                nodes[name] = new
                notes += more
                changed = True
    if changed:
        graph = Graph(nodes=nodes, edges=graph.edges, metadata=graph.metadata)
    graph, more = fn(graph, where)
    return graph, notes + more
