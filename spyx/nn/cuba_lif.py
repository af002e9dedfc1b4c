"""``CuBaLIF``: current-based leaky integrate-and-fire, Spyx 1.0's step."""

from __future__ import annotations

import jax.numpy as jnp

from spyx.nn.base import clip01, decay_param, expand, param_value, paired_shape, split_state, zeros
from spyx.nn.neuron import Neuron

__all__ = ["CuBaLIF"]


class CuBaLIF(Neuron):
    r"""Current-based LIF: a synaptic current ``I`` feeds the membrane ``V``.

    One step, in this order, for input ``x`` and incoming ``V``, ``I`` (both zero at t = 0):

    1. spike on the incoming membrane: ``s = spike(V - threshold)``;
    2. reset **before** the leak: ``V_r = V - s * threshold``;
    3. synapse: ``I' = clip01(alpha) * I + x``;
    4. membrane: ``V' = clip01(beta) * V_r + I'`` (so the reset is scaled by ``beta``);
    5. return ``(s, [V' | I'])``.

    Worked check (Spyx 1.0's test): ``alpha=0.9, beta=0.8, threshold=1, V=2, I=0.5, x=0.3`` gives ``s=1``,
    ``I'=0.75``, ``V'=1.55``.

    Args:
        hidden_shape: per-sample shape. alpha, beta: synaptic and membrane decays (``None``: drawn from ``rngs``,
            ``alpha`` first; a number: a 0-d ``nnx.Param``), clipped to [0, 1] at use. threshold: default 1.
        activation: spike function (default ``spyx.axn.superspike()``). learn_alpha, learn_beta: spyx extras.

    State: ``[V | I]`` concatenated on the last axis, ``(B, 2N)`` for ``hidden_shape = (N,)`` (for more axes,
    ``(B, *hidden[:-1], 2 * hidden[-1])``). IR: ``spyx.Neuron(synapse=True, reset="subtract")`` (an immediate
    reset of the previous step is this step's decayed one) then ``spyx.Shift(1)``. NIR: ``CubaLIF(tau_mem,
    tau_syn, r = beta)`` (``spyx.nir.to_nir``); faithful export ``LI(syn) -> LI(mem) -> Threshold -> Delay``
    with the reset fed back through ``Scale(-beta * threshold)``.
    """

    def __init__(
        self,
        hidden_shape,
        alpha=None,
        beta=None,
        threshold=1,
        activation=None,
        *,
        rngs,
        learn_alpha: bool = True,
        learn_beta: bool = True,
    ):
        super().__init__(hidden_shape, threshold, activation)
        self.alpha = decay_param(alpha, self.hidden_shape, rngs, "CuBaLIF alpha", learn=learn_alpha)
        self.beta = decay_param(beta, self.hidden_shape, rngs, "CuBaLIF beta", learn=learn_beta)

    def initial_state(self, batch_size):
        return zeros(batch_size, paired_shape(self.hidden_shape))

    def feedback(self, s):
        """Extra synaptic input from this step's spikes (RCuBaLIF); none here."""
        return 0.0

    def __call__(self, x, state):
        self._check(x)
        V, I = split_state(state)
        thr = self._threshold(V)
        s = self.spike(V - thr)
        V = V - s * thr
        I = expand(clip01(self.alpha), I) * I + x + self.feedback(s)
        V = expand(clip01(self.beta), V) * V + I
        return s, jnp.concatenate([V, I], axis=-1)

    def sequence(self, xs, state):
        """``(spikes, [V_T | I_T])`` of a whole ``[T, B, *hidden]`` sequence by the fused kernel."""
        from spyx.kernels import cuba_lif_sequence

        V, I = split_state(state)
        s, V, I = cuba_lif_sequence(
            xs, V, I, param_value(self.alpha), param_value(self.beta), self.threshold, surrogate=self.spike
        )
        return s, jnp.concatenate([V, I], axis=-1)
