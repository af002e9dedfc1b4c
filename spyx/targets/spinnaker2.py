"""SpiNNaker2, as the NIR paper's notebooks map NIR graphs
(``02_cnn/s2_apply.ipynb``, ``03_rnn/s2_apply.py``).

Source (collected in ``hardware-targets.md``): the reset is chosen on import, ZERO or SUBTRACT; the neuron
integrator is Euler-forward or exponential; weights are scaled to the chip's range; large layers need a
smaller ``max_atoms_per_core``.

Not in the sources: the weight bit width (option ``weight_bits``, default unknown), the threshold format, the
value of ``max_atoms_per_core`` and the list of supported primitives. ``integrator`` is recorded for
``quantize_for`` reports only (the graph does not carry it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spyx.targets import rules as R
from spyx.targets.base import Formats, Rule, Target

_S2 = "NIR paper 02_cnn/s2_apply.ipynb, 03_rnn/s2_apply.py"


@dataclass(frozen=True, kw_only=True)
class SpiNNaker2(Target):
    """SpiNNaker2. Options: ``reset`` (``zero`` | ``subtract``), ``integrator`` (``euler`` | ``exp``),
    ``weight_bits`` (unknown in the sources)."""

    name = "spinnaker2"
    description = "SpiNNaker2: reset to zero or by subtraction, Euler or exponential integration"
    sources = (_S2,)

    reset: Literal["zero", "subtract"] = "zero"
    integrator: Literal["euler", "exp"] = "exp"
    weight_bits: int | None = None
    max_atoms_per_core: int | None = None

    def formats(self) -> Formats:
        return Formats(self.weight_bits, None, "float", "weights")

    rules = (
        Rule(
            "spinnaker2.reset",
            "reset to zero or by subtracting the threshold (chosen on import)",
            _S2,
            R.reset_mode(lambda t: t.reset),
        ),
        Rule(
            "spinnaker2.weight-format",
            "integer weights in the chip's range (bit width: option weight_bits)",
            _S2,
            R.weight_format(lambda t: t.weight_bits),
        ),
    )
