"""spyx.experimental.compress: bit layouts against NumPy's packbits and a hand-made plane layout, lossless round
trips, and packed-residual layers whose forward and gradients equal the plain matmul's."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyx import experimental as E

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("n", [5, 8, 13])
def test_pack_spikes_is_numpy_packbits_and_round_trips(n):
    x = (RNG.random((3, n)) < 0.4).astype(np.float32)
    for axis, arr in ((-1, x), (0, x.T)):
        packed = E.pack_spikes(arr, axis=axis)
        assert packed.dtype == jnp.uint8 and packed.shape[axis] == math.ceil(n / 8)
        np.testing.assert_array_equal(packed, np.packbits(arr.astype(np.uint8), axis=axis))
        np.testing.assert_array_equal(E.unpack_spikes(packed, n, axis=axis), arr)
    # big-endian: element 0 of a group is the most significant bit; any nonzero is a 1
    np.testing.assert_array_equal(E.pack_spikes(jnp.asarray([1.0, 0, 0, 0, 0, 0, 0, 2.5, 1.0])), [129, 128])


def test_nbit_planes_are_least_significant_bit_first():
    codes = RNG.integers(0, 8, size=(2, 11))
    packed = E.pack_nbit(codes, 3)
    assert packed.shape == (3, 2, 2)
    for b in range(3):
        np.testing.assert_array_equal(packed[b], np.packbits(((codes >> b) & 1).astype(np.uint8), axis=-1))
    np.testing.assert_array_equal(E.unpack_nbit(packed, 3, 11), codes)
    np.testing.assert_array_equal(E.pack_nbit(codes & 1, 1)[0], E.pack_spikes(codes & 1))


def _loss(f):
    def loss(a, w):
        y = f(a, w)
        return jnp.sum(jnp.sin(y) * jnp.broadcast_to(jnp.arange(5.0), y.shape))

    return loss


def test_packed_layers_equal_the_plain_matmul():
    w = jnp.asarray(RNG.standard_normal((11, 5)), jnp.float32)
    spikes = jnp.asarray(RNG.random((3, 2, 11)) < 0.3, jnp.float32)
    plain = jax.jit(jax.value_and_grad(_loss(jnp.matmul), argnums=(0, 1)))
    packed = jax.jit(jax.value_and_grad(_loss(E.packed_spike_dense), argnums=(0, 1)))
    for a, b in zip(jax.tree.leaves(packed(spikes, w)), jax.tree.leaves(plain(spikes, w)), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    step, bits = 0.25, 4
    acts = jnp.asarray(RNG.integers(-8, 8, size=(4, 11)) * step, jnp.float32)  # on the grid: exact
    quant = jax.jit(jax.value_and_grad(_loss(lambda a, w: E.packed_quant_dense(a, w, bits, step)), argnums=(0, 1)))
    for a, b in zip(jax.tree.leaves(quant(acts, w)), jax.tree.leaves(plain(acts, w)), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    off = acts + 0.1  # off the grid: the forward stays exact, dweight sees the rounded activations (here: acts)
    (v, (_, dw)) = quant(off, w)
    np.testing.assert_allclose(v, plain(off, w)[0], rtol=1e-5)
    g = np.cos(np.asarray(off, np.float64) @ np.asarray(w, np.float64)) * np.arange(5.0)
    np.testing.assert_allclose(dw, np.asarray(acts, np.float64).T @ g, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="agree on in"):
        E.packed_spike_dense(spikes, w.T)


def test_sparse_packing_round_trip_and_footprint():
    x = np.where(RNG.random((3, 7)) < 0.3, RNG.integers(-4, 4, size=(3, 7)) * 0.5, 0.0).astype(np.float32)
    mask, codes, meta = E.sparse_quant_pack(x, 4, 0.5)
    assert meta == {"shape": (3, 7), "bits": 4, "step": 0.5, "nnz": int((x != 0).sum())}
    np.testing.assert_array_equal(E.sparse_quant_unpack(mask, codes, meta), x)
    fp = E.packing_footprint(1000, 4, 0.1)
    assert fp == {"fp32": 4000, "dense_4bit": 500, "sparse_mask+4bit": 125 + 50, "best": "sparse_mask+4bit",
                  "crossover_density": 0.75}
    assert E.packing_footprint(1000, 4, 0.9)["best"] == "dense_4bit"
