"""``SumPool``: 2-D sum pooling over channels-last maps."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from spyx.errors import InputError, ParameterError
from spyx.nn.base import Layer

__all__ = ["SumPool"]


def _pair(value, name: str) -> tuple[int, int]:
    pair = (int(value),) * 2 if isinstance(value, int) else tuple(int(v) for v in value)
    if len(pair) != 2:
        raise ParameterError(f"SumPool {name} must be an int or a pair, got {value!r}")
    return pair


class SumPool(Layer):
    """Sum over ``kernel_size`` windows of the two spatial axes of ``(*batch, H, W, C)`` (channels-last),
    moving by ``strides`` (default: the kernel), with ``padding`` zeros on both sides of each axis.
    Output ``(*batch, H', W', C)`` with ``H' = (H + 2 p - k) // s + 1``. Stateless. IR/NIR: ``SumPool2d``
    over the channels-first ``(C, H, W)``.
    """

    def __init__(self, kernel_size, strides=None, padding=0):
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides if strides is not None else kernel_size, "strides")
        self.padding = _pair(padding, "padding")
        if min(self.kernel_size) < 1 or min(self.strides) < 1 or min(self.padding) < 0:
            raise ParameterError(
                f"SumPool needs kernel_size, strides >= 1 and padding >= 0, got "
                f"{self.kernel_size}, {self.strides}, {self.padding}"
            )

    def __call__(self, x, state=()):
        if x.ndim < 3:
            raise InputError(
                f"SumPool expects (*batch, H, W, C) input (channels-last), got shape {tuple(x.shape)}"
            )
        lead = (1,) * (x.ndim - 3)
        (ph, pw) = self.padding
        pads = ((0, 0),) * (x.ndim - 3) + ((ph, ph), (pw, pw), (0, 0))
        y = jax.lax.reduce_window(
            x,
            jnp.zeros((), x.dtype),
            jax.lax.add,
            (*lead, *self.kernel_size, 1),
            (*lead, *self.strides, 1),
            pads,
        )
        return y, state
