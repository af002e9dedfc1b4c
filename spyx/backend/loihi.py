"""JAX kernel of ``spyx.LavaLIF`` (:mod:`spyx.ir.loihi`), registered in :data:`spyx.backend.kernels.KERNELS`;
steps numbered as in the node's docstring. Exact integer arithmetic in int32 (JAX runs without 64-bit
integers by default): Lava forms ``u * (4096 - d)`` in int64 (up to 2**35); here ``|u| = h * 4096 + l`` and
``(|u| * k) >> 12 = h * k + ((l * k) >> 12)``, both products below 2**24. Its output depends on this step's
input, so it has no ``peek``."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from spyx.backend.kernels import Kernel, register_kernel

__all__ = ["lava_lif_step", "decay_toward_zero"]

I32 = jnp.int32
_HALF = 1 << 23  # 24-bit registers


def _init(node, batch, dtype):
    z = jnp.zeros((batch, *node.shape), I32)
    return {"i": z, "v": z}  # i: Lava's u (the current), named as spyx traces it


def decay_toward_zero(x, keep):
    """``sign(x) * ((|x| * keep) >> 12)`` exactly, for int32 ``|x| < 2**31`` and ``0 <= keep <= 4096``."""
    a = jnp.abs(x)
    hi, lo = a >> 12, a & 4095
    mag = hi * keep + ((lo * keep) >> 12)
    return jnp.sign(x) * mag


def _params(node):
    as_i32 = lambda name: jnp.asarray(getattr(node, name), I32)[None]  # noqa: E731
    mant, exp = as_i32("bias_mant"), as_i32("bias_exp")
    bias = jnp.where(exp >= 0, mant << jnp.maximum(exp, 0), mant >> jnp.maximum(-exp, 0))
    keep_u = 4096 - (as_i32("du") + 1)  # ds_offset = 1
    keep_v = 4096 - as_i32("dv")  # dm_offset = 0
    return keep_u, keep_v, bias, as_i32("vth") << 6


def lava_lif_step(node, p, state, x, ctx):
    """One step on ``(B, *shape)`` arrays; ``x`` is the (integer-valued) Dense output in any dtype."""
    keep_u, keep_v, bias, vth = _params(node)
    a = lax.stop_gradient(jnp.round(x)).astype(I32)
    u = decay_toward_zero(state["i"], keep_u) + (a << 6)  # 1. current
    u = jnp.where(u > _HALF, u - 2 * _HALF, u)
    u = jnp.where(u <= -_HALF, u + 2 * _HALF, u)
    v = jnp.clip(decay_toward_zero(state["v"], keep_v) + u + bias, -_HALF + 1, _HALF - 1)  # 2. voltage
    s = v > vth  # 3. spike
    v = jnp.where(s, 0, v)  # 4. reset
    return {"i": u, "v": v}, s.astype(x.dtype)  # 5. output


register_kernel("spyx.LavaLIF", Kernel(trainable=(), init=_init, step=lava_lif_step))
