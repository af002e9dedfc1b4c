"""Bit packing of spike rasters along time: eight time steps per byte.

Spike data is binary, so storing it one bit per value shrinks a raster eight-fold: a whole data set fits in
device memory and is unpacked inside the jitted training step. The layout is NumPy's ``packbits``:

* along ``axis``, values ``8k .. 8k+7`` form byte ``k``, **big-endian**: step ``8k`` is the most significant
  bit (``128``), step ``8k+7`` the least (``1``);
* any nonzero value counts as a spike (``1``); NaN counts as nonzero;
* the last byte is zero-padded on its low bits, so ``T`` steps take ``ceil(T / 8)`` bytes and
  :func:`unpack` needs ``T`` to drop the padding.

Spyx 1.0's loaders yield batches packed this way along axis 1 (``obs uint8 [B, ceil(T/8), ...]``) and
``SHD_loader.prestage`` along axis 2 (``[n_batches, B, ceil(T/8), C]``). Both functions work on NumPy arrays
(returning NumPy) and on JAX arrays, including tracers inside ``jax.jit`` (returning JAX arrays).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from spyx.errors import InputError

__all__ = ["pack", "packed_length", "unpack"]


def packed_length(T: int) -> int:
    """Bytes needed for ``T`` time steps: ``ceil(T / 8)``."""
    return -(-int(T) // 8)


def _is_jax(x) -> bool:
    return isinstance(x, jax.Array)


def _axis(ndim: int, axis: int, what: str) -> int:
    if not -ndim <= axis < ndim:
        raise InputError(f"{what}: axis {axis} is out of range for an array of {ndim} dimensions")
    return axis % ndim


def pack(spikes, axis: int = 1):
    """Pack ``spikes`` along ``axis`` into ``uint8``, eight steps per byte (big-endian, zero-padded).

    ``spikes`` may have any dtype (bool, integer, float); nonzero entries are spikes. The result has
    ``ceil(T / 8)`` entries along ``axis`` where ``T = spikes.shape[axis]``, the other axes unchanged. The
    default ``axis=1`` is the time axis of batch-major ``[B, T, ...]`` data (use ``axis=0`` for one sample
    ``[T, ...]``). NumPy in, NumPy out; a JAX array (or tracer) in, a JAX array out.
    """
    xp = jnp if _is_jax(spikes) else np
    spikes = xp.asarray(spikes)
    axis = _axis(spikes.ndim, axis, "pack")
    return xp.packbits(spikes != 0, axis=axis)


def unpack(packed, T: int, axis: int = 1, dtype=None):
    """Inverse of :func:`pack`: ``uint8 [..., ceil(T/8), ...] -> [..., T, ...]`` with values in ``{0, 1}``.

    ``T`` (a Python int, static under ``jax.jit``) is the number of time steps that were packed; the padding
    bits of the last byte are dropped. ``dtype`` (default ``uint8``) is the dtype of the result, e.g.
    ``jnp.float32`` to feed a network directly. ``InputError`` if ``packed`` is not ``uint8`` or its length
    along ``axis`` is not ``ceil(T / 8)``.
    """
    xp = jnp if _is_jax(packed) else np
    packed = xp.asarray(packed)
    if packed.dtype != np.uint8:
        raise InputError(f"unpack: packed spikes must be uint8 (as pack returns), got {packed.dtype}")
    axis = _axis(packed.ndim, axis, "unpack")
    T = int(T)
    if T < 0 or packed.shape[axis] != packed_length(T):
        raise InputError(
            f"unpack: T={T} needs {packed_length(max(T, 0))} bytes along axis {axis}, but the packed array has "
            f"{packed.shape[axis]} (shape {tuple(packed.shape)}); pass the T that was packed"
        )
    bits = xp.unpackbits(packed, axis=axis, count=T)
    return bits if dtype is None else bits.astype(dtype)
