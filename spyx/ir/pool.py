"""2-D pooling over (C, H, W): ``SumPool2d`` sums each window, ``AvgPool2d`` divides that sum by the
window area (zero padding counts, as PyTorch's default ``count_include_pad=True``).
Output size per axis: ``floor((n + 2 p - k) / s) + 1``."""

from __future__ import annotations

from dataclasses import dataclass

from spyx.ir.conv import spatial
from spyx.ir.node import Node, Shape, param, register
from spyx.ir.traits import CarriesScale, per_channel_factor


@dataclass(frozen=True, eq=False, kw_only=True)
class _Pool2d(Node):
    # pooling sums positions within a channel: a per-channel factor passes, a per-position one cannot
    traits = (CarriesScale(transfer=per_channel_factor),)
    kernel_size: object = param(integer=True)
    stride: object = param(integer=True)
    padding: object = param(integer=True)

    def window(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        return (
            spatial(self.kernel_size, 2, "kernel_size"),
            spatial(self.stride, 2, "stride"),
            spatial(self.padding, 2, "padding"),
        )

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        if input_shape is None:
            return None
        if len(input_shape) != 3:
            raise ValueError(f"expects (C, H, W) input, got {input_shape}")
        k, s, p = self.window()
        out = [(n + 2 * pi - ki) // si + 1 for n, ki, si, pi in zip(input_shape[1:], k, s, p, strict=True)]
        if min(out) < 1:
            raise ValueError(f"window {k} does not fit input {input_shape}")
        return (input_shape[0], *out)

    def check(self) -> list[str]:
        problems = super().check()
        if problems:
            return problems
        try:
            k, s, p = self.window()
        except ValueError as e:
            return [str(e)]
        if min(k) < 1 or min(s) < 1 or min(p) < 0:
            problems.append(f"kernel_size and stride must be >= 1 and padding >= 0, got {k}, {s}, {p}")
        return problems


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class SumPool2d(_Pool2d):
    """Sum over each window."""

    kind = "SumPool2d"
    prefix = "sumpool"


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class AvgPool2d(_Pool2d):
    """Mean over each window (sum / kernel area)."""

    kind = "AvgPool2d"
    prefix = "avgpool"
