"""``Flatten``: merge per-sample axes ``start_dim..end_dim`` (inclusive; negative counts from the end) in
row-major (C order) of NIR's channels-first layout. Dims index the per-sample shape, as ``nir`` does: a
Flatten with ``start_dim=0`` over (8, 4, 4) gives (128,)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spyx.ir.node import Node, Shape, param, register
from spyx.ir.ports import shape_of
from spyx.ir.traits import CarriesScale, ShapeField, reshape_factor


def flatten_shape(shape: Shape, start_dim: int, end_dim: int) -> Shape:
    n = len(shape)
    start = start_dim + n if start_dim < 0 else start_dim
    end = end_dim + n if end_dim < 0 else end_dim
    if not (0 <= start < n and 0 <= end < n and start <= end):
        raise ValueError(f"start_dim={start_dim}, end_dim={end_dim} do not fit input {shape}")
    return (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Flatten(Node):
    """Flatten per-sample axes; ``input_type`` is the optional stored input shape."""

    kind = "Flatten"
    traits = (CarriesScale(transfer=reshape_factor), ShapeField(param="input_type", records="input"))
    start_dim: object = param(integer=True)
    end_dim: object = param(integer=True)
    input_type: object = param(required=False, integer=True)

    @property
    def dims(self) -> tuple[int, int]:
        """(start_dim, end_dim); ValueError when either is not one integer."""
        start, end = np.asarray(self.start_dim).reshape(-1), np.asarray(self.end_dim).reshape(-1)
        if start.size != 1 or end.size != 1:
            raise ValueError(f"start_dim and end_dim must be one integer each, got {start.tolist()}, {end.tolist()}")
        return int(start[0]), int(end[0])

    def check(self) -> list[str]:
        problems = super().check()
        if not problems:
            try:
                _ = self.dims
            except ValueError as e:
                problems.append(str(e))
        return problems

    def declared_input_shape(self) -> Shape | None:
        return shape_of(self.input_type)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        if input_shape is None:
            input_shape = self.declared_input_shape()
        if input_shape is None:
            return None
        return flatten_shape(input_shape, *self.dims)
