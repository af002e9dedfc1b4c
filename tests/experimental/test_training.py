"""spyx.experimental.hybrid and evolve: the ES estimate against an analytic gradient, the hybrid combination's
algebra (orthogonality, lam = 0, normalisation), SGES's guided probe, and the ES solver training through
spyx.optimize.compile_fit."""

from __future__ import annotations

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from spyx import experimental as E
from spyx import optimize
from spyx.experimental import evolve, hybrid


class Quad(nnx.Module):
    def __init__(self):
        self.w = nnx.Param(jnp.asarray([1.0, -2.0, 0.5, 0.3]))

    def __call__(self, a):
        return jnp.sum(a * self.w[...] ** 2)


A = jnp.asarray([1.0, 2.0, 0.5, 3.0])


def surrogate(m, a):  # a biased surrogate of the true loss (a different curvature)
    return 0.5 * m(a) + jnp.sum(m.w[...])


def true(m, a):
    return m(a)


def test_es_estimate_approaches_the_analytic_gradient():
    theta = jnp.asarray([1.0, -2.0, 0.5, 0.3])
    f = lambda t: jnp.sum(A * t**2)  # noqa: E731
    g = jax.jit(lambda k: hybrid._es_flat(theta, f, k, num_samples=4000, sigma=0.01))(jax.random.PRNGKey(0))
    exact = 2 * A * theta
    assert float(g @ exact / (jnp.linalg.norm(g) * jnp.linalg.norm(exact))) > 0.99
    g_es = E.es_gradient(Quad(), true, jax.random.PRNGKey(0), batch=(A,), num_samples=8)
    assert jax.tree.structure(g_es) == jax.tree.structure(nnx.state(Quad(), nnx.Param))


def test_hybrid_gradient_algebra():
    m, key = Quad(), jax.random.PRNGKey(1)
    g, d = E.hybrid_gradient(m, surrogate, true, key, batch=(A,), num_samples=6, return_diagnostics=True)
    g_s, g_es, g_orth = (np.asarray(d[k], np.float64) for k in ("g_s", "g_es", "g_orth"))
    assert abs(g_orth @ g_s) < 1e-4 * np.linalg.norm(g_orth) * np.linalg.norm(g_s)
    np.testing.assert_allclose(g_orth, g_es - (g_es @ g_s) / (g_s @ g_s) * g_s, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(g["w"][...]), g_s + g_orth, rtol=1e-5)
    g0 = E.hybrid_gradient(m, surrogate, true, key, batch=(A,), num_samples=6, lam=0.0)
    np.testing.assert_array_equal(np.asarray(g0["w"][...]), np.asarray(d["g_s"]))
    gn, dn = E.hybrid_gradient(m, surrogate, true, key, batch=(A,), num_samples=6, lam=0.5, normalize=True,
                               return_diagnostics=True)
    correction = np.asarray(gn["w"][...]) - g_s
    np.testing.assert_allclose(np.linalg.norm(correction), 0.5 * np.linalg.norm(g_s), rtol=1e-5)
    assert float(dn["correction_fraction"]) == pytest.approx(0.5, rel=1e-5)
    assert set(E.hybrid_diagnostics(m, surrogate, true, key, batch=(A,))) == set(d)


def test_sges_probe_is_the_directional_derivative_along_the_guide():
    theta = jnp.asarray([1.0, -2.0, 0.5, 0.3])
    f = lambda t: jnp.sum(A * t**2)  # noqa: E731
    guide = jnp.asarray([0.0, 1.0, 1.0, 0.0])
    g_es, a, u, g_orth = hybrid._sges_flat(theta, f, guide, jax.random.PRNGKey(0), num_samples=5, sigma=0.01,
                                           eps=1e-8)
    u64 = np.asarray(guide, np.float64) / np.linalg.norm(guide)
    assert float(a) == pytest.approx(float(np.asarray(2 * A * theta, np.float64) @ u64), rel=1e-3)
    assert abs(float(g_orth @ u)) < 1e-4
    np.testing.assert_allclose(g_es, a * u + g_orth, rtol=1e-6)


def test_es_solver_trains_through_compile_fit_and_the_step_builders_run():
    from spyx import nn as snn

    rngs = nnx.Rngs(0)
    model = snn.Sequential(nnx.Linear(3, 8, rngs=rngs), jnp.tanh, nnx.Linear(8, 1, rngs=rngs))
    X = jax.random.normal(jax.random.PRNGKey(1), (4, 16, 3))
    Y = jnp.sum(X, axis=-1, keepdims=True)

    def mse(m, x, y):
        return jnp.mean((m(x, m.initial_state(x.shape[0]))[0] - y) ** 2)

    _, hist = optimize.compile_fit(model, evolve.es(optax.adam(3e-2), num_samples=16, sigma=0.05), mse, (X, Y),
                                   epochs=8, key=jax.random.PRNGKey(2))
    losses = np.asarray(hist["train_loss"])
    assert losses[-1] < 0.7 * losses[0], losses
    opt = nnx.Optimizer(model, optax.sgd(1e-2), wrt=nnx.Param)
    step = E.make_sges_hybrid_train_step(mse, mse, num_samples=4, sigma=0.05, lam=0.5)
    assert np.isfinite(float(step(model, opt, jax.random.PRNGKey(3), X[0], Y[0])))


@pytest.mark.skipif(importlib.util.find_spec("evosax") is not None, reason="evosax is installed")
def test_cmaes_without_evosax_names_the_extra():
    with pytest.raises(ImportError, match=r"spyx\[evolve\]"):
        optimize.compile_fit(Quad(), evolve.cmaes(population_size=4), true, (A[None],), epochs=1)
