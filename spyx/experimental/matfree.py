r"""Multiplication-free layers, trained with straight-through estimators (``../shared/spyx-api.md`` §13.5).

Weights are quantised in the forward pass to values whose products need no multiplier: ternary ``{-1, 0, 1}``
times one scale (:class:`TernaryLinear`, BitNet-style: only additions and sign flips) or signed powers of two
(:class:`ShiftAddLinear`: bit shifts). The backward pass treats the quantiser as the identity
(:func:`ste`: ``x + stop_gradient(x_q - x)``), so the full-precision weights are what is trained. :class:`MLGRU` and
:class:`MatMulFreeBlock` assemble these into a matmul-free recurrent language-model block (a gated linear
recurrence ``h_t = f_t h_{t-1} + (1 - f_t) c_t``, computed by :func:`spyx.scan.linear_recurrence`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.errors import InputError
from spyx.nn.base import expand
from spyx.scan import linear_recurrence

__all__ = ["ste", "ternary_weights", "power_of_two_weights", "activation_quant", "TernaryLinear", "ShiftAddLinear",
           "TernaryMLP", "RMSNorm", "MLGRU", "MatMulFreeBlock"]


def ste(x, x_q):
    """``x_q`` forward, the identity in ``x`` backward: ``x + stop_gradient(x_q - x)``."""
    return x + jax.lax.stop_gradient(x_q - x)


def ternary_weights(w, eps: float = 1e-5):
    """``(w_t, scale)``: ``scale = mean(|w|) + eps``, ``w_t = round(clip(w / scale, -1, 1))`` in ``{-1, 0, 1}``."""
    scale = jnp.mean(jnp.abs(w)) + eps
    return jnp.round(jnp.clip(w / scale, -1, 1)), scale


def power_of_two_weights(w, min_exp: int = -8, max_exp: int = 0, eps: float = 1e-12):
    """``sign(w) 2^clip(round(log2(|w| + eps)), min_exp, max_exp)`` (zero weights stay 0)."""
    e = jnp.clip(jnp.round(jnp.log2(jnp.abs(w) + eps)), min_exp, max_exp)
    return jnp.sign(w) * jnp.exp2(e)


def activation_quant(x, bits: int = 8, eps: float = 1e-5):
    """Symmetric per-row (last axis) fake quantisation to ``bits`` bits, dequantised: with ``q = 2^(bits-1) - 1``
    and ``m = max |x|`` of the row, ``round(clip(x q / (m + eps), -q, q)) / (q / (m + eps))``."""
    q = 2 ** (bits - 1) - 1
    scale = q / (jnp.max(jnp.abs(x), axis=-1, keepdims=True) + eps)
    return jnp.round(jnp.clip(x * scale, -q, q)) / scale


class TernaryLinear(nnx.Module):
    """``y = (x @ ste(w, w_t)) * scale (+ bias)`` with ``(w_t, scale) = ternary_weights(w)`` (the gradient also
    reaches ``w`` through ``scale``); with ``activation_bits`` the input is first ``ste``-quantised by
    :func:`activation_quant`. ``w`` ``(in, out)``: LeCun normal, one draw; ``bias`` zeros (or ``None``)."""

    def __init__(self, in_features: int, out_features: int, *, rngs, use_bias: bool = False,
                 activation_bits: int | None = None):
        self.w = nnx.Param(nnx.initializers.lecun_normal()(rngs.params(), (in_features, out_features)))
        self.bias = nnx.Param(jnp.zeros((out_features,))) if use_bias else None
        self.activation_bits = activation_bits

    def __call__(self, x):
        if self.activation_bits:
            x = ste(x, activation_quant(x, self.activation_bits))
        w = self.w[...]
        w_t, scale = ternary_weights(w)
        y = (x @ ste(w, w_t)) * scale
        return y + expand(self.bias, y) if self.bias is not None else y


class ShiftAddLinear(nnx.Module):
    """``y = x @ ste(w, power_of_two_weights(w, min_exp, max_exp)) (+ bias)``."""

    def __init__(self, in_features: int, out_features: int, *, rngs, use_bias: bool = False, min_exp: int = -8,
                 max_exp: int = 0):
        self.w = nnx.Param(nnx.initializers.lecun_normal()(rngs.params(), (in_features, out_features)))
        self.bias = nnx.Param(jnp.zeros((out_features,))) if use_bias else None
        self.min_exp, self.max_exp = min_exp, max_exp

    def __call__(self, x):
        w = self.w[...]
        y = x @ ste(w, power_of_two_weights(w, self.min_exp, self.max_exp))
        return y + expand(self.bias, y) if self.bias is not None else y


class TernaryMLP(nnx.Module):
    """``down(gelu(up(x)))`` with ternary ``up`` ``(features -> hidden)`` and ``down`` (``jax.nn.gelu``, tanh
    approximation)."""

    def __init__(self, features: int, hidden: int, *, rngs, activation_bits: int | None = 8):
        self.up = TernaryLinear(features, hidden, rngs=rngs, activation_bits=activation_bits)
        self.down = TernaryLinear(hidden, features, rngs=rngs, activation_bits=activation_bits)

    def __call__(self, x):
        return self.down(jax.nn.gelu(self.up(x)))


class RMSNorm(nnx.Module):
    """``x / sqrt(mean(x^2, last axis) + eps) * scale`` (``scale`` a Param of ones; ``rngs`` unused)."""

    def __init__(self, dim: int, *, rngs, eps: float = 1e-6):
        del rngs
        self.scale = nnx.Param(jnp.ones((dim,)))
        self.eps = eps

    def __call__(self, x):
        return x / jnp.sqrt(jnp.mean(x * x, axis=-1, keepdims=True) + self.eps) * expand(self.scale, x)


class MLGRU(nnx.Module):
    r"""Matmul-free linear GRU over **batch-major** ``x`` ``[B, T, dim]`` (strictly causal).

    ``f_t = sigmoid(f(x_t))``, ``c_t = silu(c(x_t))``, ``g_t = sigmoid(g(x_t))`` (ternary ``dim -> hidden``);
    ``h_t = f_t h_{t-1} + (1 - f_t) c_t`` (``h_{-1} = 0``, a sequential scan over time); ``y = o(g * h)``
    (``o``: ``hidden -> dim``). Submodules built in the order ``f, c, g, o``.
    """

    def __init__(self, dim: int, hidden: int, *, rngs, activation_bits: int | None = 8):
        self.f = TernaryLinear(dim, hidden, rngs=rngs, activation_bits=activation_bits)
        self.c = TernaryLinear(dim, hidden, rngs=rngs, activation_bits=activation_bits)
        self.g = TernaryLinear(dim, hidden, rngs=rngs, activation_bits=activation_bits)
        self.o = TernaryLinear(hidden, dim, rngs=rngs, activation_bits=activation_bits)
        self.dim = dim

    def __call__(self, x):
        if x.ndim != 3 or x.shape[-1] != self.dim:
            raise InputError(f"MLGRU expects batch-major [B, T, dim={self.dim}] input, got {tuple(x.shape)}")
        f = jax.nn.sigmoid(self.f(x))
        c = jax.nn.silu(self.c(x))
        g = jax.nn.sigmoid(self.g(x))
        h = linear_recurrence(f, (1 - f) * c, axis=1, method="sequential")
        return self.o(g * h)


class MatMulFreeBlock(nnx.Module):
    """``x + mixer(norm1(x))``, then ``+ mlp(norm2(x))``: ``RMSNorm``, ``MLGRU(dim, hidden or dim)``,
    ``RMSNorm``, ``TernaryMLP(dim, dim * mlp_ratio)`` (built in that order). Batch-major ``[B, T, dim]``."""

    def __init__(self, dim: int, *, rngs, hidden: int | None = None, mlp_ratio: int = 4,
                 activation_bits: int | None = 8):
        self.norm1 = RMSNorm(dim, rngs=rngs)
        self.mixer = MLGRU(dim, hidden or dim, rngs=rngs, activation_bits=activation_bits)
        self.norm2 = RMSNorm(dim, rngs=rngs)
        self.mlp = TernaryMLP(dim, dim * mlp_ratio, rngs=rngs, activation_bits=activation_bits)

    def __call__(self, x):
        x = x + self.mixer(self.norm1(x))
        return x + self.mlp(self.norm2(x))
