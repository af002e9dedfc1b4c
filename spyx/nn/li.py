"""``LI``: leaky integrator (non-spiking readout), Spyx 1.0's step."""

from __future__ import annotations

from flax import nnx

from spyx.nn.base import clip01, decay_param, expand, param_value, hidden_tuple, zeros

__all__ = ["LI"]


class LI(nnx.Module):
    r"""Leaky integrator: ``V' = clip01(beta) * V + x``; returns ``(V', V')`` (the output is the new membrane, so
    a readout sees ``x_t`` in the same step). ``V`` is zero at t = 0.

    Args:
        layer_shape: per-sample shape (a tuple). The attribute is ``layer_shape`` (Spyx 1.0).
        beta: ``None``: a per-unit ``nnx.Param`` filled with 0.8 (no random draw; ``rngs`` is required but
            unused); a number: a 0-d trainable ``nnx.Param``. Clipped to [0, 1] at use.
        learn_beta: spyx extra; ``False`` keeps ``beta`` a fixed number.

    State: ``V`` ``(B, *layer_shape)``. No threshold, no ``spike``. IR: ``spyx.Neuron(fires=False, g_x=1)``.
    NIR: ``spyx.nir.to_nir`` skips it (Spyx 1.0); faithful export ``LI(tau = -dt / ln beta, r = 1 / (1 - beta))``.
    """

    def __init__(self, layer_shape, beta=None, *, rngs, learn_beta: bool = True):
        self.layer_shape = hidden_tuple(layer_shape, "LI")
        self.beta = decay_param(beta, self.layer_shape, rngs, "LI beta", learn=learn_beta, default=0.8)

    def initial_state(self, batch_size):
        return zeros(batch_size, self.layer_shape)

    def __call__(self, x, V):
        V = expand(clip01(self.beta), V) * V + x
        return V, V

    def sequence(self, xs, V):
        """``(V_1..V_T, V_T)`` of a whole ``[T, B, *layer_shape]`` sequence by the fused kernel."""
        from spyx.kernels import li_sequence

        return li_sequence(xs, V, param_value(self.beta))
