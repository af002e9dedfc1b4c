"""``spyx.RefractoryLIF``: a discrete-time LIF population with an absolute refractory period, the worked
example of adding a kind (``docs/architecture.md``): its IR declaration with its traits (this file), its
kernel (``spyx/backend/refractory.py``), and nothing in any pass, quantization rule or target, which ask
the traits. Not a NIR primitive; ``docs/semantics.md`` ("The refractory LIF step") is the specification.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.node import PerNeuron, param, register
from spyx.ir.traits import Discrete, Levels, Population, Spiking

__all__ = ["RefractoryLIF"]


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class RefractoryLIF(PerNeuron):
    r"""A population of leaky integrate-and-fire neurons that stay silent for ``t_ref`` steps after each
    spike; one step, in this order, for input ``x_t`` (summed over edges), with ``v``, ``c`` the state left by
    the previous step:

    1. refractory: ``r = c_{t-1} > 0``;
    2. integrate where not refractory: ``u = beta * v_{t-1} + g_x * x_t``; where refractory ``u = v_{t-1}``
       (the membrane stays at ``v_reset``, the input is lost);
    3. spike where not refractory: ``s_t = H(u - v_threshold)`` (strict ``>``; the program's surrogate on the
       backward pass), ``s_t = 0`` where refractory;
    4. reset: ``v_t = where(s_t > 0, v_reset, u)``;
    5. count down: ``c_t = where(s_t > 0, t_ref, max(c_{t-1} - 1, 0))``;
    6. output ``s_t``.

    State: ``v`` (membrane) and ``c`` (refractory steps left), both zero at t = 0. Parameters all have the
    population's shape: ``beta``, ``g_x``, ``v_threshold``, ``v_reset``, ``t_ref`` (integers >= 0). With
    ``t_ref = 0`` it is ``spyx.Neuron`` with a value reset, binary spikes and no bias.
    """

    kind = "spyx.RefractoryLIF"
    stateful = True
    prefix = "rlif"
    traits = (
        Population(gains=("g_x",), decays=(("beta", False),), state=2, reset="value"),
        Levels(params=("v_threshold", "v_reset")),
        Spiking(),
        Discrete(),  # made for one step; retime has no rule for it (t_ref would have to be whole steps)
    )
    no_nir_reason = "NIR has no refractory neuron"
    beta: object = param(doc="membrane decay per step")
    g_x: object = param(doc="gain of x_t into the membrane")
    v_threshold: object = param(doc="spike threshold")
    v_reset: object = param(doc="membrane after a spike and during the refractory period")
    t_ref: object = param(integer=True, doc="refractory steps after a spike, >= 0")

    def check(self) -> list[str]:
        problems = super().check()
        if not problems and np.any(np.asarray(self.t_ref) < 0):
            problems.append(f"parameter 't_ref' (refractory steps) must be >= 0 (min {np.min(self.t_ref)!r})")
        return problems
