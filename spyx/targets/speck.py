"""SynSense Speck (DYNAP-CNN): a chip of 9 convolutional cores of integrate-and-fire neurons.

Sources (collected in ``hardware-targets.md``):

* samna speck2b docs; Sinabs "available network architecture" docs: 9 convolutional cores; 8-bit weights;
  16-bit neuron state; kernel <= 16x16; stride in {1, 2, 4, 8}; padding 0..7; sum-pool 1/2/4; <= 1024
  features per layer; each core feeds <= 2 destinations.
* NIR paper ``02_cnn/speck_accuracy.py``; specksim docs; sinabs#170: IAF neurons only after a convolution;
  one threshold per layer; biases not simulated.
* Sinabs 3.1.3 ``sinabs/backend/dynapcnn``: per-core kernel/neuron/bias memory and the placement of layers
  onto cores (:mod:`spyx.targets.speck_memory`); ``utils.topological_sorting`` and ``InvalidLayerLoop``:
  the layers must form no cycle (a loop between cores can deadlock the chip's event routing; Sinabs
  refuses to build such a network, so this is an error).

A Linear/Affine layer is accepted as a convolution whose kernel covers its whole input (how Sinabs maps it).
The threshold format is taken to be the 16-bit neuron state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.traits import Population, WeightLayer
from spyx.targets import rules as R
from spyx.ir.algorithms import sccs
from spyx.targets.base import Formats, Rule, Target
from spyx.targets.resources import ResourceRow
from spyx.targets.speck_memory import SPECK_CORES, place, speck_layers

_HW = "samna speck2b docs; Sinabs 'available network architecture' docs"
_SIM = "NIR paper 02_cnn/speck_accuracy.py; specksim docs; sinabs#170"
_MEM = "sinabs 3.1.3 backend/dynapcnn: DynapcnnLayer.memory_summary, chips/dynapcnn.py get_constraints, mapping.py"
_LOOP = "sinabs 3.1.3 backend/dynapcnn: utils.topological_sorting, exceptions.InvalidLayerLoop"
_CORE_OUTPUT = ("SumPool2d", "Flatten")  # primitives a core applies to its own output (hardware data, _HW)


def _conv(node) -> bool:
    """A Speck convolution: a 2-D convolution, or a dense layer (a kernel over the whole input)."""
    layer = node.trait(WeightLayer)
    return layer is not None and (layer.layout == "dense" or (layer.layout == "conv" and layer.spatial == 2))


def _iaf_only(n, node, target, dt):
    if node.spiking and node.trait(Population).leak_free(node):  # IF; a spyx.Neuron with beta = 1
        return []
    return [R._v(f"{n} is {node.kind}; Speck has integrate-and-fire (IAF) neurons only", [n])]


def _pool(n, node, target, dt):
    k = tuple(int(x) for x in np.asarray(node.kernel_size).reshape(-1))
    return (
        []
        if all(x in (1, 2, 4) for x in k)
        else [R._v(f"pool kernel {k} of {n}: Speck sum-pools 1, 2 or 4", [n])]
    )


def _dests(graph, n) -> set[str]:
    """The layers a neuron node sends to, looking through the pooling/flatten its core applies."""
    dests, stack, seen = set(), list(graph.successors(n)), set()
    while stack:
        s = stack.pop()
        if s in seen:
            continue
        seen.add(s)
        if graph.nodes[s].kind in _CORE_OUTPUT:
            stack.extend(graph.successors(s))
        else:
            dests.add(s)
    return dests


def _destinations(graph, target, dt):
    out = []
    for n in R.kinds(graph, R.NEURONS):
        dests = _dests(graph, n)
        if len(dests) > target.max_destinations:
            out.append(
                R._v(
                    f"{n} feeds {len(dests)} layers; a Speck core feeds at most {target.max_destinations}",
                    [n, *sorted(dests)],
                )
            )
    return out


def _memory(graph, target, dt):
    """Every layer fits some core's memory, and the layers can all be given distinct cores."""
    placement = place(speck_layers(graph), target.core_memory())
    reasons = placement.reasons()
    by_name = {lyr.name: lyr for lyr in placement.layers}
    return [R._v(reasons[n], [by_name[n].weight, by_name[n].neuron]) for n in placement.unplaced]


def _in_cycles(graph) -> list[str]:
    cyclic = {n for comp in sccs(graph) for n in comp}
    return [n for n in R.kinds(graph, R.NEURONS) if n in cyclic]


