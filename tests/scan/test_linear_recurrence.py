"""spyx.scan.linear_recurrence against an independent float64 loop, for every method, real and complex, with and
without an initial state, ragged chunk sizes, and through jit/vmap/grad."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyx.errors import ArgumentError
from spyx.scan import METHODS, linear_recurrence


def loop64(a, b, h0=None):
    dtype = np.complex128 if np.iscomplexobj(a) or np.iscomplexobj(b) else np.float64
    b = np.asarray(b, dtype)
    a = np.broadcast_to(np.asarray(a, dtype), b.shape)
    h = np.zeros(b.shape[1:], dtype) if h0 is None else np.broadcast_to(np.asarray(h0, dtype), b.shape[1:])
    out = np.empty_like(b)
    for t in range(b.shape[0]):
        h = a[t] * h + b[t]
        out[t] = h
    return out


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("T", [1, 37, 130])
@pytest.mark.parametrize("complex_", [False, True])
def test_matches_float64_loop(method, T, complex_):
    rng = np.random.default_rng(T)
    a = rng.uniform(0.5, 0.99, (5,)).astype(np.float32)
    b = rng.normal(size=(T, 3, 5)).astype(np.float32)
    h0 = rng.normal(size=(3, 5)).astype(np.float32)
    if complex_:
        a = (a * np.exp(1j * rng.uniform(-1, 1, 5))).astype(np.complex64)
        b = (b + 1j * rng.normal(size=b.shape)).astype(np.complex64)
    got, last = linear_recurrence(a, b, h0, method=method, chunk_size=16, return_final=True)
    want = loop64(a, b, h0)
    np.testing.assert_allclose(np.asarray(got), want, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(np.asarray(last), want[-1], rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("chunk", [1, 3, 10, 11, 500])
def test_chunked_any_chunk_size_and_time_axis(chunk):
    rng = np.random.default_rng(chunk)
    a = rng.uniform(0.0, 1.0, (4, 10)).astype(np.float32)  # one decay per step: time on axis 1
    b = rng.normal(size=(4, 10)).astype(np.float32)
    got = linear_recurrence(a, b, axis=1, method="chunked", chunk_size=chunk)
    want = loop64(a.T, b.T).T
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)


def test_methods_agree_in_value_and_gradient_under_jit_vmap():
    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.uniform(0.6, 0.95, (8,)), jnp.float32)
    b = jnp.asarray(rng.normal(size=(2, 33, 8)), jnp.float32)  # vmapped over the leading axis

    def loss(a, method):
        h = jax.vmap(lambda bb: linear_recurrence(a, bb, method=method, chunk_size=8))(b)
        return jnp.sum(h**2)

    vals = {m: jax.jit(jax.value_and_grad(loss), static_argnums=1)(a, m) for m in METHODS}
    v0, g0 = vals["sequential"]
    for v, g in vals.values():
        np.testing.assert_allclose(float(v), float(v0), rtol=1e-5)
        np.testing.assert_allclose(np.asarray(g), np.asarray(g0), rtol=1e-4, atol=1e-4)


def test_bad_arguments_are_named():
    with pytest.raises(ArgumentError, match="method"):
        linear_recurrence(0.5, jnp.ones((3,)), method="fft")
    with pytest.raises(ArgumentError, match="chunk_size"):
        linear_recurrence(0.5, jnp.ones((3,)), method="chunked", chunk_size=0)
    with pytest.raises(ArgumentError, match="time axis"):
        linear_recurrence(0.5, jnp.float32(1.0))
