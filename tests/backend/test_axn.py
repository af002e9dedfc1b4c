"""Surrogate spike functions (Spyx 1.0's formulas): exact forward step, closed-form backward, under jit/vmap/grad.
The real spyx==1.0.0 is compared in tests/compat."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyx import axn
from spyx.errors import OptionError

X = np.array([-2.0, -1.0, -0.7, -0.1, -1e-7, 0.0, 1e-7, 0.1, 0.7, 1.0, 2.0], dtype=np.float32)

CLOSED_FORMS = {
    "straight_through": (axn.straight_through(), lambda x: np.ones_like(x)),
    "superspike": (axn.superspike(), lambda x: 1 / (1 + 25 * np.abs(x)) ** 2),
    "superspike3": (axn.superspike(k=3.0), lambda x: 1 / (1 + 3 * np.abs(x)) ** 2),
    "arctan": (axn.arctan(), lambda x: 1 / (math.pi * (1 + (2 * math.pi * x) ** 2))),
    "arctan5": (axn.arctan(5), lambda x: 1 / (math.pi * (1 + (5 * math.pi * x) ** 2))),
    "tanh": (axn.tanh(k=1.5), lambda x: 1 / np.cosh(1.5 * x) ** 2),
    "boxcar": (axn.boxcar(), lambda x: np.where(np.abs(x) < 1.0, 0.5, 0.0)),
    "boxcar1": (axn.boxcar(width=1.0, height=2.0), lambda x: np.where(np.abs(x) < 0.5, 2.0, 0.0)),
    "triangular": (axn.triangular(), lambda x: np.maximum(0, 1 - np.abs(2 * x))),
    "custom": (axn.custom(), lambda x: x),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_forward_is_exact_step(name):
    fn, _ = CLOSED_FORMS[name]
    np.testing.assert_array_equal(np.asarray(fn(X)), (X > 0).astype(np.float32))
    np.testing.assert_array_equal(np.asarray(fn(X, strict=False)), (X >= 0).astype(np.float32))
    assert fn(X).dtype == jnp.float32


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
@pytest.mark.parametrize("strict", [True, False])
def test_backward_is_closed_form(name, strict):
    fn, deriv = CLOSED_FORMS[name]
    grad = jax.vmap(jax.grad(lambda x: fn(x, strict=strict)))(X)
    np.testing.assert_allclose(np.asarray(grad), deriv(X.astype(np.float64)), rtol=1e-6, atol=1e-7)


def test_spyx1_values_at_zero_and_edges():
    """s'(0) as Spyx 1.0 gives it (arctan 1/pi, custom() 0), the strict boxcar edge, H(0) = 0."""
    at0 = {k: float(jax.grad(lambda x, f=f: f(x))(0.0)) for k, (f, _) in CLOSED_FORMS.items()}
    assert at0["arctan"] == pytest.approx(1 / math.pi, rel=1e-6) and at0["custom"] == 0.0
    assert at0["superspike"] == at0["tanh"] == at0["triangular"] == 1.0 and at0["boxcar"] == 0.5
    edges = jax.vmap(jax.grad(lambda x: axn.boxcar(2, 0.5)(x)))(jnp.asarray([-2.0, -1.0, 0.0, 1.0, 2.0]))
    assert np.asarray(edges).tolist() == [0.0, 0.0, 0.5, 0.0, 0.0]
    assert np.asarray(axn.heaviside(jnp.asarray([-1, 0, 2]))).tolist() == [0, 0, 1]
    assert axn.heaviside(jnp.asarray([-1, 0, 2])).dtype == jnp.int32  # integer inputs stay integer
    assert float(jax.grad(lambda x: axn.heaviside(x))(0.3)) == 0.0  # a plain step: no surrogate


def test_chain_rule_scales_the_surrogate():
    fn = axn.superspike(k=10.0)
    g = jax.grad(lambda x: jnp.sum(3.0 * fn(x - 0.5)))(jnp.array([0.4, 0.5, 0.9]))
    np.testing.assert_allclose(
        np.asarray(g), 3.0 / (1 + 10 * np.abs(np.array([-0.1, 0.0, 0.4]))) ** 2, rtol=1e-6
    )


def test_under_jit_and_vmap():
    fn = axn.arctan()
    batch = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    f = jax.jit(jax.vmap(jax.grad(lambda x: jnp.sum(fn(x)))))
    expect = 1 / (math.pi * (1 + (2 * math.pi * batch.astype(np.float64)) ** 2))
    np.testing.assert_allclose(np.asarray(f(batch)), expect, rtol=1e-6)


def test_custom_pair_is_backward_first():
    fn = axn.custom(lambda x: 2 * jnp.ones_like(x), lambda x: (x > 0.5).astype(x.dtype))
    np.testing.assert_array_equal(np.asarray(fn(X)), (X > 0.5).astype(np.float32))
    np.testing.assert_array_equal(np.asarray(jax.grad(lambda x: jnp.sum(fn(x)))(X)), np.full_like(X, 2.0))


def test_by_name_and_bad_names():
    assert axn.by_name("tanh", k=2.0).options == {"k": 2.0}
    with pytest.raises(OptionError, match="unknown surrogate 'nope'.*superspike"):
        axn.by_name("nope")
    with pytest.raises(OptionError, match="boxcar"):
        axn.by_name("boxcar", widht=1.0)
