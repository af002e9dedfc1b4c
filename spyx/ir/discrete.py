"""Discrete-time kinds that spyx executes: :class:`Neuron` (one documented step for every neuron model)
and :class:`Shift` (an integer delay line).

They are produced by the ``discretize`` pass, by peer profiles and by lowering spyx NNX models; they are not
NIR primitives. ``docs/semantics.md`` (section "The discrete neuron step") is the specification; the
docstring below repeats it so that the code and the docs cannot drift apart unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.node import Node, PerNeuron, Shape, param, register
from spyx.ir.restep import retime_neuron, retime_shift
from spyx.ir.traits import CarriesScale, Causal, Discrete, Levels, Population, Spiking

SPIKE_TESTS = ("gt", "ge")
SPIKE_COUNTS = ("binary", "multi")
RESETS = ("value", "subtract", "none")
DELAYED_RESET_ON = ("v", "u")


def spike_cap(node: Neuron) -> int | None:
    """Spikes per step and neuron at most: 1 (binary), ``max_spikes`` (multi), None (multi, no cap)."""
    if node.spike_count != "multi":
        return 1
    return node.max_spikes or None


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Neuron(PerNeuron):
    r"""A population of discrete-time neurons; one step, in this order, for input ``x_t`` (summed over edges):

    1. delayed reset (``reset_delay``): ``reset="value"`` with ``delayed_reset_on="v"`` (default):
       ``v := where(s_{t-1} > 0, v_reset, v)``; ``reset="subtract"``: subtract ``s_{t-1} * v_threshold`` in
       step 3, not decayed.
    2. synapse (``synapse``): ``i_t = alpha * i_{t-1} + w_syn * x_t``.
    3. integrate: ``u = beta * v + g_x * x_t + g_prev * i_{t-1} + g_syn * i_t + bias`` (``- s_{t-1} *
       v_threshold`` for a delayed subtract); with ``reset_delay``, ``reset="value"`` and
       ``delayed_reset_on="u"``: ``u := where(s_{t-1} > 0, v_reset, u)`` (the delayed reset lands after the
       integration, so this step's input is lost too: snnTorch Synaptic/RLeaky/RSynaptic ``zero``).
    4. spike (``spiking``): the tested value is ``w = u``, or with ``reset_guard``
       ``w = u - H(v_{t-1} - v_threshold) * v_threshold`` (snnTorch ``reset_delay=False`` + subtract);
       ``binary``: ``s_t = H(w - v_threshold)`` (``gt``: strict ``>``; ``ge``: ``>=``);
       ``multi``: ``s_t = floor(w / v_threshold)`` where the test passes, else 0, capped at ``max_spikes`` > 0.
    5. reset (spiking, no ``reset_delay``): ``value``: ``v_t = where(s_t > 0, v_reset, u)``;
       ``subtract``: ``v_t = u - s_t * v_threshold``; ``none``: ``v_t = u``.
    6. clamp (``v_min`` given): ``v_t = max(v_t, v_min)``.
    7. output: ``s_t`` if spiking else ``v_t`` (``u``, the membrane before the clamp, with
       ``output_pre_clamp``: Sinabs ExpLeak).

    State: ``v`` (``v0`` at t = 0, zero when ``v0`` is absent); ``i`` with a synapse; ``s`` (last spikes)
    with ``reset_delay``; ``i`` and ``s`` are zero at t = 0.
    Parameters all have the population's shape. Maps to NIR LIF/IF/LI/I/CubaLIF/CubaLI through a profile.
    """

    kind = "spyx.Neuron"
    stateful = True
    traits = (
        Population(
            gains=("g_x",),
            synapse="synapse",
            synapse_gains=("w_syn",),
            decays=(("beta", False), ("alpha", False)),
            state_options=("reset_delay",),
            initial=("v0",),
            bias="bias",
            reset_option="reset",
        ),
        Levels(params=("v_threshold", "v_reset", "bias", "v_min")),
        Spiking(when="fires", count=spike_cap),
        Discrete(retime=retime_neuron),
    )
    beta: object = param(doc="membrane decay per step")
    g_x: object = param(doc="gain of x_t into the membrane")
    bias: object = param(doc="constant added each step")
    alpha: object = param(required=False, doc="synaptic decay per step")
    w_syn: object = param(required=False, doc="gain of x_t into the synapse")
    g_prev: object = param(required=False, doc="gain of i_{t-1} into the membrane")
    g_syn: object = param(required=False, doc="gain of i_t into the membrane")
    v_threshold: object = param(required=False)
    v_reset: object = param(required=False)
    v_min: object = param(required=False)
    v0: object = param(required=False, doc="initial membrane (zero when absent)")
    synapse: bool = False
    fires: bool = True
    spike_test: str = "gt"
    spike_count: str = "binary"
    max_spikes: int = 0
    reset: str = "value"
    reset_delay: bool = False
    delayed_reset_on: str = "v"
    reset_guard: bool = False
    output_pre_clamp: bool = False

    def check(self) -> list[str]:
        problems = super().check()
        needs = []
        if self.synapse:
            needs += ["alpha", "w_syn", "g_prev", "g_syn"]
        if self.fires:
            needs.append("v_threshold")
            if self.reset == "value":
                needs.append("v_reset")
        problems += [f"parameter {n!r} is required by the options given" for n in needs if getattr(self, n) is None]
        for name, value, allowed in (
            ("spike_test", self.spike_test, SPIKE_TESTS),
            ("spike_count", self.spike_count, SPIKE_COUNTS),
            ("reset", self.reset, RESETS),
            ("delayed_reset_on", self.delayed_reset_on, DELAYED_RESET_ON),
        ):
            if value not in allowed:
                problems.append(f"option {name}={value!r} is not one of {', '.join(allowed)}")
        if self.fires and self.spike_count == "multi" and self.v_threshold is not None:
            if np.any(np.asarray(self.v_threshold) <= 0):
                problems.append("multi-spike counts need v_threshold > 0")
        return problems


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Shift(Node):
    """Integer delay line: ``y_t = x_{t - steps}`` elementwise (zero for ``t < steps``); ``steps`` has the
    signal's shape. A shift of at least one step does not depend on its current input, so it breaks cycles
    without an extra step of latency."""

    kind = "spyx.Shift"
    stateful = True
    traits = (Causal(param="steps"), CarriesScale(), Discrete(retime=retime_shift, change="steps x {inv:g}"))
    steps: object = param(integer=True, doc="signal shape, >= 0")

    def declared_input_shape(self) -> Shape | None:
        return tuple(self.steps.shape)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return tuple(self.steps.shape)

    def check(self) -> list[str]:
        problems = super().check()
        if not problems and (self.steps.dtype.kind not in "iu" or np.any(self.steps < 0)):
            problems.append("steps must be non-negative integers")
        return problems
