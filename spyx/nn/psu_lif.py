"""``PSU_LIF``: reset-free LIF whose whole sequence can be computed in parallel (a linear recurrence)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from spyx.errors import InputError
from spyx.nn.base import (
    Layer,
    as_shape,
    batch_tuple,
    check_step,
    decay_param,
    decay_value,
    expand,
    spike,
    threshold_value,
)

__all__ = ["PSU_LIF"]


class PSU_LIF(Layer):  # noqa: N801  (the published name)
    r"""Reset-free LIF ("parallel spiking unit").

    Step (``V_0 = 0``): ``S_t = H(V_t - thr)`` from the current membrane; ``V_{t+1} = beta * V_t + x_t``
    (no reset); output ``S_t``. Because spikes do not feed back into ``V``, the membrane is a linear
    recurrence and :meth:`parallel` computes a whole sequence with ``jax.lax.associative_scan`` (depth
    ``log T``) instead of ``T`` sequential steps; both give the same result up to float rounding.

    State: ``{"v": (*batch, *shape)}``. IR: ``spyx.Neuron(reset="none", reset_delay=True)`` then
    ``spyx.Shift(1)``. NIR (faithful): ``LI -> Threshold -> Delay``; (native): ``LIF``
    (with a reset, approximate).
    """

    def __init__(self, shape, *, beta=0.9, learn_beta: bool = True, threshold: float = 1.0, activation=None):
        self.shape = as_shape(shape, "PSU_LIF")
        self.beta = decay_param(beta, self.shape, learn_beta, "PSU_LIF beta")
        self.threshold = threshold_value(threshold, "PSU_LIF")
        self.activation = activation

    def init_state(self, batch_shape=()):
        return {"v": jnp.zeros((*batch_tuple(batch_shape), *self.shape), jnp.float32)}

    def __call__(self, x, state):
        v = state["v"]
        check_step(self, x, v)
        s = spike(self.activation, v - self.threshold)
        v = expand(decay_value(self.beta), v) * v + x
        return s, {"v": v}

    def parallel(self, x, state=None):
        """All steps of a time-major sequence ``x`` of shape ``(T, *batch, *shape)`` at once.

        Returns ``(spikes (T, *batch, *shape), {"v": V_T})``, equal to scanning :meth:`__call__`.
        """
        if x.ndim < len(self.shape) + 1 or tuple(x.shape[x.ndim - len(self.shape) :]) != self.shape:
            raise InputError(f"PSU_LIF.parallel expects (T, *batch, {self.shape}) input, got {x.shape}")
        if state is None:
            state = self.init_state(x.shape[1 : x.ndim - len(self.shape)])
        v0 = state["v"]
        beta = jnp.broadcast_to(expand(decay_value(self.beta), x), x.shape).astype(x.dtype)

        def compose(first, second):
            # v -> a2 (a1 v + b1) + b2
            a1, b1 = first
            a2, b2 = second
            return a1 * a2, a2 * b1 + b2

        gain, offset = jax.lax.associative_scan(compose, (beta, x), axis=0)
        after = gain * v0[None] + offset  # V_1 .. V_T
        before = jnp.concatenate([v0[None], after[:-1]], axis=0)  # V_0 .. V_{T-1}
        return spike(self.activation, before - self.threshold), {"v": after[-1]}
