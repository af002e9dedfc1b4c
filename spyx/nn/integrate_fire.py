"""``IF``: integrate-and-fire (no leak), Spyx 1.0's step."""

from __future__ import annotations

from spyx.nn.neuron import Neuron

__all__ = ["IF"]


class IF(Neuron):
    r"""Integrate-and-fire neurons with subtractive reset.

    One step, in this order, for input ``x`` and incoming membrane ``V`` (zero at t = 0):

    1. spike on the incoming membrane: ``s = spike(V - threshold)`` (forward ``H``: 1 where ``V > threshold``);
    2. integrate and reset: ``V' = V + x - s * threshold``;
    3. return ``(s, V')``.

    An input shows in the spikes one step later. ``rngs`` is accepted and ignored (IF has no parameters), so IF
    is a drop-in for the parametric neurons.

    Args:
        hidden_shape: per-sample shape (a tuple; channels-last ``(H, W, C)`` after a conv).
        threshold: firing threshold (default the int 1, as Spyx 1.0).
        activation: spike function with a surrogate gradient (default ``spyx.axn.superspike()``).

    State: ``V`` of shape ``(B, *hidden_shape)``. IR: ``spyx.Neuron(beta=1, reset="subtract",
    reset_delay=True)`` then ``spyx.Shift(1)``. NIR: ``IF`` (``spyx.nir.to_nir``); faithful export ``I ->
    Threshold -> Delay`` with the reset fed back through ``Scale(-threshold)``.
    """

    def __init__(self, hidden_shape, threshold=1, activation=None, *, rngs=None):
        super().__init__(hidden_shape, threshold, activation)

    def feedback(self, s):
        """Extra input from this step's spikes (the recurrent layers); none here."""
        return 0.0

    def __call__(self, x, V):
        self._check(x)
        thr = self._threshold(V)
        s = self.spike(V - thr)
        V = V + x + self.feedback(s) - s * thr
        return s, V

    def sequence(self, xs, V):
        """``(spikes, V_T)`` of a whole ``[T, B, *hidden]`` sequence by the fused kernel (see ``LIF.sequence``)."""
        from spyx.kernels import if_sequence

        return if_sequence(xs, V, self.threshold, surrogate=self.spike)
