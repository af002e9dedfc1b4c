"""``IF``: integrate-and-fire, Spyx design (spike from the current membrane, subtractive reset)."""

from __future__ import annotations

import jax.numpy as jnp

from spyx.nn.base import Layer, as_shape, batch_tuple, check_step, spike, threshold_value

__all__ = ["IF"]


class IF(Layer):
    r"""Integrate-and-fire neurons (no leak), discrete time.

    For input ``x_t`` and membrane ``V_t`` (``V_0 = 0``), in this order:

    1. ``S_t = H(V_t - thr)`` (strict ``>``, surrogate gradient backward);
    2. ``V_{t+1} = V_t + x_t - S_t * thr`` (reset by subtraction);
    3. output ``S_t``.

    Args:
        shape: per-sample neuron shape. threshold: ``thr`` > 0. activation: surrogate spike function
            (default ``spyx.axn.heaviside()``).

    State: ``{"v": (*batch, *shape)}``. IR: ``spyx.Neuron(beta=1, reset="subtract", reset_delay=True)`` then
    ``spyx.Shift(1)``. NIR (faithful): ``I -> Threshold -> Delay`` with ``Delay -> Scale(-thr) -> I``;
    (native): ``IF``.
    """

    def __init__(self, shape, *, threshold: float = 1.0, activation=None):
        self.shape = as_shape(shape, "IF")
        self.threshold = threshold_value(threshold, "IF")
        self.activation = activation

    def init_state(self, batch_shape=()):
        return {"v": jnp.zeros((*batch_tuple(batch_shape), *self.shape), jnp.float32)}

    def feedback(self, s):
        return 0.0

    def __call__(self, x, state):
        v = state["v"]
        check_step(self, x, v)
        s = spike(self.activation, v - self.threshold)
        v = v + x + self.feedback(s) - s * self.threshold
        return s, {"v": v}
