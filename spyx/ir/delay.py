"""``Delay``: ``y(t) = x(t - tau)`` elementwise, ``tau`` in seconds per element (continuous time).
Its :class:`~spyx.ir.traits.Continuous` trait (applied by the ``discretize`` pass and every profile) turns it
into :class:`spyx.ir.discrete.Shift` of ``tau / dt`` steps, which must be whole (within 1e-6, relative)
unless a rounding is chosen; the inverse is ``Delay(steps * dt)``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.errors import CompileError
from spyx.ir.discrete import Shift
from spyx.ir.node import Node, Shape, param, register
from spyx.ir.traits import CarriesScale, Causal, Continuous


def delay_steps(name: str, node: Node, dt: float, rounding: str) -> np.ndarray:
    """Integer steps of a Delay; CompileError naming the node if ``tau/dt`` is fractional (rounding=error)."""
    ratio = np.asarray(node.delay, dtype=np.float64) / dt
    nearest = np.round(ratio)
    # Within 1e-6 (relative) of a whole number is that number in every mode: float32 delays such as
    # 1e-3 / 1e-3 = 1.0000000475 must not ceil to 2.
    whole = np.abs(ratio - nearest) <= 1e-6 * np.maximum(np.abs(ratio), 1.0)
    if rounding == "error" and not np.all(whole):
        worst = float(ratio[~whole].reshape(-1)[0])
        raise CompileError(
            f"node {name} (Delay): delay/dt = {worst:.6g} is not a whole number of steps (dt={dt}); "
            "choose a dt that divides the delays or pass delay_rounding=round|floor|ceil"
        )
    rounded = {"error": np.round, "round": np.round, "floor": np.floor, "ceil": np.ceil}[rounding](ratio)
    steps = np.where(whole, nearest, rounded)
    return steps.astype(np.int64)


def _discretize(name: str, node: Node, dt: float, method: str, rounding: str, shape=None) -> Shift:
    return Shift(steps=delay_steps(name, node, dt, rounding), metadata=node.metadata)


def _inverse(shift: Shift, dt: float) -> dict[str, np.ndarray]:
    return {"delay": (np.asarray(shift.steps) * dt).astype(np.float32)}


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Delay(Node):
    """Continuous-time delay line; ``delay`` has the signal's shape."""

    kind = "Delay"
    stateful = True
    traits = (
        Continuous(discretize=_discretize, inverse=_inverse, time_constants=("delay",)),
        Causal(param="delay"),
        CarriesScale(),
    )
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