@dataclass(frozen=True, kw_only=True)
class Speck(Target):
    """Speck. Options: bit widths and limits (defaults from the sources)."""

    name = "speck"
    description = "SynSense Speck: 9 convolutional cores of IAF neurons, 8-bit weights, no biases"
    sources = (_HW, _SIM)
    primitives = (
        "Input",
        "Output",
        "Conv2d",
        "Linear",
        "Affine",
        "IF",
        "spyx.Neuron",
        "SumPool2d",
        "Flatten",
    )

    weight_bits: int = 8
    threshold_bits: int = 16
    cores: int = 9
    max_kernel: int = 16
    max_features: int = 1024
    max_destinations: int = 2

    def formats(self) -> Formats:
        return Formats(self.weight_bits, self.threshold_bits, "float", "none", shared_threshold=True)

    def core_memory(self):
        """The memory of the first ``cores`` cores (Sinabs' table; :mod:`spyx.targets.speck_memory`)."""
        return SPECK_CORES[: self.cores]

    def resource_rows(self, graph):
        """Per layer: kernel, neuron and bias entries against the core it was placed on (the largest core
        when it has none), and its destinations; then the cores used. Notes: the placement or why not."""
        cores = self.core_memory()
        placement = place(speck_layers(graph), cores)
        rows, notes = [], []
        for lyr in placement.layers:
            core = placement.assignment.get(lyr.name)
            at = cores[core] if core is not None else None
            f, fy, fx = lyr.feature_map  # the chip's rows are powers of two: say the plain count where it differs
            plain = f"; {f} x {fy} x {fx} = {f * fy * fx} neurons, rows and columns rounded up to powers of 2"
            plain = plain if lyr.neurons != f * fy * fx else ""
            for what, used, cap in (
                ("kernel entries", lyr.kernel, lambda c: c.kernel),
                ("neuron entries", lyr.neurons, lambda c: c.neuron),
                ("bias entries", lyr.bias, lambda c: c.bias),
            ):
                limit = cap(at) if at is not None else max(cap(c) for c in cores)
                note = f"core {core}" if at is not None else "largest core (not placed)"
                if what == "neuron entries":
                    note += plain
                rows.append(ResourceRow(lyr.name, what, used, limit, note))
            rows.append(ResourceRow(lyr.name, "destinations", len(_dests(graph, lyr.neuron)), self.max_destinations))
        rows.append(ResourceRow("chip", "cores", len(placement.layers), len(cores)))
        for lyr in placement.layers:
            fits = placement.candidates[lyr.name]
            core = placement.assignment.get(lyr.name)
            where = f"placed on core {core}" if core is not None else "not placed"
            notes.append(f"layer {lyr.name}: fits cores [{', '.join(map(str, fits))}]; {where}")
        notes += list(placement.reasons().values())
        return rows, notes

    rules = (
        Rule(
            "speck.primitives",
            "convolutions, IAF neurons, sum pooling, flatten",
            _HW,
            R.allowed_kinds(primitives),
        ),
        Rule(
            "speck.iaf-only", "integrate-and-fire neurons only", _SIM, R.per_node(_iaf_only, R.NEURONS)
        ),
        Rule(
            "speck.neuron-after-conv",
            "IAF neurons only after a convolution",
            _SIM,
            R.predecessors_must_be(R.NEURONS, _conv, "Speck neurons must follow a convolution"),
        ),
        Rule(
            "speck.conv-then-neuron",
            "every convolution feeds IAF neurons",
            _SIM,
            R.successors_must_be(_conv, R.NEURONS, "a Speck convolution feeds its core's neurons"),
        ),
        Rule(
            "speck.cores",
            "<= 9 convolutional layers",
            _HW,
            R.count_limit(
                lambda g: R.kinds(g, _conv), lambda t: t.cores, "convolutional layers", size=lambda g, n: 1
            ),
        ),
        Rule(
            "speck.kernel",
            "kernel <= 16x16",
            _HW,
            R.conv_param("kernel", lambda k: 1 <= k <= 16, "Speck kernels are at most 16x16"),
        ),
        Rule(
            "speck.stride",
            "stride in {1, 2, 4, 8}",
            _HW,
            R.conv_param("stride", lambda s: s in (1, 2, 4, 8), "Speck strides are 1, 2, 4 or 8"),
        ),
        Rule(
            "speck.padding",
            "padding 0..7",
            _HW,
            R.conv_param("padding", lambda p: 0 <= p <= 7, "Speck padding is 0..7"),
        ),
        Rule(
            "speck.pooling",
            "sum pooling 1, 2 or 4 (no average pooling)",
            _HW,
            R.per_node(_pool, ("SumPool2d",)),  # the only pooling Speck has (primitives above)
        ),
        Rule(
            "speck.features",
            "<= 1024 features per layer",
            _HW,
            R.features(lambda t: t.max_features, "Speck layers have at most"),
        ),
        Rule("speck.destinations", "each core feeds <= 2 destinations", _HW, _destinations),
        Rule(
            "speck.memory",
            "every layer fits a core's kernel/neuron/bias memory, each on its own core",
            _MEM,
            _memory,
        ),
        Rule(
            "speck.recurrence",
            "no recurrent loop between layers (deadlock risk; Sinabs cannot order the cores)",
            _LOOP,
            R.not_recurrent(_in_cycles, "Speck layers must form no loop (it can deadlock the chip)"),
        ),
        Rule(
            "speck.one-threshold",
            "one threshold per layer",
            _SIM,
            R.uniform(("v_threshold",), R.NEURONS, "Speck has one threshold per layer"),
        ),
        Rule("speck.no-bias", "no biases", _SIM, R.no_bias()),
        Rule(
            "speck.weight-format",
            "signed 8-bit integer weights",
            _HW,
            R.weight_format(lambda t: t.weight_bits),
        ),
        Rule(
            "speck.threshold-format",
            "16-bit neuron state (thresholds)",
            _HW,
            R.threshold_format(lambda t: t.threshold_bits),
        ),
    )
