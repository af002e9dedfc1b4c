"""``outline-recurrent``: package each recurrent neuron-weight cycle into a nested graph (preserves: exact).

A cycle ``N -> W -> N`` where ``N`` is a spiking neuron population (the :class:`~spyx.ir.traits.Population`
and :class:`~spyx.ir.traits.Spiking` traits: LIF, CubaLIF, IF, ``spyx.Neuron``, ...) and ``W`` a dense
weight layer (Affine, Linear) whose only input and only consumer is ``N`` becomes a nested graph named ``N``
in the form snnTorch writes for ``RLeaky``/``RSynaptic`` (and its importer, Spyx 1.0 and Rockpool recognise)::

    N: NIRGraph
        input: Input (n,)
        lif: <N>
        w_rec: <W>
        output: Output (n,)
        input -> lif, lif -> w_rec, w_rec -> lif, lif -> output

Edges into ``N`` now enter the nested graph's single input, edges out of ``N`` leave its single output.
When the pair is named ``X.a`` and ``X.b`` (a flattened nested graph, as in snnTorch's files and after
``inline``), the nested graph is named ``X`` instead. The ``inline`` pass undoes it exactly, up to this
renaming: ``N`` becomes ``N.lif`` and ``W`` becomes ``N.w_rec`` (the inner names are the options
``neuron_name`` and ``weight_name``); for ``X.lif``/``X.w_rec`` pairs the round trip gives the same names.
The feedback edge stays
``lif -> w_rec`` (see :mod:`spyx.ir.algorithms`), so the program computes the same values. Only the top
level is searched; a neuron with more than one such weight is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.errors import OptionError
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.ports import Input, Output
from spyx.ir.traits import Population, WeightLayer
from spyx.passes.base import Pass, PassResult

__all__ = ["OutlineRecurrent", "recurrent_pairs"]


def _dense_weights(node: Node) -> bool:
    layer = node.trait(WeightLayer)
    return layer is not None and layer.layout == "dense"


def _outer_name(neuron: str, weight: str, graph: Graph) -> str:
    """``X`` when the pair is named ``X.a`` and ``X.b`` (a flattened nested graph, as snnTorch files and
    ``inline`` name them) and ``X`` is free; the neuron's name otherwise."""
    head, dot, _ = neuron.rpartition(".")
    if dot and weight.rpartition(".")[0] == head and head not in graph.nodes:
        return head
    return neuron


def recurrent_pairs(graph: Graph) -> list[tuple[str, str]]:
    """(neuron, weight) for every cycle ``neuron -> weight -> neuron`` that ``outline-recurrent`` packages."""
    pairs = []
    for name, node in graph.nodes.items():
        if not node.has_trait(Population) or not node.spiking:
            continue
        loops = []
        for w in dict.fromkeys(graph.successors(name)):
            wn = graph.nodes[w]
            plain = all(graph.edge_nodes(e) == e for e in graph.edges if w in e)
            if (
                _dense_weights(wn)
                and plain
                and set(graph.predecessors(w)) == {name}
                and set(graph.successors(w)) == {name}
            ):
                loops.append(w)
        if (
            len(loops) == 1
            and graph.edges.count((name, loops[0])) == 1
            and graph.edges.count((loops[0], name)) == 1
        ):
            pairs.append((name, loops[0]))
    return pairs


@dataclass(frozen=True, kw_only=True)
class OutlineRecurrent(Pass):
    """Package neuron -> w_rec -> neuron cycles as nested graphs (snnTorch's recurrent layer form)."""

    name = "outline-recurrent"
    description = (
        "package each neuron -> w_rec -> neuron cycle into a nested graph (input, lif, w_rec, output)"
    )
    preserves = "exact"

    neuron_name: str = "lif"
    weight_name: str = "w_rec"

    def __post_init__(self) -> None:
        names = (self.neuron_name, self.weight_name)
        if len(set(names)) != 2 or set(names) & {"input", "output"} or not all(names):
            raise OptionError(
                "pass 'outline-recurrent': neuron_name and weight_name must be two different non-empty names "
                f"other than 'input' and 'output', got {self.neuron_name!r} and {self.weight_name!r}"
            )

    def call(self, graph: Graph) -> PassResult:
        pairs = recurrent_pairs(graph)
        if not pairs:
            return PassResult(graph, False)
        weights = {w: n for n, w in pairs}
        outer_of: dict[str, str] = {}
        for n, w in pairs:
            outer = _outer_name(n, w, graph)
            outer_of[n] = n if outer in outer_of.values() else outer
        nodes: dict[str, Node] = {}
        for name, node in graph.nodes.items():
            if name in weights:
                continue
            if name not in dict(pairs):
                nodes[name] = node
                continue
            w = dict(pairs)[name]
            shape = np.asarray(node.declared_input_shape(), dtype=np.int64)
            inner = {
                "input": Input(shape=shape),
                self.neuron_name: node,
                self.weight_name: graph.nodes[w],
                "output": Output(shape=shape),
            }
            ln, wn = self.neuron_name, self.weight_name
            nodes[outer_of[name]] = Graph(
                nodes=inner, edges=(("input", ln), (ln, wn), (wn, ln), (ln, "output"))
            )
        edges = tuple(
            (outer_of.get(a, a), outer_of.get(b, b)) for a, b in graph.edges if not ({a, b} & set(weights))
        )
        changes = tuple(f"outlined {n} -> {w} -> {n} as nested graph {outer_of[n]}" for n, w in pairs)
        return PassResult(Graph(nodes=nodes, edges=edges, metadata=graph.metadata), True, changes)
