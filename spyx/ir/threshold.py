"""``Threshold``: the stateless spike function ``z = H(x - threshold)`` with strict ``x > threshold``
(NIR). In a program the step function uses the chosen surrogate gradient on the backward pass."""

from __future__ import annotations

from dataclasses import dataclass

from spyx.ir.node import Node, Shape, param, register
from spyx.ir.traits import Levels, Spiking


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Threshold(Node):
    """``z = 1 if x > threshold else 0``, elementwise."""

    kind = "Threshold"
    traits = (Spiking(), Levels(params=("threshold",)))
    threshold: object = param(doc="signal shape")

    def declared_input_shape(self) -> Shape | None:
        return tuple(self.threshold.shape)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return tuple(self.threshold.shape)
