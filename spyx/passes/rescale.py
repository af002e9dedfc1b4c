r"""``rescale{fold_scale=true,mode=gain,threshold=1}``: move constant factors between neurons and weights
(preserves: spikes). The three parts run in this order, each only when asked for:

* ``fold_scale=true``: a ``Scale`` node whose only consumer is an Affine/Linear/Conv (or whose only producer
  is one that feeds nothing else) is folded into that node's weights (and bias) and removed. Exact in real
  arithmetic. Convolutions need the scale constant over each channel's positions.
* ``mode=gain``: each neuron's input gain is folded into the weight nodes that feed it, which must feed
  only that neuron, so that the neuron integrates its input with gain 1. The gain is the first of the
  :class:`~spyx.ir.traits.Population` trait's input gains: ``r`` (LIF, IF, LI, I), ``w_in`` (CubaLIF,
  CubaLI), ``g_x`` (``spyx.Neuron`` without synapse, ``spyx.AdaptiveNeuron``) or ``w_syn`` (with a
  synapse); the other input gains are divided by it (``g_x`` becomes ``g_x / w_syn``). Exact in real
  arithmetic: membranes and spikes are unchanged.
* ``threshold=T``: for every spiking population with positive thresholds, ``k = T / v_threshold`` per
  neuron multiplies the weights and biases of its feeders (``via=weights``, feeders must feed only that
  neuron) or the neuron's own input gains (``via=gain``: ``r``/``w_in``/``g_x`` and ``w_syn``), together
  with its :class:`~spyx.ir.traits.Levels` (``v_threshold``, ``v_reset``, ``v_leak`` (continuous) or
  ``bias`` (discrete), ``v_min``; ``b`` of ``spyx.AdaptiveNeuron``) and initial membrane ``v0``. Every
  term of the membrane equation scales by ``k``, so the membrane is ``k`` times the old one, and each
  comparison ``u > thr`` and count ``floor(u / thr)`` is unchanged: spikes are identical (up to float
  rounding of the scaled parameters, one rounding each; computed in float64).

A population that cannot be rescaled (a feeder shared with other nodes, an Input feeding it directly, a
convolution whose factor varies over positions, a non-positive threshold or gain) is skipped and listed in
``PassResult.notes``; with ``on_conflict=error`` it is an error instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from spyx.errors import OptionError, PassError
from spyx.ir.graph import Graph
from spyx.ir.node import Node
from spyx.ir.traits import Levels, Population, WeightLayer
from spyx.passes.base import Pass, PassResult
from spyx.passes.weights import cast_like, exclusive_feeders, nested_note, scale_inputs, scale_outputs

__all__ = ["Rescale", "input_gain"]


def input_gain(node: Node) -> str | None:
    """The name of the parameter that multiplies a neuron's input, or None for non-neurons."""
    pop = node.trait(Population)
    return pop.input_gain(node) if pop is not None else None


def _membrane_params(node: Node) -> tuple[str, ...]:
    """What scales with the membrane: the node's levels and initial state."""
    levels, pop = node.trait(Levels), node.trait(Population)
    return (levels.params if levels else ()) + (pop.initial if pop else ())


def _mul(node: Node, names: tuple[str, ...], k: np.ndarray) -> Node:
    changes = {}
    for n in names:
        value = getattr(node, n, None)
        if value is not None:
            changes[n] = cast_like(value.astype(np.float64) * k, value)
    return node.replace(**changes)


def _set_unit_gain(node: Node, gain: np.ndarray) -> Node:
    """The input gain set to 1 and the other input gains divided by it: the feeders now carry it."""
    first, *rest = node.trait(Population).input_gains(node)
    changes = {first: cast_like(np.ones_like(gain), getattr(node, first))}
    for name in rest:
        value = getattr(node, name)
        changes[name] = cast_like(value.astype(np.float64) / gain, value)
    return node.replace(**changes)


