"""Speck's per-core memory and the placement of a graph's layers onto its 9 cores.

Source: Sinabs 3.1.3, ``sinabs/backend/dynapcnn``: ``dynapcnn_layer.py`` (``DynapcnnLayer.memory_summary``,
``convert_linear_to_conv``), ``chips/dynapcnn.py`` (``get_constraints``, shared by the Speck 2e/2f config
builders) and ``mapping.py`` (``LayerConstraints.fits``, ``get_valid_mapping``).

A *layer* is what one core computes: a weight node (Conv2d, or Linear/Affine read as a convolution whose
kernel covers its whole input, as ``convert_linear_to_conv`` does), the IAF neurons it feeds, and the
pooling after them. Its memory, in entries (``memory_summary``), with weight shape ``(f, c, ky, kx)`` and
output feature map ``(f, fy, fx)`` (the neurons' shape, before pooling)::

    kernel = c * 2 ** (ceil(log2(kx * ky)) + ceil(log2(f)))
    neuron = f * 2 ** (ceil(log2(fy)) + ceil(log2(fx)))
    bias   = f when the weight node has a bias parameter, else 0

The neuron count is rounded up per spatial axis to a power of two (Sinabs' formula; the plain product
``f * fy * fx`` undercounts feature maps whose sides are not powers of two). A dense layer over a flat
input of ``n`` features is a ``(f, n, 1, 1)`` convolution; after a Flatten of ``(c, h, w)`` it is
``(f, c, h, w)``.

A layer fits core ``i`` when each count is at most that core's memory (:data:`SPECK_CORES`); a placement
puts each layer on its own core, found as a maximum bipartite matching (Sinabs uses Edmonds-Karp on the
same graph; any maximum matching answers the same question: does every layer get a core).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from spyx.ir.algorithms import topological_order
from spyx.ir.flatten import Flatten
from spyx.ir.graph import Graph
from spyx.ir.shapes import infer_shapes
from spyx.ir.traits import Population, WeightLayer

__all__ = [
    "SPECK_CORES",
    "CoreMemory",
    "Placement",
    "SpeckLayer",
    "kernel_entries",
    "neuron_entries",
    "place",
    "speck_layers",
]

_KI = 1024


@dataclass(frozen=True)
class CoreMemory:
    """One core's memory in entries: kernel (weights), neuron (state), bias."""

    index: int
    kernel: int
    neuron: int
    bias: int


# Sinabs chips/dynapcnn.py get_constraints: kernel 16/16/16/32/32/64/64/16/16 Ki, neuron 64/64/64/32/32/
# 16/16/16/16 Ki, bias 1024 entries on every core.
SPECK_CORES: tuple[CoreMemory, ...] = tuple(
    CoreMemory(i, k * _KI, n * _KI, 1024)
    for i, (k, n) in enumerate(
        [(16, 64), (16, 64), (16, 64), (32, 32), (32, 32), (64, 16), (64, 16), (16, 16), (16, 16)]
    )
)

def _clog2(x: int) -> int:
    return math.ceil(math.log2(x)) if x > 1 else 0


def kernel_entries(c: int, ky: int, kx: int, f: int) -> int:
    """Kernel memory entries of a ``(f, c, ky, kx)`` weight: ``c * 2^(ceil log2(kx ky) + ceil log2 f)``."""
    return c * 2 ** (_clog2(kx * ky) + _clog2(f))


def neuron_entries(f: int, fy: int, fx: int) -> int:
    """Neuron memory entries of an ``(f, fy, fx)`` feature map: ``f * 2^(ceil log2 fy + ceil log2 fx)``."""
    return f * 2 ** (_clog2(fy) + _clog2(fx))


@dataclass(frozen=True)
class SpeckLayer:
    """One core's worth of the graph: ``weight`` node -> ``neuron`` node, its weight shape as a
    convolution ``(f, c, ky, kx)`` and its output feature map ``(f, fy, fx)``."""

    weight: str
    neuron: str
    kernel_shape: tuple[int, int, int, int]
    feature_map: tuple[int, int, int]
    has_bias: bool

    @property
    def name(self) -> str:
        return f"{self.weight}->{self.neuron}"

    @property
    def kernel(self) -> int:
        f, c, ky, kx = self.kernel_shape
        return kernel_entries(c, ky, kx, f)

    @property
    def neurons(self) -> int:
        return neuron_entries(*self.feature_map)

    @property
    def bias(self) -> int:
        return self.kernel_shape[0] if self.has_bias else 0

    def fits(self, core: CoreMemory) -> bool:
        return self.kernel <= core.kernel and self.neurons <= core.neuron and self.bias <= core.bias


def _dense_input(graph: Graph, shapes, name: str) -> tuple[int, ...] | None:
    """The shape a dense layer's input had before Flatten nodes made it flat (Sinabs' ``in_shape``)."""
    s = shapes[name].input
    preds = graph.predecessors(name)
    while len(preds) == 1 and isinstance(graph.nodes[preds[0]], Flatten):
        s = shapes[preds[0]].input
        preds = graph.predecessors(preds[0])
    return None if s is None else tuple(int(x) for x in s)


