r"""Surrogate gradients corrected by evolution strategies (``../shared/spyx-api.md`` §13.4).

A surrogate gradient ``g_s`` (backprop through a smoothed spike function) is biased: it is the gradient of a
different function. An antithetic evolution-strategies (NES) estimate ``g_es`` of the *true* loss is unbiased for
the Gaussian-smoothed loss but noisy. These functions combine the two on the flat parameter vector
``theta = ravel(nnx.Param state)``:

* :func:`hybrid_gradient`: ``g = g_s + lam_eff * g_orth``, where ``g_orth`` is the part of ``g_es`` orthogonal to
  ``g_s`` (so the correction never fights the surrogate's direction, it adds what the surrogate misses);
* :func:`sges_gradient`: surrogate-*guided* ES: one antithetic probe along ``u = g_s / |g_s|`` (the true loss's
  directional derivative ``a``) plus ``K - 1`` probes orthogonal to it, ``g = (1 - lam) g_s + lam (a u + g_orth)``.

Losses are ``(model, *batch) -> scalar``; non-``Param`` state passes through unchanged; gradients come back as an
``nnx.State`` shaped like the model's ``Param``s (ready for ``optimizer.update(model, grads)``).

NES estimate (``K = num_samples``, ``eps_k ~ N(0, I)`` of shape ``(K, D)`` drawn from ``key``)::

    g_es = sum_k [f(theta + sigma eps_k) - f(theta - sigma eps_k)] / (2 sigma K) * eps_k
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from flax import nnx
from jax.flatten_util import ravel_pytree

__all__ = [
    "hybrid_gradient",
    "hybrid_diagnostics",
    "es_gradient",
    "sges_gradient",
    "make_hybrid_train_step",
    "make_sges_hybrid_train_step",
]

LossFn = Callable[..., jax.Array]


def _antithetic(theta, f, eps, sigma):
    """``sum_k [f(theta + sigma eps_k) - f(theta - sigma eps_k)] / (2 sigma K) eps_k`` for the rows of ``eps``."""
    plus = jax.vmap(lambda e: f(theta + sigma * e))(eps)
    minus = jax.vmap(lambda e: f(theta - sigma * e))(eps)
    weights = (plus - minus) / (2 * sigma * eps.shape[0])
    return weights @ eps


def _es_flat(theta, f, key, *, num_samples: int, sigma: float):
    """The antithetic NES estimate of ``grad f(theta)`` (``theta`` a flat vector)."""
    eps = jax.random.normal(key, (int(num_samples), theta.shape[0]), theta.dtype)
    return _antithetic(theta, f, eps, sigma)


def _sges_flat(theta, f, guide, key, *, num_samples: int, sigma: float, eps: float):
    """Guided ES: ``(g_es, a, u, g_orth)`` with ``u = guide / (|guide| + eps)``, ``a`` the antithetic directional
    derivative along ``u``, and ``g_orth`` the NES estimate from ``max(K - 1, 1)`` probes projected orthogonal to
    ``u``; ``g_es = a u + g_orth``."""
    u = guide / (jnp.linalg.norm(guide) + eps)
    a = (f(theta + sigma * u) - f(theta - sigma * u)) / (2 * sigma)
    k = max(int(num_samples) - 1, 1)
    xi = jax.random.normal(key, (k, theta.shape[0]), theta.dtype)
    perp = xi - (xi @ u)[:, None] * u[None, :]
    g_orth = _antithetic(theta, f, perp, sigma)
    return a * u + g_orth, a, u, g_orth


def _split_and_ravel(model):
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    theta, unravel = ravel_pytree(params)

    def bind(loss, batch):
        return lambda t: loss(nnx.merge(graphdef, unravel(t), rest), *batch)

    return theta, unravel, bind


def es_gradient(model, loss_true: LossFn, key, *, batch=(), num_samples: int = 8, sigma: float = 0.01):
    """The NES estimate of ``grad loss_true`` (module docstring) as an ``nnx.State`` of the model's Params."""
    theta, unravel, bind = _split_and_ravel(model)
    return unravel(_es_flat(theta, bind(loss_true, tuple(batch)), key, num_samples=num_samples, sigma=sigma))


def _hybrid_flat(model, loss_surrogate, loss_true, key, batch, num_samples, sigma, lam, eps, normalize):
    theta, unravel, bind = _split_and_ravel(model)
    g_s = jax.grad(bind(loss_surrogate, batch))(theta)
    g_es = _es_flat(theta, bind(loss_true, batch), key, num_samples=num_samples, sigma=sigma)
    s_norm = jnp.linalg.norm(g_s)
    g_hat = g_s / (s_norm + eps)
    proj = g_es @ g_hat
    g_orth = g_es - proj * g_hat
    orth_norm = jnp.linalg.norm(g_orth)
    lam_eff = lam * s_norm / (orth_norm + eps) if normalize else jnp.asarray(lam, theta.dtype)
    g = g_s + lam_eff * g_orth
    es_norm = jnp.linalg.norm(g_es)
    diagnostics = {
        "cosine": (g_es @ g_s) / (es_norm * s_norm + eps),
        "g_orth_norm": orth_norm,
        "g_s_norm": s_norm,
        "g_es_norm": es_norm,
        "proj": proj,
        "lam_eff": lam_eff,
        "correction_fraction": lam_eff * orth_norm / (s_norm + eps),
        "g_s": g_s,
        "g_es": g_es,
        "g_orth": g_orth,
    }
    return unravel(g), diagnostics


