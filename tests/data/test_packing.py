"""Bit packing along time: lossless round trips (NumPy and JAX, inside jit), the big-endian byte layout
checked bit by bit, and the errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyx.data import pack, packed_length, unpack
from spyx.errors import InputError


def _bytes_reference(bits_last: np.ndarray) -> np.ndarray:
    """Pack the last axis by hand: byte k = sum_j bit[8k + j] * 2**(7 - j), zero-padded."""
    T = bits_last.shape[-1]
    n = -(-T // 8)
    padded = np.zeros((*bits_last.shape[:-1], 8 * n), dtype=np.int64)
    padded[..., :T] = bits_last != 0
    weights = 2 ** np.arange(7, -1, -1)
    return (padded.reshape(*bits_last.shape[:-1], n, 8) * weights).sum(axis=-1).astype(np.uint8)


@pytest.mark.parametrize("T", [1, 7, 8, 9, 13, 17])
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_round_trip_numpy(T, axis):
    rng = np.random.default_rng(T * 10 + axis)
    shape = [3, 4, 5]
    shape[axis] = T
    x = rng.integers(0, 2, shape).astype(np.uint8)
    p = pack(x, axis=axis)
    assert isinstance(p, np.ndarray) and p.dtype == np.uint8
    assert p.shape[axis] == packed_length(T) == -(-T // 8)
    np.testing.assert_array_equal(np.moveaxis(p, axis, -1), _bytes_reference(np.moveaxis(x, axis, -1)))
    back = unpack(p, T, axis=axis)
    assert isinstance(back, np.ndarray) and back.dtype == np.uint8
    np.testing.assert_array_equal(back, x)


@pytest.mark.parametrize(("T", "axis"), [(1, 0), (9, 1), (13, 2), (17, -1)])
def test_round_trip_jax_and_inside_jit(T, axis):
    rng = np.random.default_rng(T)
    shape = [2, 3, 4]
    shape[axis] = T
    x = rng.integers(0, 2, shape).astype(np.float32)  # spikes as a network emits them
    p = pack(jnp.asarray(x), axis=axis)
    assert isinstance(p, jax.Array) and p.dtype == jnp.uint8
    np.testing.assert_array_equal(np.asarray(p), pack(x, axis=axis))  # JAX and NumPy agree byte for byte

    @jax.jit
    def step(packed):
        return unpack(packed, T, axis=axis, dtype=jnp.float32)

    got = step(p)
    assert got.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(got), x)
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda s: pack(s, axis=axis))(jnp.asarray(x))), np.asarray(p))


def test_any_nonzero_value_is_a_spike():
    x = np.array([[-1, 0, 2, 0, 0, 0, 0, 0, 0, 3]], dtype=np.int16)
    want = _bytes_reference((x != 0).astype(np.uint8))
    np.testing.assert_array_equal(pack(x, axis=1), want)
    np.testing.assert_array_equal(np.asarray(pack(jnp.asarray(x), axis=1)), want)
    floats = np.array([[0.0, np.nan, -0.5, 1e-30]], dtype=np.float32)
    assert pack(floats, axis=1).tolist() == [[0b01110000]]


def test_matches_the_loaders_unpacking_recipe():
    """Spyx 1.0 tells users to unpack loader batches with jnp.unpackbits(obs, axis=1)[:, :T]."""
    x = np.random.default_rng(0).integers(0, 2, (4, 11, 6)).astype(np.uint8)
    p = pack(x)  # axis=1 by default: batch-major [B, T, ...]
    np.testing.assert_array_equal(np.asarray(jnp.unpackbits(jnp.asarray(p), axis=1)[:, :11]), x)
    np.testing.assert_array_equal(p, np.packbits(x, axis=1))


def test_errors():
    p = pack(np.ones((2, 9)), axis=1)
    with pytest.raises(InputError, match="T=17 needs 3 bytes along axis 1"):
        unpack(p, 17, axis=1)
    with pytest.raises(InputError, match="uint8"):
        unpack(p.astype(np.int32), 9, axis=1)
    with pytest.raises(InputError, match="out of range"):
        pack(np.ones((2, 9)), axis=2)
