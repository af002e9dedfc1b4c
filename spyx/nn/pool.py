"""``sum_pool`` and ``SumPool``: sum pooling with Spyx 1.0's window rules (channels-last by default)."""

from __future__ import annotations

import jax
import numpy as np
from flax import nnx

from spyx.errors import ParameterError

__all__ = ["SumPool", "sum_pool"]


class PoolingError(ParameterError, ValueError):
    """A bad ``padding`` or ``channel_axis`` (a ``ValueError``, as Spyx 1.0 raises)."""


def full_window(value, nd: int, channel_axis) -> tuple[int, ...]:
    """``window_shape`` or ``strides`` expanded to ``nd`` axes by Spyx 1.0's rule (``spyx-api.md`` §4.14).

    An int ``k``: 1 on axis 0 (batch) and on the channel axis, ``k`` elsewhere. A sequence as long as the spatial
    axes (all but 0 and the channel axis): on those, 1 elsewhere. Another sequence shorter than ``nd``: left-padded
    with 1s (so it applies to the trailing axes). A sequence of length ``nd``: as is.
    """
    if channel_axis and abs(channel_axis) >= nd:
        raise PoolingError(f"Invalid channel axis {channel_axis} for a {nd}-D input")
    ch = channel_axis + nd if channel_axis and channel_axis < 0 else channel_axis
    if isinstance(value, int):
        return tuple(1 if (i == 0 or (ch and i == ch)) else value for i in range(nd))
    value = tuple(int(v) for v in value)
    if len(value) > nd:
        raise PoolingError(f"window {value} has more axes than the {nd}-D input")
    if len(value) == nd:
        return value
    spatial = [i for i in range(1, nd) if not (ch and i == ch)]
    if len(value) == len(spatial):
        out = [1] * nd
        for i, v in zip(spatial, value, strict=True):
            out[i] = v
        return tuple(out)
    return (1,) * (nd - len(value)) + value


def sum_pool(value, window_shape, strides, padding, channel_axis=-1):
    """Sum over windows (``lax.reduce_window``, zeros outside the input): ``padding`` is ``"SAME"`` or
    ``"VALID"`` exactly (case-sensitive); window and strides expand by :func:`full_window`."""
    if padding not in ("SAME", "VALID"):
        raise PoolingError(f"Invalid padding {padding!r}: must be 'SAME' or 'VALID'")
    nd = value.ndim
    window = full_window(window_shape, nd, channel_axis)
    stride = full_window(strides, nd, channel_axis)
    # a concrete zero (not a traced jnp array), so that JAX sees a window sum and can differentiate it
    return jax.lax.reduce_window(value, np.zeros((), value.dtype)[()], jax.lax.add, window, stride, padding)


class SumPool(nnx.Module):
    """Stateless sum pooling: ``SumPool(window_shape, strides, padding, channel_axis=-1)(x) = sum_pool(x, ...)``.

    All three of ``window_shape, strides, padding`` are required; they are stored as given. For ``(B, H, W, C)``
    inputs ``SumPool(2, 2, "VALID")`` and ``SumPool((2, 2), (2, 2), "VALID")`` both pool ``H, W`` and keep ``C``.
    IR/NIR: ``SumPool2d`` over the channels-first ``(C, H, W)``.
    """

    def __init__(self, window_shape, strides, padding, channel_axis=-1):
        self.window_shape = window_shape
        self.strides = strides
        self.padding = padding
        self.channel_axis = channel_axis

    def __call__(self, value):
        return sum_pool(value, self.window_shape, self.strides, self.padding, self.channel_axis)
