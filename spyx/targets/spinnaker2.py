"""SpiNNaker2, as the NIR paper's notebooks map NIR graphs
(``02_cnn/s2_apply.ipynb``, ``03_rnn/s2_apply.py``) and as py-spinnaker2's NIR converter reads them.

Sources: ``hardware-targets.md``: the reset is chosen on import, ZERO or SUBTRACT; the neuron integrator
is Euler-forward or exponential; weights are scaled to the chip's range; large layers need a smaller
``max_atoms_per_core``. py-spinnaker2 ``spinnaker2/s2_nir.py`` (``from_nir``): ``create_populations``
accepts Input, Output, LIF, IF, CubaLIF, Affine, Linear, Conv2d, SumPool2d, AvgPool2d and Flatten
(anything else: ``NotImplementedError``); a weight node connected to another weight node raises
``HardwareConstraintError`` ("Two successive layers with weights are not supported"); a CubaLIF fed by a
Conv2d is refused (``"Conv2d with CubaLIF is currently not supported!"``); an Input must be 1-D or 3-D;
weights are ``int8`` (``get_conv2d_params``: ``astype(np.int8)``; ``scale_weights`` scales each
population's incoming weights by one factor to ``[-127, 127]``: one scale per layer).

Not in the sources: the threshold format and the value of ``max_atoms_per_core``. ``integrator`` is recorded
for ``quantize_for`` reports only (the graph does not carry it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from spyx.ir.traits import WeightLayer
from spyx.targets import rules as R
from spyx.targets.base import Formats, Rule, Target
from spyx.targets.resources import ResourceRow

_S2 = "NIR paper 02_cnn/s2_apply.ipynb, 03_rnn/s2_apply.py"
_CONV = "py-spinnaker2 spinnaker2/s2_nir.py (from_nir: create_populations, get_conv2d_params)"


def _not_weights(node) -> bool:
    return not R.WEIGHTS(node)


def _not_conv2d(node) -> bool:
    return not R.CONV2D(node)


def _input_rank(n, node, target, dt):
    rank = int(np.asarray(node.shape).reshape(-1).size)
    if rank in (1, 3):
        return []
    return [R._v(f"input {n} has {rank} dimensions; the SpiNNaker2 converter takes 1-D or 3-D inputs", [n])]


@dataclass(frozen=True, kw_only=True)
class SpiNNaker2(Target):
    """SpiNNaker2. Options: ``reset`` (``zero`` | ``subtract``), ``integrator`` (``euler`` | ``exp``),
    ``weight_bits`` (8: the converter's int8), ``max_atoms_per_core`` (unknown; for the resource table)."""

    name = "spinnaker2"
    description = "SpiNNaker2: int8 weights, reset to zero or by subtraction, Euler or exponential integration"
    sources = (_S2, _CONV)
    # create_populations' isinstance lists (hardware data, _CONV)
    primitives = (
        "Input",
        "Output",
        "LIF",
        "IF",
        "CubaLIF",
        "Affine",
        "Linear",
        "Conv2d",
        "SumPool2d",
        "AvgPool2d",
        "Flatten",
    )

    reset: Literal["zero", "subtract"] = "zero"
    integrator: Literal["euler", "exp"] = "exp"
    weight_bits: int | None = 8
    max_atoms_per_core: int | None = None

    def formats(self) -> Formats:
        return Formats(self.weight_bits, None, "float", "weights")

    def resource_rows(self, graph):
        """Per neuron population: its neurons (against ``max_atoms_per_core`` when given: how many cores it
        needs is the note); per weight layer: the weights it stores."""
        rows = []
        per_core = self.max_atoms_per_core
        for n in R.kinds(graph, R.NEURONS):
            size = R.neuron_size(graph, n)
            note = f"{-(-size // per_core)} core(s) at {per_core} per core" if per_core else ""
            rows.append(ResourceRow(n, "neurons", size, None, note))
        for n in R.kinds(graph, R.WEIGHTS):
            node = graph.nodes[n]
            rows.append(ResourceRow(n, "weights", node.trait(WeightLayer).count(node), None))
        return rows, []

    rules = (
        Rule(
            "spinnaker2.primitives",
            "only the node kinds the converter reads",
            _CONV,
            R.allowed_kinds(primitives),
        ),
        Rule(
            "spinnaker2.no-weight-chain",
            "no two weight layers in a row",
            _CONV,
            R.successors_must_be(R.WEIGHTS, _not_weights, "the converter refuses two successive weight layers"),
        ),
        Rule(
            "spinnaker2.cubalif-not-after-conv",
            "CubaLIF is not fed by a Conv2d",
            _CONV,
            R.predecessors_must_be(
                R.of_kinds(("CubaLIF",)), _not_conv2d, "the converter has no Conv2d -> CubaLIF population"
            ),
        ),
        Rule("spinnaker2.input-rank", "inputs are 1-D or 3-D", _CONV, R.per_node(_input_rank, R.INPUTS)),
        Rule(
            "spinnaker2.reset",
            "reset to zero or by subtracting the threshold (chosen on import)",
            _S2,
            R.reset_mode(lambda t: t.reset),
        ),
        Rule(
            "spinnaker2.weight-format",
            "signed 8-bit integer weights (int8), one scale per layer",
            _CONV,
            R.weight_format(lambda t: t.weight_bits),
        ),
    )
