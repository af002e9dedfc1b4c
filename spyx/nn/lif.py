"""``LIF``: leaky integrate-and-fire, Spyx 1.0's step."""

from __future__ import annotations

from spyx.nn.base import clip01, decay_param, expand, param_value
from spyx.nn.neuron import Neuron

__all__ = ["LIF"]


class LIF(Neuron):
    r"""Leaky integrate-and-fire neurons with subtractive reset.

    One step, in this order, for input ``x`` and incoming membrane ``V`` (zero at t = 0):

    1. spike on the incoming membrane: ``s = spike(V - threshold)`` (forward ``H``: 1 where ``V > threshold``);
    2. leak, integrate and reset: ``V' = clip01(beta) * V + x - s * threshold``;
    3. return ``(s, V')``.

    An input shows in the spikes one step later (``s_t`` depends on ``x_{<t}``).

    Args:
        hidden_shape: per-sample shape (a tuple; channels-last ``(H, W, C)`` after a conv).
        beta: membrane decay. ``None``: per-unit ``nnx.Param`` ``0.5 + TN(0.25)`` drawn from ``rngs``; a number:
            a 0-d trainable ``nnx.Param``. Clipped to [0, 1] at every step (the stored value is not changed).
        threshold: firing threshold (default 1.0).
        activation: spike function with a surrogate gradient (default ``spyx.axn.superspike()``).
        rngs: ``nnx.Rngs`` (required keyword, as Spyx 1.0).
        learn_beta: spyx extra; ``False`` keeps ``beta`` a fixed number (not an ``nnx.Param``).

    State: ``V`` ``(B, *hidden_shape)``. IR: ``spyx.Neuron(reset="subtract", reset_delay=True)`` then
    ``spyx.Shift(1)``. NIR: ``LIF(tau = dt / (1 - beta), r = beta)`` (``spyx.nir.to_nir``); faithful export ``LI
    -> Threshold -> Delay`` with the reset fed back through ``Scale(-threshold)``.
    """

    def __init__(self, hidden_shape, beta=None, threshold=1.0, activation=None, *, rngs, learn_beta: bool = True):
        super().__init__(hidden_shape, threshold, activation)
        self.beta = decay_param(beta, self.hidden_shape, rngs, "LIF beta", learn=learn_beta)

    def feedback(self, s):
        """Extra input from this step's spikes (the recurrent layers); none here."""
        return 0.0

    def __call__(self, x, V):
        self._check(x)
        thr = self._threshold(V)
        s = self.spike(V - thr)
        V = expand(clip01(self.beta), V) * V + x + self.feedback(s) - s * thr
        return s, V

    def sequence(self, xs, V):
        """A whole time-major sequence ``xs`` ``[T, B, *hidden]`` at once: ``(spikes, V_T)``, what ``run`` returns
        for this layer, by the fused kernel of :mod:`spyx.kernels` (Pallas on GPU, a scan elsewhere; one reverse
        pass for the gradient)."""
        from spyx.kernels import lif_sequence

        return lif_sequence(xs, V, param_value(self.beta), self.threshold, surrogate=self.spike)
