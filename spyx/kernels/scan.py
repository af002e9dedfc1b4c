r"""The ``lax.scan`` driver of a :class:`~spyx.kernels.cell.Cell`: the CPU implementation and fallback.

Forward: one ``lax.scan`` over ``t`` of ``cell.step`` with the bare spike forward ``H``; with ``save=True`` it
also stacks the new states ``S_{t+1}`` (``[T, M]`` per component; for a cell whose output is its state, the
outputs are that stack). Backward: one reverse ``lax.scan`` of ``cell.grad_step`` carrying the state cotangent
and the parameter gradients, fed ``S_t`` (the stack shifted by one, the initial state first) and ``S_{t+1}``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["scan_forward", "scan_backward"]


def scan_forward(cell, fns, x, states, params, *, save: bool, unroll: int = 1):
    """``(y [T, M], finals, seq)``: outputs, final states and (``save``) the stacked new states (else ``()``)."""
    keep = save and not cell.output_is_state

    def body(state, xt):
        y, new = cell.step(xt, state, params, fns.forward)
        return new, (y, new if keep else ())

    finals, (y, seq) = jax.lax.scan(body, tuple(states), x, unroll=unroll)
    if save and cell.output_is_state:
        seq = (y,)
    return y, tuple(finals), tuple(seq)


def scan_backward(cell, fns, seq, states0, params, gy, gfinals, *, unroll: int = 1):
    """``(gx [T, M], gstates0, gparams)`` from the stored new states ``seq`` and the output cotangents."""
    prevs = tuple(jnp.concatenate([s0[None], s[:-1]], axis=0) for s0, s in zip(states0, seq, strict=True))

    def body(carry, xs):
        lam, acc = carry
        prev, new, g = xs
        gx, lam, gp = cell.grad_step(prev, new, g, lam, params, fns)
        return (lam, tuple(a + b for a, b in zip(acc, gp, strict=True))), gx

    zeros = tuple(jnp.zeros_like(p) for p in params)
    (lam, acc), gx = jax.lax.scan(body, (tuple(gfinals), zeros), (prevs, tuple(seq), gy), reverse=True,
                                  unroll=unroll)
    return gx, tuple(lam), tuple(acc)
