"""``spyx.AdaptiveNeuron``: a discrete-time population with a spike-driven adaptive threshold (Bellec et al.
2018, LSNN), the IR form of :class:`spyx.nn.ALIF`. Not a NIR primitive and with no NIR equivalent.

``docs/semantics.md`` (section "The adaptive neuron step") is the specification; the docstring below
repeats it so that the code and the docs cannot drift apart unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.node import PerNeuron, param, register
from spyx.ir.traits import Discrete, Levels, Population, Spiking

__all__ = ["AdaptiveNeuron"]


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class AdaptiveNeuron(PerNeuron):
    r"""A population of adaptive-threshold neurons; one step, in this order, for input ``x_t`` (summed over
    edges), with ``v``, ``a``, ``s`` the state left by the previous step:

    1. integrate, with the previous step's reset by the threshold it crossed:
       ``u_t = beta * v_{t-1} + g_x * x_t - s_{t-1} * (v_threshold + b * a_{t-1})``;
    2. adapt: ``a_t = rho * a_{t-1} + (1 - rho) * s_{t-1}``;
    3. spike: ``s_t = H(u_t - (v_threshold + b * a_t))`` (strict ``>``; the program's surrogate on the
       backward pass);
    4. ``v_t = u_t`` (the reset is applied at the start of the next step, undecayed, as
       ``spyx.Neuron(reset="subtract", reset_delay=True)``);
    5. output ``s_t``.

    State: ``v`` (membrane), ``a`` (adaptation), ``s`` (last spikes); all zero at t = 0. Parameters all have
    the population's shape: ``beta``, ``g_x``, ``v_threshold`` (> 0), ``b`` (>= 0), ``rho`` (in [0, 1]).

    This is the snnTorch timing (integrate, then spike from the new membrane). :class:`spyx.nn.ALIF`, which
    spikes from the membrane *before* the step, is this node followed by a one-step ``spyx.Shift``: the
    node's ``u_t``, ``a_t``, ``s_t`` are the layer's ``V_{t+1}``, ``a_{t+1}``, ``S_{t+1}``.

    No NIR equivalent: the reset ``s_{t-1} * (v_threshold + b a_{t-1})`` multiplies two signals, which no
    NIR primitive computes, so ``spyx.save`` raises ``ExportError`` naming the node.
    """

    kind = "spyx.AdaptiveNeuron"
    stateful = True
    # The threshold v_threshold + b a is in membrane units and a is not, so b is a level like v_threshold:
    # scaling input, v_threshold and b by one factor leaves the spikes unchanged (rescale, quantization).
    traits = (
        Population(gains=("g_x",), decays=(("beta", False), ("rho", False)), state=3, reset="subtract"),
        Levels(params=("v_threshold", "b")),
        Spiking(),
        Discrete(),  # made for one step; retime has no rule for it (its a, b, rho have no continuous form)
    )
    no_nir_reason = (
        "its reset subtracts the adapted threshold s_{t-1} (v_threshold + b a_{t-1}), a product of two "
        "signals that no NIR primitive computes"
    )
    beta: object = param(doc="membrane decay per step")
    g_x: object = param(doc="gain of x_t into the membrane")
    v_threshold: object = param(positive=True, doc="baseline threshold, > 0")
    b: object = param(doc="adaptation strength: threshold increase per unit of a, >= 0")
    rho: object = param(doc="adaptation decay per step, in [0, 1]")

    def check(self) -> list[str]:
        problems = super().check()
        if problems:
            return problems
        if np.any(self.b < 0):
            problems.append(f"parameter 'b' (adaptation strength) must be >= 0 (min {np.min(self.b)!r})")
        if np.any((self.rho < 0) | (self.rho > 1)):
            problems.append(
                f"parameter 'rho' (adaptation decay) must lie in [0, 1] "
                f"(range {np.min(self.rho)!r} .. {np.max(self.rho)!r})"
            )
        return problems
