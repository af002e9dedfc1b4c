"""``ALIF``: adaptive-threshold LIF (LSNN-style, Bellec et al. 2018), Spyx 1.0's step."""

from __future__ import annotations

import jax.numpy as jnp

from spyx.nn.base import clip01, decay_param, expand, param_value, paired_shape, split_state, zeros
from spyx.nn.neuron import Neuron

__all__ = ["ALIF"]


class ALIF(Neuron):
    r"""LIF whose threshold rises with each spike and relaxes back.

    One step, in this order, for input ``x`` and incoming membrane ``V`` and adaptation ``A`` (zero at t = 0):

    1. effective threshold: ``theta = threshold + A``;
    2. spike on the incoming membrane: ``s = spike(V - theta)``;
    3. membrane, reset by the *adapted* threshold: ``V' = clip01(beta) * V + x - s * theta``;
    4. adaptation: ``A' = clip01(gamma) * A + (1 - clip01(gamma)) * s`` (the increment per spike is ``1 - gamma``);
    5. return ``(s, [V' | A'])``.

    Args:
        hidden_shape: per-sample shape. beta, gamma: decays (``None``: drawn from ``rngs``, ``beta`` first; a
            number: a 0-d ``nnx.Param``), clipped at use. threshold: baseline (default 1). activation: spike
            function (default ``spyx.axn.superspike()``).

    State: ``[V | A]`` on the last axis, ``(B, 2N)``. IR: ``spyx.AdaptiveNeuron(b=1, rho=gamma)`` then
    ``spyx.Shift(1)``. NIR: none (the reset ``s * (threshold + A)`` multiplies two signals): ``spyx.nir.to_nir``
    skips it with a warning (Spyx 1.0); ``spyx.nn.export`` raises ``ExportError``.
    """

    def __init__(
        self,
        hidden_shape,
        beta=None,
        gamma=None,
        threshold=1,
        activation=None,
        *,
        rngs,
        learn_beta: bool = True,
        learn_gamma: bool = True,
    ):
        super().__init__(hidden_shape, threshold, activation)
        self.beta = decay_param(beta, self.hidden_shape, rngs, "ALIF beta", learn=learn_beta)
        self.gamma = decay_param(gamma, self.hidden_shape, rngs, "ALIF gamma", learn=learn_gamma)

    def initial_state(self, batch_size):
        return zeros(batch_size, paired_shape(self.hidden_shape))

    def __call__(self, x, state):
        self._check(x)
        V, A = split_state(state)
        theta = self._threshold(V) + A
        s = self.spike(V - theta)
        V = expand(clip01(self.beta), V) * V + x - s * theta
        gamma = expand(clip01(self.gamma), A)
        A = gamma * A + (1 - gamma) * s
        return s, jnp.concatenate([V, A], axis=-1)

    def sequence(self, xs, state):
        """``(spikes, [V_T | A_T])`` of a whole ``[T, B, *hidden]`` sequence by the fused kernel."""
        from spyx.kernels import alif_sequence

        V, A = split_state(state)
        s, V, A = alif_sequence(
            xs, V, A, param_value(self.beta), param_value(self.gamma), self.threshold, surrogate=self.spike
        )
        return s, jnp.concatenate([V, A], axis=-1)
