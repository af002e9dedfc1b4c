"""``CuBaLIF``: current-based LIF, Spyx design."""

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

__all__ = ["CuBaLIF"]


class CuBaLIF(Layer):
    r"""Current-based leaky integrate-and-fire neurons: a synaptic current ``I`` feeds the membrane ``V``.

    For input ``x_t``, current ``I_t`` and membrane ``V_t`` (both zero at t = 0), in this order:

    1. ``S_t = H(V_t - thr)`` from the current membrane;
    2. synapse: ``I_{t+1} = alpha * I_t + x_t``;
    3. membrane: ``V_{t+1} = beta * V_t + I_{t+1} - S_t * thr`` (the reset is not decayed);
    4. output ``S_t``.

    (Spyx 1.0 subtracted the reset before the decay, ``beta * (V_t - S_t thr)``; spyx 2 does not, so that
    the layer is exactly the documented ``spyx.Neuron`` step and the NIR graph below.)

    Args:
        shape: per-sample neuron shape. alpha, beta: synaptic and membrane decays in [0, 1] (clipped at use).
        learn_alpha, learn_beta: per-neuron ``nnx.Param`` (True) or fixed scalars (False).
        threshold: ``thr`` > 0. activation: surrogate spike function (default ``spyx.axn.heaviside()``).

    State: ``{"v", "i"}``, each ``(*batch, *shape)``.
    IR: ``spyx.Neuron(synapse=True, w_syn=1, g_syn=1, g_prev=0, g_x=0, reset="subtract", reset_delay=True)``
    then ``spyx.Shift(1)``. NIR (faithful): ``LI(synapse) -> LI(membrane) -> Threshold -> Delay`` with
    ``Delay -> Scale(-thr) -> LI(membrane)``; (native): ``CubaLIF``.
    """

    def __init__(
        self,
        shape,
        *,
        alpha=0.8,
        beta=0.9,
        learn_alpha: bool = True,
        learn_beta: bool = True,
        threshold: float = 1.0,
        activation=None,
    ):
        self.shape = as_shape(shape, "CuBaLIF")
        self.alpha = decay_param(alpha, self.shape, learn_alpha, "CuBaLIF alpha")
        self.beta = decay_param(beta, self.shape, learn_beta, "CuBaLIF beta")
        self.threshold = threshold_value(threshold, "CuBaLIF")
        self.activation = activation

    def init_state(self, batch_shape=()):
        z = jnp.zeros((*batch_tuple(batch_shape), *self.shape), jnp.float32)
        return {"v": z, "i": z}

    def feedback(self, s):
        return 0.0

    def __call__(self, x, state):
        v, i = state["v"], state["i"]
        check_step(self, x, v)
        s = spike(self.activation, v - self.threshold)
        i = expand(decay_value(self.alpha), i) * i + x + self.feedback(s)
        v = expand(decay_value(self.beta), v) * v + i - s * self.threshold
        return s, {"v": v, "i": i}
