"""``ALIF``: adaptive-threshold LIF (Bellec et al. 2018, "Long short-term memory and learning-to-learn in
networks of spiking neurons")."""

from __future__ import annotations

import jax.numpy as jnp

from spyx.errors import ParameterError
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

__all__ = ["ALIF"]


class ALIF(Layer):
    r"""LIF with a spike-triggered threshold adaptation ``a``.

    For input ``x_t``, membrane ``V_t`` and adaptation ``a_t`` (both zero at t = 0), in this order:

    1. threshold: ``A_t = thr + b * a_t``;
    2. spike from the current membrane: ``S_t = H(V_t - A_t)``;
    3. membrane: ``V_{t+1} = beta * V_t + x_t - S_t * A_t`` (reset by the adapted
       threshold, as Bellec et al.);
    4. adaptation: ``a_{t+1} = rho * a_t + (1 - rho) * S_t``;
    5. output ``S_t``.

    Args:
        shape: per-sample neuron shape. beta: membrane decay in [0, 1]; rho: adaptation decay in [0, 1]
            (both clipped at use); learn_beta, learn_rho: per-neuron ``nnx.Param`` or fixed scalar.
        adaptation: ``b`` >= 0, the threshold increase per unit of ``a`` (fixed).
        threshold: baseline ``thr`` > 0. activation: surrogate spike function.

    State: ``{"v", "a"}``, each ``(*batch, *shape)``.
    IR: ``spyx.AdaptiveNeuron(g_x=1, v_threshold=thr, b, rho)`` then ``spyx.Shift(1)`` (:func:`spyx.nn.lower`,
    outputs identical to :func:`spyx.nn.run`).
    NIR: none. The reset ``S_t * A_t`` multiplies two signals, which no NIR primitive computes;
    :func:`spyx.nn.export` raises ``ExportError``.
    """

    def __init__(
        self,
        shape,
        *,
        beta=0.9,
        rho=0.95,
        adaptation: float = 1.0,
        learn_beta: bool = True,
        learn_rho: bool = False,
        threshold: float = 1.0,
        activation=None,
    ):
        self.shape = as_shape(shape, "ALIF")
        self.beta = decay_param(beta, self.shape, learn_beta, "ALIF beta")
        self.rho = decay_param(rho, self.shape, learn_rho, "ALIF rho")
        if not adaptation >= 0:
            raise ParameterError(f"ALIF adaptation must be >= 0, got {adaptation!r}")
        self.adaptation = float(adaptation)
        self.threshold = threshold_value(threshold, "ALIF")
        self.activation = activation

    def init_state(self, batch_shape=()):
        z = jnp.zeros((*batch_tuple(batch_shape), *self.shape), jnp.float32)
        return {"v": z, "a": z}

    def __call__(self, x, state):
        v, a = state["v"], state["a"]
        check_step(self, x, v)
        thr = self.threshold + self.adaptation * a
        s = spike(self.activation, v - thr)
        v = expand(decay_value(self.beta), v) * v + x - s * thr
        # 1 - rho in the state's dtype even for a fixed Python-float rho (not 1 - rho in float64 rounded
        # once): the same arithmetic as a learnable rho, and as the lowered spyx.AdaptiveNeuron
        rho = expand(jnp.asarray(decay_value(self.rho), a.dtype), a)
        a = rho * a + (1.0 - rho) * s
        return s, {"v": v, "a": a}
