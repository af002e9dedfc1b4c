"""spyx.experimental's neurons against float64 recurrences written here: ParallelResetLIF (step == LIF, the parallel
solver exact at K >= T and never worse with more iterations), SigmaDelta (parallel == step, telescoping),
the stochastic neurons' membranes and their Bernoulli spike functions (gradient = p, firing frequency = p)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from spyx import experimental as E
from spyx import nn as snn


def _x(shape, seed=0, scale=1.5, shift=0.3):
    return jnp.asarray(shift + scale * np.random.default_rng(seed).standard_normal(shape), jnp.float32)


def _lif64(x, beta, thr):
    """Sequential LIF in float64: spike on the incoming membrane, then V = b V + x - s thr."""
    x = np.asarray(x, np.float64)
    V = np.zeros(x.shape[1:])
    out = []
    for t in range(x.shape[0]):
        s = (V > thr).astype(np.float64)
        out.append(s)
        V = beta * V + x[t] - s * thr
    return np.stack(out)


def test_parallel_reset_lif_steps_as_lif_and_its_solver_converges():
    T = 10
    layer = E.ParallelResetLIF((4,), rngs=nnx.Rngs(2))
    lif = snn.LIF((4,), rngs=nnx.Rngs(2))
    x = _x((T, 3, 4))
    np.testing.assert_array_equal(jax.jit(lambda xx: snn.run(layer, xx)[0])(x),
                                  jax.jit(lambda xx: snn.run(lif, xx)[0])(x))
    assert np.array_equal(np.asarray(layer.beta[...]), np.asarray(lif.beta[...]))  # same draw

    ref = _lif64(x, np.clip(np.asarray(layer.beta[...], np.float64), 0, 1), 1.0)
    par = jax.jit(layer.parallel, static_argnums=1)
    outs = {K: np.asarray(par(x, K)) for K in (0, 1, 2, T)}
    mism = [float(np.mean(outs[K] != ref)) for K in (0, 1, 2, T)]
    assert mism[-1] == 0.0  # K >= T: exact
    assert all(a >= b for a, b in zip(mism[:-1], mism[1:], strict=True)), mism  # never worse with more iterations
    for K in (0, 1, 2):  # iteration K makes the first K + 1 steps exact
        np.testing.assert_array_equal(outs[K][: K + 1], ref[: K + 1])

    g = jax.jit(jax.grad(lambda b: jnp.sum(E.ParallelResetLIF((4,), beta=b, rngs=nnx.Rngs(0)).parallel(x) * x)))(0.7)
    assert np.isfinite(g) and g != 0


def test_sigma_delta_parallel_equals_steps_and_events_telescope():
    layer = E.SigmaDelta((5,), step=0.25, rngs=nnx.Rngs(3))
    x = _x((30, 2, 5), seed=1, scale=0.2)
    events, V_T = jax.jit(lambda xx: snn.run(layer, xx))(x)
    np.testing.assert_array_equal(jax.jit(layer.parallel)(x), events)
    assert np.all(np.isclose(np.asarray(events) / 0.25, np.round(np.asarray(events) / 0.25)))
    b = np.clip(np.asarray(layer.beta[...], np.float64), 0, 1)
    V = np.zeros((2, 5))
    for t in range(30):
        V = b * V + np.asarray(x[t], np.float64)
    np.testing.assert_allclose(V_T, V, rtol=1e-5, atol=1e-6)
    # sum of events = V_T up to the accumulated rounding (each |error| <= step / 2)
    assert np.max(np.abs(np.asarray(events).sum(0) - V)) <= 30 * 0.125 + 1e-5
    q = E.graded_quant(jnp.asarray([0.1, 0.125, 0.375, -0.2, 0.6]), 0.25)
    np.testing.assert_array_equal(q, [0.0, 0.0, 0.5, -0.25, 0.5])  # round half to even: 0.5 -> 0, 1.5 -> 2
    np.testing.assert_array_equal(jax.grad(lambda d: jnp.sum(E.graded_quant(d, 0.25) * 3.0))(jnp.ones(3)), 3.0)


def _leaky64(x, b, gain):
    x = np.asarray(x, np.float64)
    V, out = np.zeros((x.shape[0], x.shape[2])), []
    for t in range(x.shape[1]):
        V = b * V + gain * x[:, t]
        out.append(V)
    return np.stack(out, axis=1)


def test_stochastic_membranes_match_their_recurrences():
    x = _x((2, 9, 4), seed=2, scale=0.7)
    key = jax.random.PRNGKey(1)
    spsn = E.SPSN((4,), rngs=nnx.Rngs(4))
    b = np.clip(np.asarray(spsn.beta[...], np.float64), 0, 1)
    s, V = jax.jit(spsn)(key, x)
    np.testing.assert_allclose(V, _leaky64(x, b, 1 - b), atol=1e-5)
    assert set(np.unique(np.asarray(s))) <= {0.0, 1.0} and s.shape == x.shape

    alif = E.StochasticAssociativeLIF((4,), rngs=nnx.Rngs(4))
    np.testing.assert_allclose(jax.jit(alif)(key, x)[1], _leaky64(x, b, 1.0), rtol=1e-5, atol=1e-6)
    det = E.StochasticAssociativeLIF((4,), spike=False, rngs=nnx.Rngs(4))
    s_det, V_det = jax.jit(det)(key, x)
    np.testing.assert_array_equal(s_det, V_det)

    cuba = E.StochasticAssociativeCuBaLIF((4,), threshold=0.5, k=5, rngs=nnx.Rngs(5))
    a = np.clip(np.asarray(cuba.alpha[...], np.float64), 0, 1)
    bc = np.clip(np.asarray(cuba.beta[...], np.float64), 0, 1)
    current = _leaky64(x, a, 1.0)
    V = _leaky64(current, bc, 1.0)
    u = V - 0.5
    p = np.maximum(np.cos(2 * np.pi * 0.5 * u) / (1 + np.exp(-5 * u)), 0)
    s, g = jax.jit(lambda xx: (cuba(key, xx), jax.grad(lambda z: jnp.sum(cuba(key, z)))(xx)))(x)
    assert np.all(np.isfinite(np.asarray(g)))
    assert np.all(np.asarray(s)[p == 0] == 0)  # never fires where its probability is 0
    with pytest.raises(ValueError, match=r"\[B, T, 4\]"):
        alif(key, x[0])


def test_bernoulli_spikes_fire_with_probability_p_and_their_gradient_is_p():
    x = jnp.linspace(0.0, 2.0, 9)
    p = 0.8 / (1 + np.exp(-10 * (np.asarray(x, np.float64) - 1.0)))
    f = E.sigmoid_bernoulli()
    np.testing.assert_allclose(jax.grad(lambda xx: jnp.sum(f(xx, jax.random.PRNGKey(0))))(x), p, rtol=1e-5)
    keys = jax.random.split(jax.random.PRNGKey(2), 4000)
    rate = np.asarray(jax.vmap(lambda k: f(x, k))(keys)).mean(0)
    assert np.max(np.abs(rate - p)) < 0.03  # 4000 draws: standard error <= 0.008
    r = E.refractory_sigmoid_bernoulli(k=50, threshold=1)
    u = np.asarray(x, np.float64) - 1
    pr = np.maximum(np.cos(2 * np.pi * u) / (1 + np.exp(-50 * u)), 0)
    np.testing.assert_allclose(jax.grad(lambda xx: jnp.sum(r(xx, jax.random.PRNGKey(0))))(x), pr, atol=1e-6)
