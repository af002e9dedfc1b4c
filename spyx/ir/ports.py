"""Graph ports: ``Input`` and ``Output`` nodes (NIR ``Input``/``Output``)."""

from __future__ import annotations

from dataclasses import dataclass

from spyx.ir.node import Node, Shape, param, register
from spyx.ir.traits import ShapeField


def shape_of(arr) -> Shape | None:
    """A shape array as stored in a file (``[12]``, ``[2, 34, 34]``, a scalar ``12``) as a tuple."""
    if arr is None:
        return None
    return tuple(int(x) for x in arr.reshape(-1))


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Input(Node):
    """A named graph input. ``shape`` is the per-sample shape (NIR channels-first, no batch or time axis)."""

    kind = "Input"
    shape: object = param(integer=True, doc="per-sample input shape")

    def declared_input_shape(self) -> Shape | None:
        return shape_of(self.shape)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return shape_of(self.shape)

    def check(self) -> list[str]:
        problems = super().check()
        if not problems and self.shape.dtype.kind not in "iu":
            problems.append(f"shape must be integers, got dtype {self.shape.dtype}")
        if not problems and (self.shape.size == 0 or (self.shape < 1).any()):
            problems.append(f"shape must be positive, got {self.shape.tolist()}")
        return problems


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Output(Node):
    """A named graph output. ``shape`` may be missing in old files; it is then inferred from upstream."""

    kind = "Output"
    traits = (ShapeField(param="shape", records="output"),)
    shape: object = param(required=False, integer=True, doc="per-sample output shape")

    def declared_input_shape(self) -> Shape | None:
        return shape_of(self.shape)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return shape_of(self.shape) if self.shape is not None else input_shape

    def check(self) -> list[str]:
        problems = super().check()
        if not problems and self.shape is not None and self.shape.size and (self.shape < 1).any():
            problems.append(f"shape must be positive, got {self.shape.reshape(-1).tolist()}")
        return problems
