"""Recurrent spiking layers ``RIF``, ``RLIF``, ``RCuBaLIF``: the plain layers plus a learned feedback of the
layer's own spikes of this step, ``s @ recurrent_w``."""

from __future__ import annotations

from spyx.errors import ParameterError
import jax.numpy as jnp

from spyx.nn.base import param_value, recurrent_param, split_state
from spyx.nn.cuba_lif import CuBaLIF
from spyx.nn.integrate_fire import IF
from spyx.nn.lif import LIF

__all__ = ["RIF", "RLIF", "RCuBaLIF"]


def _one_d(layer) -> None:
    if len(layer.hidden_shape) != 1:
        raise ParameterError(
            f"{type(layer).__name__}: recurrent layers need a 1-D hidden_shape (N,), got {layer.hidden_shape}"
        )


class RIF(IF):
    r"""Recurrent IF: ``s = spike(V - threshold)``; ``V' = V + x + s @ W - s * threshold``; returns ``(s, V')``.

    ``recurrent_w`` ``W``: ``nnx.Param`` ``(N, N)``, rows presynaptic, ``TN(0.01)`` from one ``rngs`` draw. The
    feedback uses the spikes emitted at this step (from the incoming ``V``), so ``s_t`` reaches ``V_{t+1}``
    through both the reset and ``s_t @ W``. IR: ``Neuron -> Shift(1) -> out`` with ``Shift -> Linear(W^T) ->
    Neuron``. NIR (``spyx.nir.to_nir``): a sub-graph ``input -> w_rec <-> lif -> output``.
    """

    def __init__(self, hidden_shape, threshold=1, activation=None, *, rngs):
        super().__init__(hidden_shape, threshold, activation)
        _one_d(self)
        self.recurrent_w = recurrent_param(self.hidden_shape, rngs, "RIF")

    def feedback(self, s):
        return s @ param_value(self.recurrent_w)

    def sequence(self, xs, V):
        """``(spikes, V_T)`` of a whole sequence by the fused recurrent scan of :mod:`spyx.kernels`."""
        from spyx.kernels import rif_sequence

        return rif_sequence(xs, V, param_value(self.recurrent_w), self.threshold, surrogate=self.spike)


class RLIF(LIF):
    r"""Recurrent LIF: ``s = spike(V - threshold)``; ``V' = clip01(beta) * V + x + s @ W - s * threshold``.

    Draws ``recurrent_w`` first, then ``beta`` (when ``None``). Otherwise as :class:`RIF` and :class:`LIF`.
    """

    def __init__(self, hidden_shape, beta=None, threshold=1, activation=None, *, rngs, learn_beta: bool = True):
        super(LIF, self).__init__(hidden_shape, threshold, activation)
        _one_d(self)
        self.recurrent_w = recurrent_param(self.hidden_shape, rngs, "RLIF")
        LIF.__init__(self, hidden_shape, beta, threshold, activation, rngs=rngs, learn_beta=learn_beta)

    def feedback(self, s):
        return s @ param_value(self.recurrent_w)

    def sequence(self, xs, V):
        """``(spikes, V_T)`` of a whole sequence by the fused recurrent scan of :mod:`spyx.kernels`."""
        from spyx.kernels import rlif_sequence

        w = param_value(self.recurrent_w)
        return rlif_sequence(xs, V, w, param_value(self.beta), self.threshold, surrogate=self.spike)


class RCuBaLIF(CuBaLIF):
    r"""Recurrent current-based LIF: the feedback enters the synapse.

    ``s = spike(V - threshold)``; ``V_r = V - s * threshold``; ``I' = clip01(alpha) * I + x + s @ W``;
    ``V' = clip01(beta) * V_r + I'``; returns ``(s, [V' | I'])``. Draws ``recurrent_w``, ``alpha``, ``beta``.
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
        super(CuBaLIF, self).__init__(hidden_shape, threshold, activation)
        _one_d(self)
        self.recurrent_w = recurrent_param(self.hidden_shape, rngs, "RCuBaLIF")
        CuBaLIF.__init__(
            self, hidden_shape, alpha, beta, threshold, activation, rngs=rngs,
            learn_alpha=learn_alpha, learn_beta=learn_beta,
        )

    def feedback(self, s):
        return s @ param_value(self.recurrent_w)

    def sequence(self, xs, state):
        """``(spikes, [V_T | I_T])`` of a whole sequence by the fused recurrent scan of :mod:`spyx.kernels`."""
        from spyx.kernels import rcuba_lif_sequence

        V, I = split_state(state)
        s, V, I = rcuba_lif_sequence(
            xs, V, I, param_value(self.recurrent_w), param_value(self.alpha), param_value(self.beta),
            self.threshold, surrogate=self.spike,
        )
        return s, jnp.concatenate([V, I], axis=-1)
