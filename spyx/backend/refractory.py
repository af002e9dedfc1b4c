"""JAX kernel of ``spyx.RefractoryLIF`` (:mod:`spyx.ir.refractory`), registered in
:data:`spyx.backend.kernels.KERNELS`; the step is ``docs/semantics.md`` ("The refractory LIF step"), steps
numbered as there. Both schedules drive it through ``step``; its output depends on this step's input, so it
has no ``peek``."""

from __future__ import annotations

import jax.numpy as jnp

from spyx.backend.kernels import Kernel, register_kernel

__all__ = ["refractory_step"]

TRAINABLE = ("beta", "g_x", "v_threshold", "v_reset")  # t_ref is integer structure, like a Shift's steps


def _init(node, batch, dtype):
    z = jnp.zeros((batch, *node.shape), dtype)
    return {"v": z, "c": z}


def refractory_step(node, p, state, x, ctx):
    """One step on ``(B, *shape)`` arrays."""
    v, c = state["v"], state["c"]
    thr, v_reset = p["v_threshold"][None], p["v_reset"][None]
    t_ref = jnp.asarray(node.t_ref, x.dtype)[None]
    free = c <= 0  # 1. refractory where c > 0
    u = jnp.where(free, p["beta"][None] * v + p["g_x"][None] * x, v)  # 2. integrate
    s = jnp.where(free, ctx.spike_fn(u - thr, strict=True), 0.0)  # 3. spike
    v = jnp.where(s > 0, v_reset, u)  # 4. reset
    c = jnp.where(s > 0, t_ref, jnp.maximum(c - 1.0, 0.0))  # 5. count down
    return {"v": v, "c": c}, s  # 6. output


register_kernel("spyx.RefractoryLIF", Kernel(trainable=TRAINABLE, init=_init, step=refractory_step))
