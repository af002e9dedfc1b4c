r"""Bernoulli-spiking neuron prototypes (``../shared/spyx-api.md`` §13.10).

A stochastic neuron fires with a probability ``p`` that grows with its membrane; the forward pass samples
``Bernoulli(p)`` with an explicit ``jax.random`` key, the backward pass uses ``p`` itself as the spike's derivative
(``d s / d x = p``: the expected spike's sensitivity without the sigmoid's own slope). The membranes are reset-free,
so a whole sequence is computed at once:

* :class:`SPSN`: ``V_t = b V_{t-1} + (1 - b) x_t`` as a causal FFT convolution with the kernel ``b^t (1 - b)``;
* :class:`StochasticAssociativeLIF`: ``V_t = b V_{t-1} + x_t`` by :func:`spyx.scan.linear_recurrence`;
* :class:`StochasticAssociativeCuBaLIF`: ``I_t = a I_{t-1} + u_t``, ``V_t = b V_{t-1} + I_t``, two such scans.

All take **batch-major** ``[B, T, C]`` input and the key first: ``layer(key, x)``; decays are ``clip01`` of the
stored ``nnx.Param`` (``0.5 + TN(0.25)``, one draw each, ``alpha`` before ``beta``). They are not stateful layers
(no ``initial_state``: they see the whole sequence) and are not NIR-exportable.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.errors import InputError
from spyx.nn.base import clip01, decay_param, hidden_tuple
from spyx.scan import linear_recurrence

__all__ = [
    "sigmoid_bernoulli",
    "refractory_sigmoid_bernoulli",
    "SPSN",
    "StochasticAssociativeLIF",
    "StochasticAssociativeCuBaLIF",
]


def _bernoulli_spike(prob):
    """``f(x, key)``: forward ``Bernoulli(key, prob(x))`` in ``x``'s dtype; backward ``g * prob(x)`` (no gradient
    to the key)."""

    @jax.custom_vjp
    def f(x, key):
        return jax.random.bernoulli(key, prob(x)).astype(x.dtype)

    def fwd(x, key):
        p = prob(x)
        return jax.random.bernoulli(key, p).astype(x.dtype), p

    def bwd(p, g):
        return g * p.astype(g.dtype), None

    f.defvjp(fwd, bwd)
    return f


def sigmoid_bernoulli(k: float = 10, threshold: float = 1.0, max_prob: float = 0.8):
    """Spikes with probability ``p = sigmoid(k (x - threshold)) * max_prob``; gradient ``g * p``. The threshold is
    subtracted inside (pass the membrane itself). Not jitted."""
    return _bernoulli_spike(lambda x: jax.nn.sigmoid(k * (x - threshold)) * max_prob)


def refractory_sigmoid_bernoulli(k: float = 50, threshold: float = 1):
    """Spikes with probability ``p = max(cos(2 pi threshold U) sigmoid(k U), 0)``, ``U = x - threshold`` (the cosine
    makes the probability fall again above the threshold: a soft refractoriness); gradient ``g * p``."""

    def prob(x):
        u = x - threshold
        return jnp.maximum(jnp.cos(2 * math.pi * threshold * u) * jax.nn.sigmoid(k * u), 0)

    return _bernoulli_spike(prob)


def _check(layer, x) -> None:
    if x.ndim != 3 or x.shape[-1:] != layer.hidden_shape:
        raise InputError(f"{type(layer).__name__}{layer.hidden_shape}: expects batch-major [B, T, "
                         f"{layer.hidden_shape[0]}] input, got {tuple(x.shape)}")


def _decay(p, x):
    """``clip01(p)`` shaped to broadcast against ``x`` ``[B, T, C]`` without rank promotion."""
    b = clip01(p)
    return jnp.reshape(b, (1, 1, -1)) if b.ndim else b


class SPSN(nnx.Module):
    r"""Stochastic parallel spiking neuron: a normalised leaky membrane and Bernoulli spikes.

    ``__call__(key, x)`` with ``x`` ``[B, T, C]``: ``V_t = b V_{t-1} + (1 - b) x_t`` (``V_{-1} = 0``, ``b =
    clip01(beta)``), evaluated as the causal convolution of ``x`` with ``h_t = b^t (1 - b)`` by FFT (length
    ``2T``, so the circular convolution is the linear one); returns ``(spike(V, key), V)``, both ``[B, T, C]``,
    with ``spike = sigmoid_bernoulli(k, threshold)``. Equal to the recurrence to float rounding of the FFT.
    """

    def __init__(self, hidden_shape, threshold=1, k=10, *, rngs):
        self.hidden_shape = hidden_tuple(hidden_shape, "SPSN")
        self.threshold = threshold
        self.beta = decay_param(None, self.hidden_shape, rngs, "SPSN beta")
        self.spike = sigmoid_bernoulli(k, threshold)

    def membrane(self, x):
        _check(self, x)
        T = x.shape[1]
        b = clip01(self.beta)
        b = jnp.reshape(b, (1, -1)) if b.ndim else b
        t = jnp.arange(T, dtype=x.dtype)[:, None]
        kernel = jnp.power(b, t) * (1 - b)  # h_t = b^t (1 - b), [T, C]
        n = 2 * T
        X = jnp.fft.rfft(x, n=n, axis=1)
        K = jnp.fft.rfft(jnp.broadcast_to(kernel, (T, x.shape[-1])), n=n, axis=0)
        return jnp.fft.irfft(X * K[None], n=n, axis=1)[:, :T].astype(x.dtype)

    def __call__(self, key, x):
        V = self.membrane(x)
        return self.spike(V, key), V


class StochasticAssociativeLIF(nnx.Module):
    r"""Reset-free LIF with Bernoulli spikes: ``V_t = b V_{t-1} + x_t`` over ``x`` ``[B, T, C]`` by an
    associative scan (:func:`spyx.scan.linear_recurrence` on the time axis); returns ``(spike(V, key), V)`` with
    ``spike = sigmoid_bernoulli(k, threshold)``, or ``(V, V)`` with ``spike=False`` (a deterministic membrane)."""

    def __init__(self, hidden_shape, threshold=1, k=100, spike=True, *, rngs):
        self.hidden_shape = hidden_tuple(hidden_shape, "StochasticAssociativeLIF")
        self.threshold = threshold
        self.beta = decay_param(None, self.hidden_shape, rngs, "StochasticAssociativeLIF beta")
        self.spike = sigmoid_bernoulli(k, threshold) if spike else (lambda V, key: V)

    def __call__(self, key, x):
        _check(self, x)
        V = linear_recurrence(_decay(self.beta, x), x, axis=1)
        return self.spike(V, key), V


class StochasticAssociativeCuBaLIF(nnx.Module):
    r"""Current-based reset-free LIF with refractory Bernoulli spikes, over ``u`` ``[B, T, C]``:
    ``I_t = a I_{t-1} + u_t``, then ``V_t = b V_{t-1} + I_t`` (two associative scans, ``a = clip01(alpha)``,
    ``b = clip01(beta)``); returns the spikes ``refractory_sigmoid_bernoulli(k, threshold)(V, key)`` only."""

    def __init__(self, hidden_shape, threshold=1, k=100, *, rngs):
        self.hidden_shape = hidden_tuple(hidden_shape, "StochasticAssociativeCuBaLIF")
        self.threshold = threshold
        self.alpha = decay_param(None, self.hidden_shape, rngs, "StochasticAssociativeCuBaLIF alpha")
        self.beta = decay_param(None, self.hidden_shape, rngs, "StochasticAssociativeCuBaLIF beta")
        self.spike = refractory_sigmoid_bernoulli(k, threshold)

    def __call__(self, key, u):
        _check(self, u)
        current = linear_recurrence(_decay(self.alpha, u), u, axis=1)
        V = linear_recurrence(_decay(self.beta, u), current, axis=1)
        return self.spike(V, key)
