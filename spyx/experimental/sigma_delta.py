r"""``SigmaDelta``: a leaky integrator that sends graded, quantised *changes* of its membrane
(``../shared/spyx-api.md`` §14.1), and ``graded_quant``, its straight-through quantiser.

A sigma-delta neuron communicates only when its state moves: the event at step ``t`` is the membrane change
``V_t - V_{t-1}`` rounded to a multiple of ``step``, so a slowly varying signal costs few events. The events
telescope: ``sum_{j<=t} s_j`` tracks ``V_t`` (each rounding error is at most ``step / 2`` and they add up roughly
like ``sqrt(T) step``, not being fed back). The membrane itself is reset-free, so a whole sequence is one
:func:`spyx.scan.linear_recurrence`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.errors import InputError
from spyx.nn.base import clip01, decay_param, expand, hidden_tuple, zeros

__all__ = ["SigmaDelta", "graded_quant"]


@jax.custom_vjp
def graded_quant(delta, step):
    """``round(delta / step) * step`` (round half to even: exactly 0 where ``|delta| < step / 2``), with the
    identity as its gradient in ``delta`` (straight-through) and none in ``step``."""
    return jnp.round(delta / step) * step


def _gq_fwd(delta, step):
    return graded_quant(delta, step), None


def _gq_bwd(_, g):
    return g, None


graded_quant.defvjp(_gq_fwd, _gq_bwd)


class SigmaDelta(nnx.Module):
    r"""Leaky integrator emitting quantised membrane changes.

    One step, in this order, for input ``x`` and incoming membrane ``V`` (zero at t = 0):

    1. ``V' = clip01(beta) V + x``;
    2. ``s = graded_quant(V' - V, step)`` (a multiple of ``step``; 0 for a change below ``step / 2``);
    3. return ``(s, V')``.

    Args:
        hidden_shape: per-sample shape (a tuple).
        beta: decay; ``None`` draws ``0.5 + TN(0.25)`` per unit (one draw), a number is a 0-d ``nnx.Param``.
        step: the event quantum (a float, not learned).
        rngs: ``nnx.Rngs``.

    State: ``V`` ``(B, *hidden_shape)``. :meth:`parallel` gives the same events for a whole sequence. Not
    NIR-exportable (NIR has no graded-event neuron).
    """

    def __init__(self, hidden_shape, beta=None, step: float = 1.0, *, rngs):
        self.hidden_shape = hidden_tuple(hidden_shape, "SigmaDelta")
        self.beta = decay_param(beta, self.hidden_shape, rngs, "SigmaDelta beta")
        self.step = float(step)

    def initial_state(self, batch_size):
        return zeros(batch_size, self.hidden_shape)

    def __call__(self, x, V):
        V_new = expand(clip01(self.beta), V) * V + x
        return graded_quant(V_new - V, self.step), V_new

    def parallel(self, x):
        """Events ``(T, B, *hidden_shape)`` of a time-major ``x`` from ``V = 0``: the membrane by an associative
        scan, then ``s_t = graded_quant(V_t - V_{t-1}, step)`` with ``V_{-1} = 0``."""
        k = len(self.hidden_shape)
        if x.ndim < k + 1 or tuple(x.shape[x.ndim - k :]) != self.hidden_shape:
            raise InputError(f"SigmaDelta.parallel expects time-major (T, B, *{self.hidden_shape}) input, got "
                             f"{tuple(x.shape)}")
        from spyx.scan import linear_recurrence

        b = jnp.broadcast_to(expand(clip01(self.beta), x), x.shape).astype(x.dtype)
        V = linear_recurrence(b, x, method="associative")
        previous = jnp.concatenate([jnp.zeros_like(V[:1]), V[:-1]], axis=0)
        return graded_quant(V - previous, self.step)
