"""``Delay``: ``y(t) = x(t - tau)`` elementwise, ``tau`` in seconds per element (continuous time).
The ``discretize`` pass turns it into :class:`spyx.ir.discrete.Shift` of ``round(tau / dt)`` steps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.node import Node, Shape, param, register


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Delay(Node):
    """Continuous-time delay line; ``delay`` has the signal's shape."""

    kind = "Delay"
    stateful = True
    continuous = True
    delay: object = param(doc="seconds, signal shape")

    def declared_input_shape(self) -> Shape | None:
        return tuple(self.delay.shape)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return tuple(self.delay.shape)

    def check(self) -> list[str]:
        problems = super().check()
        if not problems and np.any(self.delay < 0):
            problems.append("delay must be >= 0")
        return problems
