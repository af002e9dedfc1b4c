"""``LI``: leaky integrator (non-spiking readout)."""

from __future__ import annotations

import jax.numpy as jnp

from spyx.nn.base import Layer, as_shape, batch_tuple, check_step, decay_param, decay_value, expand

__all__ = ["LI"]


class LI(Layer):
    r"""Leaky integrator: ``V_{t+1} = beta * V_t + x_t``; outputs ``V_{t+1}`` (the membrane after this
    step's input, so a readout sees ``x_t`` in the same step). ``V_0 = 0``.

    Args:
        shape: per-sample shape. beta: decay in [0, 1] (clipped at use). learn_beta: per-neuron
            ``nnx.Param`` (True) or a fixed scalar (False).

    State: ``{"v": (*batch, *shape)}``. IR: ``spyx.Neuron(fires=False, beta, g_x=1)``.
    NIR: ``LI(tau = -dt / ln beta, r = 1 / (1 - beta), v_leak = 0)``; ``beta = 1``: ``I(r = 1/dt)``.
    """

    def __init__(self, shape, *, beta=0.9, learn_beta: bool = True):
        self.shape = as_shape(shape, "LI")
        self.beta = decay_param(beta, self.shape, learn_beta, "LI beta")

    def init_state(self, batch_shape=()):
        return {"v": jnp.zeros((*batch_tuple(batch_shape), *self.shape), jnp.float32)}

    def __call__(self, x, state):
        v = state["v"]
        check_step(self, x, v)
        v = expand(decay_value(self.beta), v) * v + x
        return v, {"v": v}
