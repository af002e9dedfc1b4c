"""``spyx.LavaLIF``: Lava's bit-accurate Loihi LIF (``PyLifModelBitAcc``), integer state and integer
parameters, named as Lava names them. Made by the ``lava{fixed_pt=true}`` profile; its kernel is
``spyx/backend/loihi.py``. Not a NIR primitive; ``docs/interop.md`` ("Lava / Loihi 2") is the specification.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.node import Node, Shape, param, register, same_shape_check
from spyx.ir.traits import Discrete, Levels, Spiking

__all__ = ["LavaLIF"]


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class LavaLIF(Node):
    r"""A population of Lava bit-accurate LIF neurons (lava-nc/lava ``src/lava/proc/lif/models.py``,
    ``AbstractPyLifModelFixed.subthr_dynamics`` and ``PyLifModelBitAcc``); one step, in this order, for the
    input ``a_t`` (summed over edges, integer-valued: the bit-accurate Dense's output), with ``u``, ``v`` the
    state left by the previous step, all integers:

    1. current: ``u = tz((u * (4096 - (du + 1))) / 4096) + (a_t << 6)``, where ``tz(p / 4096)`` is
       ``sign(p) * (|p| >> 12)`` (rounding toward zero, as Lava computes it); then the 24-bit wrap
       ``u -= 2**24`` where ``u > 2**23``, ``u += 2**24`` where ``u <= -2**23``;
    2. voltage: ``v = clip(tz((v * (4096 - dv)) / 4096) + u + b, -(2**23 - 1), 2**23 - 1)`` with this step's
       ``u`` and the bias ``b = bias_mant << bias_exp`` (``>> -bias_exp`` for a negative exponent, floor);
    3. spike: ``s_t = v > (vth << 6)`` (strict);
    4. reset: ``v = 0`` where ``s_t``;
    5. output ``s_t`` (1.0 or 0.0).

    State: ``u`` (traced as ``i``) and ``v`` (int32), zero at t = 0. Parameters (integers, the population's
    shape): ``du``, ``dv`` (0..4095), ``vth`` (0..131071), ``bias_mant``, ``bias_exp``. No gradient flows
    through it.
    """

    kind = "spyx.LavaLIF"
    stateful = True
    prefix = "lavalif"
    # Not a Population: its parameters are register values, so no pass may fold a scale into them or
    # quantize them again; Levels is empty for the same reason (an integer threshold does not rescale).
    traits = (Levels(params=()), Spiking(), Discrete())
    no_nir_reason = "NIR has no fixed-point neuron (keep the NIR file the lava profile read)"
    du: object = param(integer=True, doc="current decay, 12-bit (u keeps (4096 - du - 1) / 4096)")
    dv: object = param(integer=True, doc="voltage decay, 12-bit (v keeps (4096 - dv) / 4096)")
    vth: object = param(integer=True, doc="threshold mantissa; v spikes above vth << 6")
    bias_mant: object = param(integer=True, doc="bias mantissa")
    bias_exp: object = param(integer=True, doc="bias exponent")

    @property
    def shape(self) -> Shape:
        return tuple(self.dv.shape)

    def declared_input_shape(self) -> Shape | None:
        return self.shape

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return self.shape

    def check(self) -> list[str]:
        problems = super().check() + same_shape_check(self, self.param_names())
        if problems:
            return problems
        for name, lo, hi in (("du", 0, 4095), ("dv", 0, 4095), ("vth", 0, 131071)):
            value = np.asarray(getattr(self, name))
            if value.dtype.kind not in "iu" or np.any(value < lo) or np.any(value > hi):
                problems.append(f"parameter {name!r} must be integers in {lo}..{hi} (Lava's register range)")
        return problems
