"""``LIF``: leaky integrate-and-fire, Spyx design (spike from the current membrane, subtractive reset)."""

from __future__ import annotations

import jax.numpy as jnp

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

__all__ = ["LIF"]


class LIF(Layer):
    r"""Leaky integrate-and-fire neurons, discrete time (one step per call).

    For input ``x_t`` and membrane ``V_t`` (the state, ``V_0 = 0``), in this order:

    1. spike from the *current* membrane: ``S_t = H(V_t - thr)`` (strict ``>``; the
       surrogate on the backward pass);
    2. integrate and reset by subtraction: ``V_{t+1} = beta * V_t + x_t - S_t * thr``;
    3. output ``S_t``.

    An input therefore shows in the spikes one step later (``S_t`` depends on ``x_{<t}`` only).

    Args:
        shape: per-sample neuron shape (channels-last for conv maps, e.g. ``(H, W, C)``).
        beta: membrane decay, in [0, 1]; clipped to [0, 1] at every step.
        learn_beta: ``True``: ``beta`` is a per-neuron ``nnx.Param`` of ``shape``; ``False``: a fixed scalar.
        threshold: firing threshold ``thr`` > 0 (fixed).
        activation: spike function with a surrogate gradient (any ``spyx.axn`` surrogate); default
            ``spyx.axn.heaviside()`` (straight-through).

    State: ``{"v": (*batch, *shape)}``. Input and output: ``(*batch, *shape)``.
    IR: ``spyx.Neuron(reset="subtract", reset_delay=True, g_x=1)`` then ``spyx.Shift(1)``.
    NIR (faithful): ``LI -> Threshold -> Delay(dt)`` with ``Delay -> Scale(-thr) -> LI``; (native): ``LIF``.
    """

    def __init__(self, shape, *, beta=0.9, learn_beta: bool = True, threshold: float = 1.0, activation=None):
        self.shape = as_shape(shape, "LIF")
        self.beta = decay_param(beta, self.shape, learn_beta, "LIF beta")
        self.threshold = threshold_value(threshold, "LIF")
        self.activation = activation

    def init_state(self, batch_shape=()):
        return {"v": jnp.zeros((*batch_tuple(batch_shape), *self.shape), jnp.float32)}

    def feedback(self, s):
        """Extra input computed from this step's spikes (recurrent layers); zero here."""
        return 0.0

    def __call__(self, x, state):
        v = state["v"]
        check_step(self, x, v)
        s = spike(self.activation, v - self.threshold)
        v = expand(decay_value(self.beta), v) * v + x + self.feedback(s) - s * self.threshold
        return s, {"v": v}
