"""Shared cases for the fused-kernel tests: each neuron family's kernel call and ``spyx.nn`` reference, random
inputs, every ``spyx.axn`` surrogate, and the comparison of values and gradients."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

import spyx.kernels as K
from spyx.kernels.sequence import run_cell
from spyx.kernels.delayed_reset import DELAYED_SUBTRACT_CELL
from spyx.kernels.value_reset import VALUE_RESET_CELL
from spyx import axn
from tests.kernels import reference as R


def surrogates() -> dict:
    """Every ``spyx.axn`` factory, with non-default options for some, and a ``custom`` pair with its own
    forward (so the fused path must take the forward from the spike function, not assume the step)."""
    return {
        "superspike": axn.superspike(),
        "arctan": axn.arctan(k=3.0),
        "tanh": axn.tanh(),
        "boxcar": axn.boxcar(width=1.0, height=0.7),
        "triangular": axn.triangular(),
        "straight_through": axn.straight_through(),
        "custom": axn.custom(),
        "custom_pair": axn.custom(lambda u: jnp.exp(-u * u), lambda u: (u > 0.1).astype(u.dtype)),
    }


SURROGATES = surrogates()


@dataclass(frozen=True)
class Family:
    """A neuron family: its state names, parameters (``"decay"`` or ``"threshold"``), the kernel call
    ``kernel(x, states, params, sg, **options) -> (y, finals)`` and the reference with the same signature."""

    states: tuple[str, ...]
    params: tuple[str, ...]
    kernel: object
    ref: object
    recurrent: bool = False


def _two(f):
    def g(*a, **k):
        y, *finals = f(*a, **k)
        return y, tuple(finals)

    return g


FAMILIES = {
    "lif": Family(("v",), ("decay", "threshold"),
                  lambda x, st, p, sg, **k: _two(K.lif_sequence)(x, *st, *p, surrogate=sg, **k),
                  lambda x, st, p, sg: R.lif(x, *st, *p, sg)),
    "if": Family(("v",), ("threshold",),
                 lambda x, st, p, sg, **k: _two(K.if_sequence)(x, *st, *p, surrogate=sg, **k),
                 lambda x, st, p, sg: R.if_(x, *st, *p, sg)),
    "cuba_lif": Family(("v", "i"), ("decay", "decay", "threshold"),
                       lambda x, st, p, sg, **k: _two(K.cuba_lif_sequence)(x, *st, *p, surrogate=sg, **k),
                       lambda x, st, p, sg: R.cuba_lif(x, *st, *p, sg)),
    "alif": Family(("v", "a"), ("decay", "decay", "threshold"),
                   lambda x, st, p, sg, **k: _two(K.alif_sequence)(x, *st, *p, surrogate=sg, **k),
                   lambda x, st, p, sg: R.alif(x, *st, *p, sg)),
    "li": Family(("v",), ("decay",),
                 lambda x, st, p, sg, **k: _two(K.li_sequence)(x, *st, *p, **k),
                 lambda x, st, p, sg: R.li(x, *st, *p)),
    "psu_lif": Family(("v",), ("decay", "threshold"),
                      lambda x, st, p, sg, **k: _two(K.psu_lif_sequence)(x, *st, *p, surrogate=sg, **k),
                      lambda x, st, p, sg: R.psu_lif(x, *st, *p, sg)),
    # no spyx.nn layer: the compiled programs' value reset (spyx.backend.fused; decays not clipped), state = u
    "value_reset": Family(("u",), ("decay", "threshold", "reset"),
                          lambda x, st, p, sg, **k: run_cell(VALUE_RESET_CELL, x, st, p, sg, decays=(),
                                                             what="value_reset", **_kernel_defaults(k)),
                          lambda x, st, p, sg: R.value_reset(x, *st, *p, sg)),
    # no spyx.nn layer either: the compiled programs' delayed subtractive reset, output = the new membrane's spike
    "delayed_subtract": Family(("v",), ("decay", "threshold"),
                               lambda x, st, p, sg, **k: run_cell(DELAYED_SUBTRACT_CELL, x, st, p, sg, decays=(),
                                                                  what="delayed_subtract", **_kernel_defaults(k)),
                               lambda x, st, p, sg: R.delayed_subtract(x, *st, *p, sg)),
    "rif": Family(("v",), ("weight", "threshold"),
                  lambda x, st, p, sg, **k: _two(K.rif_sequence)(x, *st, *p, surrogate=sg, **k),
                  lambda x, st, p, sg: R.rif(x, *st, *p, sg), recurrent=True),
    "rlif": Family(("v",), ("weight", "decay", "threshold"),
                   lambda x, st, p, sg, **k: _two(K.rlif_sequence)(x, *st, *p, surrogate=sg, **k),
                   lambda x, st, p, sg: R.rlif(x, *st, *p, sg), recurrent=True),
    "rcuba_lif": Family(("v", "i"), ("weight", "decay", "decay", "threshold"),
                        lambda x, st, p, sg, **k: _two(K.rcuba_lif_sequence)(x, *st, *p, surrogate=sg, **k),
                        lambda x, st, p, sg: R.rcuba_lif(x, *st, *p, sg), recurrent=True),
}


def _kernel_defaults(k):
    return {"impl": "auto", "interpret": False, "config": None, **k}


def inputs(family: Family, shape, seed: int, *, scalar_params: bool = False):
    """Random ``(x, states, params)`` for ``shape = (T, B, *hidden)``: inputs around the threshold so that
    neurons fire at a moderate rate; per-unit decays in (0.2, 1) with one entry above 1 (clipped: its
    gradient must be zero) and one below 0; per-unit thresholds in (0.5, 1.5); ``scalar_params``: 0-d ones."""
    rng = np.random.default_rng(seed)
    f = np.float32
    t, b, *hidden = shape
    hidden = tuple(hidden)
    x = (rng.normal(0.35, 0.8, shape)).astype(f)
    states = tuple((rng.normal(0.0, 0.6, (b, *hidden))).astype(f) for _ in family.states)
    params = []
    for kind in family.params:
        if kind == "weight":
            params.append((rng.normal(0.0, 0.4, hidden + hidden)).astype(f))
        elif kind == "reset":
            params.append(f(0.1) if scalar_params else rng.uniform(-0.3, 0.3, hidden).astype(f))
        elif scalar_params:
            params.append(f(0.83) if kind == "decay" else f(0.9))
        elif kind == "decay":
            d = rng.uniform(0.2, 1.0, hidden).astype(f)
            d.flat[0], d.flat[-1] = 1.25, -0.1
            params.append(d)
        else:
            params.append(rng.uniform(0.5, 1.5, hidden).astype(f))
    return jnp.asarray(x), tuple(map(jnp.asarray, states)), tuple(map(jnp.asarray, params))


def _loss(fn, weights):
    def loss(x, states, params):
        y, finals = fn(x, states, params)
        wy, wf = weights
        return jnp.sum(y * wy) + sum(jnp.sum(a * w) for a, w in zip(finals, wf, strict=True))

    return loss


def run_both(family: Family, sg, x, states, params, **options):
    """Values and gradients (w.r.t. ``x``, every state and every parameter) of the kernel and of the reference,
    in one compiled program: ``(got_values, ref_values, got_grads, ref_grads)``. The kernel's values come from
    its primal (not the differentiated) path."""
    rng = np.random.default_rng(1234)
    wy = jnp.asarray(rng.normal(size=x.shape).astype(np.float32))
    wf = tuple(jnp.asarray(rng.normal(size=s.shape).astype(np.float32)) for s in states)

    def kern(x, states, params):
        return family.kernel(x, states, params, sg, **options)

    def ref(x, states, params):
        return family.ref(x, states, params, sg)

    @jax.jit
    def both(x, states, params):
        got = kern(x, states, params)
        want = ref(x, states, params)
        g_got = jax.grad(_loss(kern, (wy, wf)), argnums=(0, 1, 2))(x, states, params)
        g_ref = jax.grad(_loss(ref, (wy, wf)), argnums=(0, 1, 2))(x, states, params)
        return got, want, g_got, g_ref

    return both(x, states, params)


def assert_match(family: Family, result, *, what: str) -> None:
    """Spikes equal exactly, states and outputs to float rounding, every gradient within ``rtol = 1e-5``
    (with an absolute floor of ``1e-6`` times the gradient's largest entry, for entries that cancel to ~0)."""
    (y, finals), (y_ref, finals_ref), g_got, g_ref = result
    y, y_ref = np.asarray(y), np.asarray(y_ref)
    if family.params and "threshold" in family.params:
        np.testing.assert_array_equal(y, y_ref, err_msg=f"{what}: spikes")
    else:
        np.testing.assert_allclose(y, y_ref, rtol=1e-6, atol=1e-6, err_msg=f"{what}: outputs")
    for name, a, b in zip(family.states, finals, finals_ref, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6, err_msg=f"{what}: {name}")
    names = ["x"] + [f"{s}0" for s in family.states] + list(family.params)
    got = [g_got[0], *g_got[1], *g_got[2]]
    ref = [g_ref[0], *g_ref[1], *g_ref[2]]
    for name, a, b in zip(names, got, ref, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, f"{what}: d/d{name} shape {a.shape} != {b.shape}"
        assert np.isfinite(b).all(), f"{what}: reference d/d{name} not finite"
        floor = 1e-6 * max(float(np.abs(b).max()), 1e-30)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=floor, err_msg=f"{what}: d/d{name}")
    assert any(float(np.abs(np.asarray(g)).max()) > 0 for g in ref), f"{what}: all reference gradients are zero"
