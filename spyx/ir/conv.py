"""Convolutions ``Conv1d`` and ``Conv2d`` in NIR's channels-first layout (cross-correlation, as PyTorch).

Weights are (C_out, C_in / groups, *kernel). ``stride``, ``padding`` and ``dilation`` are stored as given in
the file (a scalar or one value per spatial axis); ``padding`` may also be the string ``"same"`` or
``"valid"``. ``input_shape`` is the optional spatial input size NIR stores to make shapes inferable.
Output size per axis: ``floor((n + 2 p - d (k - 1) - 1) / s) + 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.node import Node, Shape, param, register
from spyx.ir.traits import ShapeField, WeightLayer


def spatial(value, ndim: int, name: str) -> tuple[int, ...]:
    """A stride/padding/dilation/kernel value as one int per spatial axis."""
    flat = np.asarray(value).reshape(-1)
    if flat.size == 1:
        return (int(flat[0]),) * ndim
    if flat.size != ndim:
        raise ValueError(f"{name} must have 1 or {ndim} values, got {flat.tolist()}")
    return tuple(int(x) for x in flat)


def conv_output_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


@dataclass(frozen=True, eq=False, kw_only=True)
class _ConvNd(Node):
    ndim = 0
    prefix = "conv"
    weight: object = param(doc="(C_out, C_in/groups, *kernel)")
    bias: object = param(doc="(C_out,)")
    stride: object = param(integer=True)
    padding: object = param(required=False, integer=True, doc="ints; absent when padding_mode is set")
    dilation: object = param(integer=True)
    groups: object = param(integer=True)
    input_shape: object = param(required=False, integer=True, doc="spatial input size")
    padding_mode: str | None = None  # "same" / "valid" when the file stores a string

    @property
    def kernel(self) -> tuple[int, ...]:
        return tuple(int(k) for k in self.weight.shape[2:])

    def pads(self, spatial_in: tuple[int, ...] | None = None) -> tuple[tuple[int, int], ...]:
        """(low, high) padding per spatial axis, resolving 'same'/'valid'."""
        if self.padding_mode == "valid":
            return ((0, 0),) * self.ndim
        if self.padding_mode == "same":
            d = spatial(self.dilation, self.ndim, "dilation")
            total = [di * (k - 1) for di, k in zip(d, self.kernel, strict=True)]
            return tuple((t // 2, t - t // 2) for t in total)
        p = spatial(self.padding, self.ndim, "padding")
        return tuple((x, x) for x in p)

    def declared_input_shape(self) -> Shape | None:
        if self.input_shape is None or self.weight is None or self.weight.ndim < 2:
            return None
        groups = np.asarray(self.groups).reshape(-1)
        if groups.size != 1 or np.asarray(self.input_shape).size not in (1, self.ndim):
            return None  # malformed: check() says why
        return (int(self.weight.shape[1]) * int(groups[0]), *spatial(self.input_shape, self.ndim, "input_shape"))

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        if input_shape is None:
            input_shape = self.declared_input_shape()
        if input_shape is None:
            return None
        if len(input_shape) != self.ndim + 1:
            raise ValueError(f"expects (C, {', '.join('N' * self.ndim)}) input, got {input_shape}")
        s = spatial(self.stride, self.ndim, "stride")
        d = spatial(self.dilation, self.ndim, "dilation")
        pads = self.pads()
        out = []
        for n, k, si, (lo, hi), di in zip(input_shape[1:], self.kernel, s, pads, d, strict=True):
            size = (n + lo + hi - di * (k - 1) - 1) // si + 1
            if size < 1:
                raise ValueError(f"kernel {self.kernel} does not fit input {input_shape}")
            out.append(size)
        return (int(self.weight.shape[0]), *out)

    def check(self) -> list[str]:
        problems = super().check()
        if problems:
            return problems
        if self.weight.ndim != self.ndim + 2:
            return [f"weight must have {self.ndim + 2} dims (C_out, C_in/groups, *kernel), got {self.weight.shape}"]
        if self.bias.shape != (self.weight.shape[0],):
            problems.append(f"bias shape {self.bias.shape} does not match C_out ({self.weight.shape[0]},)")
        if np.asarray(self.groups).size != 1:
            problems.append(f"groups must be one integer, got {np.asarray(self.groups).tolist()}")
        else:
            groups = int(np.asarray(self.groups).reshape(-1)[0])
            if groups < 1 or self.weight.shape[0] % groups:
                problems.append(f"groups={groups} must be >= 1 and divide C_out={self.weight.shape[0]}")
        if self.padding is None and self.padding_mode is None:
            problems.append("required parameter 'padding' is missing")
        try:
            for name in ("stride", "dilation"):
                if min(spatial(getattr(self, name), self.ndim, name)) < 1:
                    problems.append(f"{name} must be >= 1")
            if self.padding_mode is None and self.padding is not None:
                if min(spatial(self.padding, self.ndim, "padding")) < 0:
                    problems.append("padding must be >= 0")
            if self.input_shape is not None and min(spatial(self.input_shape, self.ndim, "input_shape")) < 1:
                problems.append("input_shape must be >= 1")
        except ValueError as e:
            problems.append(str(e))
        if self.padding_mode not in (None, "same", "valid"):
            problems.append(f"padding must be 'same', 'valid' or integers, got {self.padding_mode!r}")
        return problems


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Conv1d(_ConvNd):
    """1-D convolution: input (C_in, N) -> output (C_out, N')."""

    kind = "Conv1d"
    ndim = 1
    traits = (
        WeightLayer(layout="conv", bias="bias", spatial=1),
        ShapeField(param="input_shape", records="input", spatial=True),
    )


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Conv2d(_ConvNd):
    """2-D convolution: input (C_in, H, W) -> output (C_out, H', W')."""

    kind = "Conv2d"
    ndim = 2
    traits = (
        WeightLayer(layout="conv", bias="bias", spatial=2),
        ShapeField(param="input_shape", records="input", spatial=True),
    )
