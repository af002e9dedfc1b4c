"""The independent reference for the fused kernels: the real ``spyx.nn`` layers stepped by ``spyx.nn.run`` (a
``lax.scan`` differentiated by JAX), built from given parameter arrays so that ``jax.grad`` reaches them."""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

import spyx.nn as snn


def _n(x):
    return tuple(x.shape[2:])


def lif(x, v0, beta, thr, sg):
    layer = snn.LIF(_n(x), beta=0.5, threshold=1.0, activation=sg, rngs=nnx.Rngs(0))
    layer.beta = nnx.Param(beta)
    layer.threshold = thr
    s, v = snn.run(layer, x, state=v0)
    return s, (v,)


def if_(x, v0, thr, sg):
    layer = snn.IF(_n(x), threshold=thr, activation=sg)
    s, v = snn.run(layer, x, state=v0)
    return s, (v,)


def cuba_lif(x, v0, i0, alpha, beta, thr, sg):
    layer = snn.CuBaLIF(_n(x), alpha=0.5, beta=0.5, threshold=1.0, activation=sg, rngs=nnx.Rngs(0))
    layer.alpha = nnx.Param(alpha)
    layer.beta = nnx.Param(beta)
    layer.threshold = thr
    s, state = snn.run(layer, x, state=jnp.concatenate([v0, i0], axis=-1))
    v, i = jnp.split(state, 2, axis=-1)
    return s, (v, i)


def alif(x, v0, a0, beta, gamma, thr, sg):
    layer = snn.ALIF(_n(x), beta=0.5, gamma=0.5, threshold=1.0, activation=sg, rngs=nnx.Rngs(0))
    layer.beta = nnx.Param(beta)
    layer.gamma = nnx.Param(gamma)
    layer.threshold = thr
    s, state = snn.run(layer, x, state=jnp.concatenate([v0, a0], axis=-1))
    v, a = jnp.split(state, 2, axis=-1)
    return s, (v, a)


def li(x, v0, beta):
    layer = snn.LI(_n(x), beta=0.5, rngs=nnx.Rngs(0))
    layer.beta = nnx.Param(beta)
    y, v = snn.run(layer, x, state=v0)
    return y, (v,)


def psu_lif(x, v0, beta, thr, sg):
    layer = snn.PSU_LIF(_n(x), beta=0.5, threshold=1.0, activation=sg, rngs=nnx.Rngs(0))
    layer.beta = nnx.Param(beta)
    layer.threshold = thr
    s, v = snn.run(layer, x, state=v0)
    return s, (v,)


def rif(x, v0, w, thr, sg):
    layer = snn.RIF(_n(x), threshold=thr, activation=sg, rngs=nnx.Rngs(0))
    layer.recurrent_w = nnx.Param(w)
    s, v = snn.run(layer, x, state=v0)
    return s, (v,)


def rlif(x, v0, w, beta, thr, sg):
    layer = snn.RLIF(_n(x), beta=0.5, threshold=1.0, activation=sg, rngs=nnx.Rngs(0))
    layer.recurrent_w = nnx.Param(w)
    layer.beta = nnx.Param(beta)
    layer.threshold = thr
    s, v = snn.run(layer, x, state=v0)
    return s, (v,)


def rcuba_lif(x, v0, i0, w, alpha, beta, thr, sg):
    layer = snn.RCuBaLIF(_n(x), alpha=0.5, beta=0.5, threshold=1.0, activation=sg, rngs=nnx.Rngs(0))
    layer.recurrent_w = nnx.Param(w)
    layer.alpha = nnx.Param(alpha)
    layer.beta = nnx.Param(beta)
    layer.threshold = thr
    s, state = snn.run(layer, x, state=jnp.concatenate([v0, i0], axis=-1))
    v, i = jnp.split(state, 2, axis=-1)
    return s, (v, i)


def value_reset(x, u0, beta, thr, v_reset, sg):
    """The immediate value reset as the compiled programs step it (docs/semantics.md steps 3-5, in the post-reset
    membrane ``v``: ``u = beta v + x``, ``s = H(u - thr)``, ``v = v_reset where s else u``), started from the
    pre-reset ``u0`` the cell carries; returns the spikes and the last pre-reset membrane."""
    import jax

    beta, thr, v_reset = (jnp.broadcast_to(a, u0.shape) for a in (beta, thr, v_reset))

    def body(carry, xt):
        v, _ = carry
        u = beta * v + xt
        s = sg(u - thr)
        return (jnp.where(s > 0, v_reset, u), u), s

    v0 = jnp.where(sg(u0 - thr) > 0, v_reset, u0)
    (_, u), s = jax.lax.scan(body, (v0, u0), x)
    return s, (u,)


def delayed_subtract(x, v0, beta, thr, sg):
    """The delayed subtractive reset as the compiled programs step it (``u = beta v + x - s thr``, ``s' = H(u -
    thr)``, ``v = u``, carrying ``(v, s)``), from ``v0`` with the carried spike ``s0 = H(v0 - thr)``; returns the
    spikes of each step's new membrane and the last membrane."""
    import jax

    beta, thr = (jnp.broadcast_to(a, v0.shape) for a in (beta, thr))

    def body(carry, xt):
        v, s = carry
        u = beta * v + xt - s * thr
        s = sg(u - thr)
        return (u, s), s

    (v, _), s = jax.lax.scan(body, (v0, sg(v0 - thr)), x)
    return s, (v,)
