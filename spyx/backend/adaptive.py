"""JAX kernel of ``spyx.AdaptiveNeuron`` (:mod:`spyx.ir.adaptive`), registered in
:data:`spyx.backend.kernels.KERNELS`; the step is ``docs/semantics.md`` ("The adaptive neuron step").

Both schedules drive it through ``step`` (``layer``: its own ``lax.scan`` outside cycles, the step
interpreter inside them); its output depends on this step's input, so it has no ``peek``.
"""

from __future__ import annotations

import jax.numpy as jnp

from spyx.backend.kernels import Kernel, register_kernel

__all__ = ["adaptive_step"]

TRAINABLE = ("beta", "g_x", "v_threshold", "b", "rho")


def _b(a):
    """A per-sample parameter with a leading batch axis of 1 (explicit broadcasting)."""
    return a[None]


def _init(node, batch, dtype):
    z = jnp.zeros((batch, *node.shape), dtype)
    return {"v": z, "a": z, "s": z}


def adaptive_step(node, p, state, x, ctx):
    """One step of ``spyx.AdaptiveNeuron``, steps 1-5 in order, on ``(B, *shape)`` arrays."""
    thr, b, rho = _b(p["v_threshold"]), _b(p["b"]), _b(p["rho"])
    v, a, s = state["v"], state["a"], state["s"]
    # 1. integrate; the reset by the threshold s_{t-1} crossed. Written as (beta v + g_x x) - s A, the
    # operation order of spyx.nn.ALIF, so a lowered ALIF gives bit-identical membranes and spikes.
    u = _b(p["beta"]) * v + _b(p["g_x"]) * x - s * (thr + b * a)
    # 2. adapt
    a = rho * a + (1.0 - rho) * s
    # 3. spike from the new membrane against the new threshold
    s = ctx.spike_fn(u - (thr + b * a), strict=True)
    # 4. v_t = u_t; 5. output s_t
    return {"v": u, "a": a, "s": s}, s


register_kernel("spyx.AdaptiveNeuron", Kernel(trainable=TRAINABLE, init=_init, step=adaptive_step))
