"""``ActivityRegularization``: an identity layer that counts the spikes passing through it."""

from __future__ import annotations

import jax.numpy as jnp

from spyx.nn.base import Layer, as_shape, batch_tuple

__all__ = ["ActivityRegularization"]


class ActivityRegularization(Layer):
    """Pass spikes through unchanged and add them to a running count kept in the state.

    Step: ``out_t = x_t``; ``count_{t+1} = count_t + x_t`` (``count_0 = 0``). After :func:`spyx.nn.run`, the
    count in the returned state is the number of spikes per neuron and batch element, for a firing-rate
    penalty in the loss (e.g. ``jnp.mean((count / T - target) ** 2)``).

    State: ``{"count": (*batch, *shape)}``. IR/NIR: the identity (no node); the count is a training
    statistic, not an output of the network.
    """

    def __init__(self, shape):
        self.shape = as_shape(shape, "ActivityRegularization")

    def init_state(self, batch_shape=()):
        return {"count": jnp.zeros((*batch_tuple(batch_shape), *self.shape), jnp.float32)}

    def __call__(self, x, state):
        return x, {"count": state["count"] + x}
