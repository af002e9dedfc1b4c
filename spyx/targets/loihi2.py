"""Intel Loihi 2 through Lava, as the NIR paper's converter (``paper/nir_to_lava.py``) maps NIR graphs.

Source (collected in ``hardware-targets.md``): current and voltage decays ``du, dv`` are 12-bit fractions
(``int(d * 4095)``); weights are scaled by 256 to integers; ``vth = int(v * 131071) >> 9``; no biases; CubaLIF
decays and thresholds are shared per layer; ``v_leak = 0``. Loihi 1 per core: 4096 input/output axons, <= 1,048,576
synapse bits (nengo-loihi validator; spikingjelly#543) - not checked here.

The integers the converter computes (``du``, ``dv``, ``vth``, weights) are :mod:`spyx.quant.loihi2`, shared with
the ``lava{fixed_pt=true}`` profile; ``loihi2.decay-format`` checks time constants against its truncating
``int(dt / tau * 4095)``, and ``quantize_for(g, "loihi2")`` writes time constants that convert back to the codes
it reports. Weights and thresholds keep the quantizer's own grid (per-tensor scale), not the converter's fixed
``x256`` / ``x131071 >> 9``.

Not in the sources: the weight and threshold bit widths (options ``weight_bits``, ``threshold_bits``, default
unknown) and the list of supported primitives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.traits import Population
from spyx.targets import rules as R
from spyx.targets.base import Formats, Rule, Target

_LAVA = "NIR paper paper/nir_to_lava.py"


def _synaptic(continuous: bool):
    """Populations with a synaptic current, continuous-time (CubaLIF, CubaLI) or discrete (spyx.Neuron)."""

    def select(node) -> bool:
        pop = node.trait(Population)
        return pop is not None and pop.has_synapse(node) and node.continuous == continuous

    return select


def _shared_neuron(n, node, target, dt):
    bad = [
        p
        for p in ("alpha", "beta", "v_threshold")
        if getattr(node, p) is not None and np.ptp(getattr(node, p))
    ]
    return (
        [R._v(f"{', '.join(bad)} of {n} differ between neurons; Loihi 2 shares them per layer", [n])]
        if bad
        else []
    )


@dataclass(frozen=True, kw_only=True)
class Loihi2(Target):
    """Loihi 2 (Lava). Options: ``weight_bits``, ``threshold_bits`` (unknown in the sources)."""

    name = "loihi2"
    description = "Intel Loihi 2 via Lava: 12-bit decays, integer weights, no biases, no leak level"
    sources = (_LAVA,)

    weight_bits: int | None = None
    threshold_bits: int | None = None

    def formats(self) -> Formats:
        return Formats(self.weight_bits, self.threshold_bits, "fraction12", "none", shared_threshold=True)

    rules = (
        Rule("loihi2.no-bias", "no biases", _LAVA, R.no_bias()),
        Rule(
            "loihi2.v-leak-zero",
            "v_leak = 0",
            _LAVA,
            R.zero_param("v_leak", R.NEURONS, "Loihi 2 neurons have no leak level"),
        ),
        Rule(
            "loihi2.shared-per-layer",
            "CubaLIF decays and thresholds shared per layer",
            _LAVA,
            R.uniform(("tau_syn", "tau_mem", "v_threshold"), _synaptic(True), "Loihi 2 shares them per layer"),
        ),
        Rule(
            "loihi2.shared-per-layer-discrete",
            "synaptic neurons: decays and thresholds shared per layer",
            _LAVA,
            R.per_node(_shared_neuron, _synaptic(False)),
        ),
        Rule(
            "loihi2.decay-format",
            "decays are 12-bit fractions d/4095 (checked when dt is given)",
            _LAVA,
            R.decay_format(lambda t: "fraction12"),
        ),
        Rule(
            "loihi2.weight-format",
            "integer weights (bit width: option weight_bits)",
            _LAVA,
            R.weight_format(lambda t: t.weight_bits),
        ),
        Rule(
            "loihi2.threshold-format",
            "integer thresholds (bit width: option threshold_bits)",
            _LAVA,
            R.threshold_format(lambda t: t.threshold_bits),
        ),
    )