def hybrid_gradient(model, loss_surrogate: LossFn, loss_true: LossFn, key, *, batch=(), num_samples: int = 8,
                    sigma: float = 0.01, lam: float = 1.0, eps: float = 1e-8, normalize: bool = False,
                    return_diagnostics: bool = False):
    """``g = g_s + lam_eff g_orth``.

    In order: ``g_s = grad loss_surrogate``; ``g_es`` the NES estimate of ``loss_true``; ``g_hat = g_s / (|g_s| +
    eps)``; ``proj = <g_es, g_hat>``; ``g_orth = g_es - proj g_hat``; ``lam_eff = lam |g_s| / (|g_orth| + eps)``
    with ``normalize`` (the correction then has norm ``lam |g_s|``), else ``lam``.

    Returns the gradient (an ``nnx.State``), or ``(gradient, diagnostics)``: ``cosine`` (``<g_es, g_s> / (|g_es|
    |g_s| + eps)``), ``g_orth_norm``, ``g_s_norm``, ``g_es_norm``, ``proj``, ``lam_eff``, ``correction_fraction``
    (``lam_eff |g_orth| / (|g_s| + eps)``) and the flat ``g_s``, ``g_es``, ``g_orth``.
    """
    grads, diagnostics = _hybrid_flat(model, loss_surrogate, loss_true, key, tuple(batch), num_samples, sigma, lam,
                                      eps, normalize)
    return (grads, diagnostics) if return_diagnostics else grads


def hybrid_diagnostics(model, loss_surrogate: LossFn, loss_true: LossFn, key, *, batch=(), num_samples: int = 8,
                       sigma: float = 0.01, lam: float = 1.0, eps: float = 1e-8, normalize: bool = False) -> dict:
    """The diagnostics dict of :func:`hybrid_gradient` alone."""
    return _hybrid_flat(model, loss_surrogate, loss_true, key, tuple(batch), num_samples, sigma, lam, eps,
                        normalize)[1]


def sges_gradient(model, loss_surrogate: LossFn, loss_true: LossFn, key, *, batch=(), num_samples: int = 8,
                  sigma: float = 0.01, lam: float = 1.0, eps: float = 1e-8, return_diagnostics: bool = False):
    """Surrogate-guided ES: ``g = (1 - lam) g_s + lam g_es`` with ``g_es = a u + g_orth`` guided by ``g_s``.

    Diagnostics: ``along_guide_deriv`` (``a``), ``surrogate_along_guide`` (``<g_s, u>``), ``g_orth_norm``,
    ``g_s_norm``, ``g_es_norm``, ``cosine`` and the flat ``g_s``, ``g_es``, ``g_orth``.
    """
    theta, unravel, bind = _split_and_ravel(model)
    batch = tuple(batch)
    g_s = jax.grad(bind(loss_surrogate, batch))(theta)
    g_es, a, u, g_orth = _sges_flat(theta, bind(loss_true, batch), g_s, key, num_samples=num_samples, sigma=sigma,
                                    eps=eps)
    g = (1 - lam) * g_s + lam * g_es
    if not return_diagnostics:
        return unravel(g)
    s_norm, es_norm = jnp.linalg.norm(g_s), jnp.linalg.norm(g_es)
    diagnostics = {
        "along_guide_deriv": a,
        "surrogate_along_guide": g_s @ u,
        "g_orth_norm": jnp.linalg.norm(g_orth),
        "g_s_norm": s_norm,
        "g_es_norm": es_norm,
        "cosine": (g_es @ g_s) / (es_norm * s_norm + eps),
        "g_s": g_s,
        "g_es": g_es,
        "g_orth": g_orth,
    }
    return unravel(g), diagnostics


def make_hybrid_train_step(loss_surrogate: LossFn, loss_true: LossFn, *, num_samples: int = 8, sigma: float = 0.01,
                           lam: float = 1.0, normalize: bool = False):
    """``step(model, optimizer, key, *batch) -> loss``: :func:`hybrid_gradient`, the true loss at the parameters
    before the update, then ``optimizer.update(model, grads)`` (not jitted: the caller may ``nnx.jit`` it)."""

    def step(model, optimizer, key, *batch):
        grads = hybrid_gradient(model, loss_surrogate, loss_true, key, batch=batch, num_samples=num_samples,
                                sigma=sigma, lam=lam, normalize=normalize)
        loss = loss_true(model, *batch)
        optimizer.update(model, grads)
        return loss

    return step


def make_sges_hybrid_train_step(loss_surrogate: LossFn, loss_true: LossFn, *, num_samples: int = 8,
                                sigma: float = 0.01, lam: float = 1.0):
    """As :func:`make_hybrid_train_step` with :func:`sges_gradient`."""

    def step(model, optimizer, key, *batch):
        grads = sges_gradient(model, loss_surrogate, loss_true, key, batch=batch, num_samples=num_samples,
                              sigma=sigma, lam=lam)
        loss = loss_true(model, *batch)
        optimizer.update(model, grads)
        return loss

    return step
