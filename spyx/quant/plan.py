"""Which nodes a weight layer's scale reaches, and which layers must share a scale.

The *region* of a weight layer is every node its output reaches through nodes that carry a positive
per-channel factor (:mod:`spyx.quant.fold`), up to and including the nodes that absorb it (spiking
neurons, Threshold). Layers whose regions overlap (a recurrent layer and the feed-forward layer into the
same neuron; two branches merging) form one *group* and must share one factor on the nodes they reach.

A group can be folded when every region node receives input only from the group's layers or from other
region nodes, every node it reaches has a folding rule, and the factors arriving at a node agree.
Otherwise :attr:`Group.blocked` says why, and the quantize-graph pass falls back to a ``Scale`` node after each
of the group's layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spyx.ir.graph import Graph
from spyx.ir.node import Node, kinds_with
from spyx.ir.shapes import NodeShapes
from spyx.ir.traits import WeightLayer
from spyx.quant.fold import CARRY, fold_rule

__all__ = ["WEIGHT_KINDS", "Group", "plan_groups", "propagate_factors", "is_weight_layer"]


def is_weight_layer(node: Node) -> bool:
    """A layer the quantize-graph pass quantizes: a :class:`WeightLayer` with a weight matrix (Affine,
    Linear, Conv1d, Conv2d; not the elementwise Scale, which carries factors instead)."""
    layer = node.trait(WeightLayer)
    return layer is not None and layer.matrix


#: the kinds :func:`is_weight_layer` accepts, for messages and older callers (passes ask the node)
WEIGHT_KINDS = kinds_with(WeightLayer, lambda t: t.matrix)


@dataclass
class Group:
    """Layers sharing a scale, the nodes it reaches, and ``adapters``: Scale nodes outside the region that
    feed only region nodes from an unscaled signal (a subtractive-reset path ``spikes -> Scale(-thr)``);
    their factor is divided by the scale so that what they add is in the same units."""

    layers: list[str]
    region: set[str] = field(default_factory=set)
    blocked: str | None = None
    adapters: set[str] = field(default_factory=set)


def _walk(graph: Graph, layer: str, mode: str) -> tuple[set[str], str | None]:
    region: set[str] = set()
    stack = list(graph.successors(layer))
    blocked = None
    while stack:
        name = stack.pop()
        if name in region:
            continue
        node = graph.nodes[name]
        rule = fold_rule(node)
        if rule is None:
            blocked = blocked or f"{layer} reaches {name} ({node.kind}) before any neuron absorbs its scale"
            continue
        region.add(name)
        if rule.role(node, mode) == CARRY:
            stack.extend(graph.successors(name))
    return region, blocked


def plan_groups(graph: Graph, layers: list[str], mode: str) -> list[Group]:
    """Group ``layers`` (names of weight nodes of ``graph``) by overlapping regions, in graph order."""
    walks = {name: _walk(graph, name, mode) for name in layers}
    parent = {name: name for name in layers}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[str, str] = {}
    for name in layers:
        for node in walks[name][0]:
            if node in owner:
                parent[find(name)] = find(owner[node])
            else:
                owner[node] = name
    groups: dict[str, Group] = {}
    for name in layers:
        g = groups.setdefault(find(name), Group(layers=[]))
        g.layers.append(name)
        g.region |= walks[name][0]
        g.blocked = g.blocked or walks[name][1]
    for g in groups.values():
        if g.blocked:
            continue
        members = set(g.layers) | g.region
        for name in sorted(g.region):
            outside = [p for p in graph.predecessors(name) if p not in members]
            for p in list(outside):
                layer = graph.nodes[p].trait(WeightLayer)
                if layer is not None and not layer.matrix and all(s in g.region for s in graph.successors(p)):
                    g.adapters.add(p)
                    outside.remove(p)
            if outside:
                g.blocked = (
                    f"{name} also receives input that does not carry the scale, from {', '.join(outside)}"
                )
                break
    return list(groups.values())


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b))


def propagate_factors(
    graph: Graph,
    group: Group,
    layer_factors: dict[str, np.ndarray],
    shapes: dict[str, NodeShapes],
    mode: str,
) -> tuple[dict[str, np.ndarray], str | None]:
    """The factor arriving at each region node (its input's per-element scale), or a reason it is impossible.

    ``layer_factors`` gives each layer's output factor (its scale broadcast over its output shape).
    """
    out: dict[str, np.ndarray] = dict(layer_factors)
    arriving: dict[str, np.ndarray] = {}
    pending = sorted(group.region)
    while pending:
        progress = False
        for name in list(pending):
            known = [out[p] for p in graph.predecessors(name) if p in out and p not in group.adapters]
            if not known:
                continue
            pending.remove(name)
            progress = True
            if any(not _same(known[0], k) for k in known[1:]):
                return {}, f"{name} receives different scales from its inputs"
            arriving[name] = known[0]
            node = graph.nodes[name]
            rule = fold_rule(node)
            if rule.role(node, mode) != CARRY:
                continue
            carried = rule.carry(known[0], tuple(shapes[name].output))
            if carried is None:
                return {}, f"{name} ({node.kind}) cannot carry a per-channel scale of shape {known[0].shape}"
            out[name] = carried
        if not progress:
            return {}, f"no scale reaches {', '.join(pending)}"
    for name in group.region:
        for p in graph.predecessors(name):
            if p in out and not _same(out[p], arriving[name]):
                return {}, f"{name} receives different scales from its inputs"
    for name in group.adapters:
        seen = [arriving[s] for s in graph.successors(name)]
        if any(not _same(seen[0], f) for f in seen[1:]):
            return {}, f"{name} feeds nodes that carry different scales"
        arriving[name] = seen[0]
    return arriving, None
