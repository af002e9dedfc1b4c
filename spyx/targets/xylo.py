"""SynSense Xylo (Audio v2, Audio 3, IMU): a recurrent spiking network of current-based LIF neurons with
integer state.

Sources (collected in ``hardware-targets.md``):

* Rockpool Xylo overview; ``rockpool/devices/xylo/syns61201/xylo_mapper.py``: <= 16 inputs, <= 1000 hidden
  neurons, <= 8 outputs (Audio v2); IMU: 496 hidden, 16 outputs; max fan-out 512 (64 on Audio).
* ``rockpool/transform/quantize_methods.py``: signed 8-bit weights (input, recurrent, output), signed 16-bit
  thresholds, biases scaled like the weights.
* Xylo mapper docstrings, Rockpool docs: decays are bit shifts (``dash``, uint8: ``beta = 1 - 2**-dash``),
  subtractive reset, up to 31 spikes per step (output neurons 1).
* ``rockpool/devices/xylo/syns65302/xylo_mapper.py`` (XyloAudio 3): ``mapper(max_hidden_neurons=992,
  max_output_neurons=32)``, int8 weights (``weight_dtype``), the same ``le_16_input_channels`` rule, and
  ``le_16_output_channels``: a *warning* above 16 output channels. Its fan-out limit is not given.
* ``rockpool/devices/xylo/syns63300`` (Xylo IMU): 496 hidden neurons, 16 outputs.
* ``rockpool/devices/xylo/syns61300/xylo_mapper.py`` (``xylo_drc``): input goes through weights first;
  neurons receive input only from weights; no two weight layers in a row; outputs come from neurons; output
  neurons are not recurrent; one dt for the whole network; at least 2 neuron layers.

The variants are one class: ``xylo{variant=audio3}`` and the registered names ``xylo-audio3`` and
``xylo-imu`` (subclasses whose only variant is theirs) check the same rules with the variant's limits.
The bias bit width is not given (biases are "scaled like weights"); only integrality is checked. Fan-out is
read as the number of nonzero weights leaving one input channel or neuron.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spyx.ir.traits import Spiking
from spyx.targets import rules as R
from spyx.targets.base import Formats, Rule, Target
from spyx.targets.resources import ResourceRow

_MAPPER = "rockpool/devices/xylo/syns61300/xylo_mapper.py (xylo_drc)"
_OVERVIEW = "Rockpool Xylo overview; rockpool/devices/xylo/syns61201/xylo_mapper.py"
_QUANT = "rockpool/transform/quantize_methods.py"
_DOCS = "Xylo mapper docstrings; Rockpool docs"
_A3 = "rockpool/devices/xylo/syns65302/xylo_mapper.py (mapper, xylo_drc)"

# variant -> (inputs, hidden neurons, output neurons, fan-out or None: not in the sources)
_LIMITS = {"audio2": (16, 1000, 8, 64), "audio3": (16, 992, 32, None), "imu": (16, 496, 16, 512)}
# variants whose mapper warns above this many output channels (XyloAudio 3: le_16_output_channels)
_OUTPUT_CHANNEL_WARNING = {"audio3": 16}


def _hidden(graph):
    outs = set(R.output_neurons(graph))
    return [n for n in R.kinds(graph, R.NEURONS) if n not in outs]


def _spikes(n, node, target, dt):
    spiking = node.trait(Spiking)
    count = spiking.max_count(node) if spiking is not None else 1
    if count == 1:
        return []
    if count is None or count > target.max_spikes:
        return [
            R._v(
                f"{n} emits up to {count or 'unbounded'} spikes per step; Xylo allows "
                f"{target.max_spikes}",
                [n],
            )
        ]
    return []


def _output_channels(graph, target, dt):
    limit = _OUTPUT_CHANNEL_WARNING.get(target.variant)
    names = R.output_neurons(graph)
    total = sum(R.neuron_size(graph, n) for n in names)
    if limit is None or total <= limit:
        return []
    return [
        R._v(
            f"{total} output channels; the {target.variant} mapper warns above {limit} (it has "
            f"{target.limits()[2]} output neurons)",
            names,
            "warning",
        )
    ]


@dataclass(frozen=True, kw_only=True)
class Xylo(Target):
    """Xylo. Options: ``variant`` (``audio2`` | ``audio3`` | ``imu``: neuron counts and fan-out), bit
    widths, limits."""

    name = "xylo"
    description = "SynSense Xylo (Audio v2 / Audio 3 / IMU): integer recurrent SNN, bit-shift decays, subtractive reset"
    sources = (_OVERVIEW, _A3, _QUANT, _DOCS, _MAPPER)
    primitives = ("Input", "Output", "Linear", "Affine", "LIF", "CubaLIF", "spyx.Neuron")

    variant: Literal["audio2", "audio3", "imu"] = "audio2"
    weight_bits: int = 8
    threshold_bits: int = 16
    max_shift: int = 255  # dash is stored as uint8
    max_spikes: int = 31

    def limits(self) -> tuple[int, int, int, int | None]:
        """(inputs, hidden neurons, output neurons, fan-out; None: not in the sources) of the variant."""
        return _LIMITS[self.variant]

    def resource_rows(self, graph):
        """Input channels, hidden and output neurons against the variant's limits, and the largest fan-out
        (nonzero weights leaving one input channel or neuron)."""
        n_in, n_hid, n_out, fan = self.limits()
        count = lambda names: sum(R.neuron_size(graph, n) for n in names)  # noqa: E731
        rows = [
            ResourceRow("chip", "input channels", count(R.kinds(graph, R.INPUTS)), n_in),
            ResourceRow("chip", "hidden neurons", count(_hidden(graph)), n_hid),
            ResourceRow("chip", "output neurons", count(R.output_neurons(graph)), n_out),
        ]
        for n, drives in R.fan_outs(graph).items():
            rows.append(ResourceRow(n, "max fan-out", drives, fan))
        return rows, []

    def formats(self) -> Formats:
        return Formats(self.weight_bits, self.threshold_bits, "shift", "weights", self.max_shift)

    rules = (
        Rule(
            "xylo.primitives",
            "only Input, Output, Linear/Affine weights and LIF/CubaLIF neurons",
            _MAPPER,
            R.allowed_kinds(("Input", "Output", "Linear", "Affine", "LIF", "CubaLIF", "spyx.Neuron")),
        ),
        Rule(
            "xylo.input-through-weights",
            "graph inputs feed weight layers only",
            _MAPPER,
            R.successors_must_be(R.INPUTS, R.WEIGHTS, "Xylo inputs must go through weights first"),
        ),
        Rule(
            "xylo.neuron-input",
            "neurons receive input only from weight layers",
            _MAPPER,
            R.predecessors_must_be(
                R.NEURONS, R.WEIGHTS, "Xylo neurons receive input only from weights"
            ),
        ),
        Rule(
            "xylo.no-weight-chain",
            "no two weight layers in a row",
            _MAPPER,
            R.successors_must_be(
                R.WEIGHTS, R.NEURONS, "weight layers must feed neurons (no two in a row)"
            ),
        ),
        Rule(
            "xylo.outputs-from-neurons",
            "graph outputs come from neurons",
            _MAPPER,
            R.predecessors_must_be(R.OUTPUTS, R.NEURONS, "Xylo outputs must come from neurons"),
        ),
        Rule(
            "xylo.output-not-recurrent",
            "output neurons have no recurrent connections",
            _MAPPER,
            R.not_recurrent(R.output_neurons, "Xylo output neurons are not recurrent"),
        ),
        Rule(
            "xylo.min-neuron-layers",
            "at least 2 neuron layers",
            _MAPPER,
            R.min_count(lambda g: R.kinds(g, R.NEURONS), 2, "neuron layers"),
        ),
        Rule(
            "xylo.max-inputs",
            "<= 16 input channels",
            _OVERVIEW,
            R.count_limit(lambda g: R.kinds(g, R.INPUTS), lambda t: t.limits()[0], "input channels"),
        ),
        Rule(
            "xylo.max-hidden",
            "<= 1000 hidden neurons (Audio 3: 992, IMU: 496)",
            _OVERVIEW,
            R.count_limit(_hidden, lambda t: t.limits()[1], "hidden neurons"),
        ),
        Rule(
            "xylo.max-outputs",
            "<= 8 output neurons (Audio 3: 32, IMU: 16)",
            _OVERVIEW,
            R.count_limit(R.output_neurons, lambda t: t.limits()[2], "output neurons"),
        ),
        Rule(
            "xylo.fan-out",
            "fan-out <= 64 (Audio v2) / 512 (IMU); Audio 3: not in the sources, not checked",
            _OVERVIEW,
            R.fan_out(lambda t: t.limits()[3], "the Xylo fan-out limit"),
        ),
        Rule(
            "xylo.weight-format",
            "signed 8-bit integer weights",
            _QUANT,
            R.weight_format(lambda t: t.weight_bits),
        ),
        Rule("xylo.bias-format", "integer biases (scaled like the weights)", _QUANT, R.bias_integer()),
        Rule(
            "xylo.threshold-format",
            "signed 16-bit integer thresholds",
            _QUANT,
            R.threshold_format(lambda t: t.threshold_bits),
        ),
        Rule(
            "xylo.decay-format",
            "decays are bit shifts beta = 1 - 2^-dash (checked when dt is given)",
            _DOCS,
            R.decay_format(lambda t: "shift"),
        ),
        Rule("xylo.reset", "subtractive reset", _DOCS, R.reset_mode(lambda t: "subtract")),
        Rule("xylo.spikes-per-step", "<= 31 spikes per neuron per step", _DOCS, R.per_node(_spikes)),
        Rule(
            "xylo.output-channels",
            "Audio 3: a warning above 16 output channels (the mapper's le_16_output_channels)",
            _A3,
            _output_channels,
        ),
    )


@dataclass(frozen=True, kw_only=True)
class XyloAudio3(Xylo):
    """XyloAudio 3 (SYNS65302): ``xylo{variant=audio3}`` under its own name."""

    name = "xylo-audio3"
    description = "SynSense XyloAudio 3: 992 hidden / 32 output neurons, int8 weights (Xylo rules)"

    variant: Literal["audio3"] = "audio3"


@dataclass(frozen=True, kw_only=True)
class XyloIMU(Xylo):
    """Xylo IMU (SYNS63300): ``xylo{variant=imu}`` under its own name."""

    name = "xylo-imu"
    description = "SynSense Xylo IMU: 496 hidden / 16 output neurons (Xylo rules)"

    variant: Literal["imu"] = "imu"