def speck_layers(graph: Graph) -> list[SpeckLayer]:
    """The layers of a flat graph: each weight node (2-D convolution or dense) that feeds neurons, in
    topological order (feedback edges aside; ties in graph order). Weight nodes without neurons after
    them are left out (``speck.conv-then-neuron`` reports them); so are layers whose shapes cannot be
    inferred (``verify`` reports those)."""
    shapes = infer_shapes(graph, diagnostics=[])
    layers = []
    for name in topological_order(graph):
        node = graph.nodes[name]
        layer = node.trait(WeightLayer)
        if layer is None or not (layer.layout == "dense" or (layer.layout == "conv" and layer.spatial == 2)):
            continue
        neurons = [s for s in graph.successors(name) if graph.nodes[s].has_trait(Population)]
        out = shapes[name].output
        if not neurons or out is None:
            continue
        w = layer.weights(node)
        if layer.layout == "conv":
            f, c, ky, kx = (int(x) for x in w.shape)
            fmap = (int(out[0]), int(out[1]), int(out[2]))
        else:
            f = int(w.shape[0])
            src = _dense_input(graph, shapes, name)
            c, ky, kx = src if src is not None and len(src) == 3 else (int(w.shape[1]), 1, 1)
            fmap = (f, 1, 1)
        has_bias = bool(layer.bias) and getattr(node, layer.bias, None) is not None
        layers.append(SpeckLayer(name, neurons[0], (f, c, ky, kx), fmap, has_bias))
    return layers


@dataclass(frozen=True)
class Placement:
    """Which cores each layer fits (``candidates``), the assignment found (layer name -> core; the layers
    that got none are ``unplaced``), and a sentence per unplaced layer saying why (:meth:`reasons`)."""

    layers: tuple[SpeckLayer, ...]
    cores: tuple[CoreMemory, ...]
    candidates: dict[str, tuple[int, ...]]
    assignment: dict[str, int]

    @property
    def unplaced(self) -> tuple[str, ...]:
        return tuple(lyr.name for lyr in self.layers if lyr.name not in self.assignment)

    @property
    def ok(self) -> bool:
        return not self.unplaced

    def reasons(self) -> dict[str, str]:
        """Why each unplaced layer has no core: its counts against the largest core of each kind, or the
        cores it fits and the layers holding them in the maximum matching found (which layer of a
        contended group is left out depends on the order; that one must be is what the matching proves)."""
        out = {}
        holders = {core: name for name, core in self.assignment.items()}
        for lyr in self.layers:
            if lyr.name in self.assignment:
                continue
            fits = self.candidates[lyr.name]
            if not fits:
                out[lyr.name] = _why_nowhere(lyr, self.cores)
                continue
            taken = ", ".join(f"core {c} ({holders[c]})" for c in fits if c in holders)
            out[lyr.name] = (
                f"layer {lyr.name} fits cores {_cores(fits)} only; no placement gives every layer a core "
                f"(the largest one found gives those to {taken})"
            )
        return out


def _cores(indices) -> str:
    return ", ".join(str(i) for i in indices)


def _why_nowhere(lyr: SpeckLayer, cores: tuple[CoreMemory, ...]) -> str:
    parts = []
    for what, used, cap in (
        ("kernel", lyr.kernel, lambda c: c.kernel),
        ("neuron", lyr.neurons, lambda c: c.neuron),
        ("bias", lyr.bias, lambda c: c.bias),
    ):
        big = max(cap(c) for c in cores)
        if used > big:
            where = _cores(c.index for c in cores if cap(c) == big)
            parts.append(f"{used} {what} entries > {big}, the most any core has (cores {where})")
    if not parts:  # each count fits some core, but no core holds all of them
        parts.append(
            f"{lyr.kernel} kernel and {lyr.neurons} neuron entries: the cores with enough kernel memory "
            f"({_cores(c.index for c in cores if lyr.kernel <= c.kernel)}) have too little neuron memory"
        )
    return f"layer {lyr.name} fits no core: " + "; ".join(parts)


def place(layers: list[SpeckLayer], cores: tuple[CoreMemory, ...] = SPECK_CORES) -> Placement:
    """Assign each layer its own core it fits (a maximum bipartite matching by augmenting paths; layers in
    the order given, cores tried lowest index first, so the result is deterministic)."""
    candidates = {lyr.name: tuple(c.index for c in cores if lyr.fits(c)) for lyr in layers}
    owner: dict[int, str] = {}

    def augment(name: str, seen: set[int]) -> bool:
        for core in candidates[name]:
            if core in seen:
                continue
            seen.add(core)
            if core not in owner or augment(owner[core], seen):
                owner[core] = name
                return True
        return False

    for lyr in layers:
        augment(lyr.name, set())
    return Placement(tuple(layers), tuple(cores), candidates, {n: c for c, n in sorted(owner.items())})