@dataclass(frozen=True, kw_only=True)
class Rescale(Pass):
    """Fold Scale nodes, fold neuron input gains into weights, normalise thresholds."""

    name = "rescale"
    description = "fold Scale nodes and neuron input gains into weights; scale populations to a threshold"
    preserves = "spikes"

    mode: Literal["none", "gain"] = "none"
    threshold: float | None = None
    fold_scale: bool = False
    via: Literal["weights", "gain"] = "weights"
    on_conflict: Literal["skip", "error"] = "skip"

    def __post_init__(self) -> None:
        if self.mode == "none" and self.threshold is None and not self.fold_scale:
            raise OptionError(
                "pass 'rescale' does nothing without options; use rescale{mode=gain}, rescale{threshold=1} "
                "or rescale{fold_scale=true} (options combine)"
            )
        if self.threshold is not None and not self.threshold > 0:
            raise OptionError(f"pass 'rescale': threshold must be > 0, got {self.threshold}")

    # -- helpers ------------------------------------------------------------------------------------------
    def _skip(self, notes: list[str], name: str, node: Node, reason: str, part: str) -> None:
        message = f"{part}: skipped {name} ({node.kind}): {reason}"
        if self.on_conflict == "error":
            raise PassError(f"rescale: {message}")
        notes.append(message)

    def _fold_into_feeders(
        self, nodes: dict[str, Node], graph: Graph, name: str, k: np.ndarray, notes: list[str], part: str
    ) -> bool:
        feeders, reason = exclusive_feeders(graph, name)
        new: dict[str, Node] = {}
        for f in feeders:
            node, why = scale_outputs(nodes[f], k)
            if node is None:
                reason = f"feeder {f}: {why}"
                break
            new[f] = node
        if reason:
            self._skip(notes, name, nodes[name], reason, part)
            return False
        nodes.update(new)
        return True

    # -- the three parts ----------------------------------------------------------------------------------
    def _fold_scales(self, graph: Graph, changes: list[str]) -> Graph:
        for name, node in graph.nodes.items():
            layer = node.trait(WeightLayer)
            if layer is None or layer.layout != "elementwise":
                continue
            succ, pred, factor = graph.successors(name), graph.predecessors(name), layer.weights(node)
            plain = all(graph.edge_nodes(e) == e for e in graph.edges if name in e)
            if not plain:
                continue
            if (
                len(succ) == 1
                and graph.nodes[succ[0]].has_trait(WeightLayer)
                and graph.predecessors(succ[0]) == [name]
            ):
                target, new_node, before = succ[0], scale_inputs(graph.nodes[succ[0]], factor)[0], True
            elif (
                len(pred) == 1
                and graph.nodes[pred[0]].has_trait(WeightLayer)
                and graph.successors(pred[0]) == [name]
            ):
                target, new_node, before = pred[0], scale_outputs(graph.nodes[pred[0]], factor)[0], False
            else:
                continue
            if new_node is None:
                continue
            nodes = {k: (new_node if k == target else v) for k, v in graph.nodes.items() if k != name}
            edges = []
            for a, b in graph.edges:
                if name not in (a, b):
                    edges.append((a, b))
                elif before and b == name:
                    edges.append((a, target))
                elif not before and a == name:
                    edges.append((target, b))
            changes.append(f"folded {name} ({node.kind}) into {target} ({new_node.kind})")
            return self._fold_scales(Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata), changes)
        return graph

    def _fold_gains(self, graph: Graph, changes: list[str], notes: list[str]) -> Graph:
        start = len(changes)
        nodes = dict(graph.nodes)
        for name, node in graph.nodes.items():
            gname = input_gain(node)
            if gname is None:
                continue
            gain = getattr(node, gname).astype(np.float64)
            if np.all(gain == 1.0):
                continue
            if np.any(gain == 0.0):
                self._skip(
                    notes, name, node, f"{gname} has zeros, which cannot be moved into the weights", "gain"
                )
                continue
            if self._fold_into_feeders(nodes, graph, name, gain, notes, "gain"):
                nodes[name] = _set_unit_gain(node, gain)
                changes.append(f"{name}: folded {gname} into {', '.join(exclusive_feeders(graph, name)[0])}")
        return graph.with_nodes(nodes) if len(changes) > start else graph

    def _normalise(self, graph: Graph, changes: list[str], notes: list[str]) -> Graph:
        start = len(changes)
        nodes = dict(graph.nodes)
        for name, node in graph.nodes.items():
            pop = node.trait(Population)
            if pop is None or not node.spiking or getattr(node, "v_threshold", None) is None:
                continue
            thr = node.v_threshold.astype(np.float64)
            if np.any(thr <= 0):
                self._skip(
                    notes,
                    name,
                    node,
                    "v_threshold has non-positive values (scaling would flip spikes)",
                    "threshold",
                )
                continue
            k = self.threshold / thr
            if np.all(k == 1.0):
                continue
            own = _membrane_params(node)
            if self.via == "gain":
                nodes[name] = _mul(node, own + pop.input_gains(node), k)
                changes.append(f"{name}: threshold -> {self.threshold:g} (input gain and state x k)")
                continue
            if self._fold_into_feeders(nodes, graph, name, k, notes, "threshold"):
                nodes[name] = _mul(node, own, k)
                feeders = ", ".join(exclusive_feeders(graph, name)[0])
                changes.append(
                    f"{name}: threshold -> {self.threshold:g} (weights of {feeders} and state x k)"
                )
        return graph.with_nodes(nodes) if len(changes) > start else graph

    def call(self, graph: Graph) -> PassResult:
        changes: list[str] = []
        notes: list[str] = nested_note(graph)
        g = graph
        if self.fold_scale:
            g = self._fold_scales(g, changes)
        if self.mode == "gain":
            g = self._fold_gains(g, changes, notes)
        if self.threshold is not None:
            g = self._normalise(g, changes, notes)
        return PassResult(g if changes else graph, bool(changes), tuple(changes), tuple(notes))
