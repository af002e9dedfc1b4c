"""``PSU_LIF`` and ``AssociativeLIF``: reset-free LIF whose whole sequence is a linear recurrence, so it can be
computed in parallel over time (``jax.lax.associative_scan``)."""

from __future__ import annotations

import jax.numpy as jnp

from spyx.errors import InputError
from spyx.nn.base import clip01, decay_param, expand, param_value
from spyx.nn.neuron import Neuron
from spyx.scan import affine_combine, linear_recurrence

__all__ = ["PSU_LIF", "AssociativeLIF", "_leaky_associative_op"]


def _leaky_associative_op(e_i, e_j):
    """Compose two affine maps ``V -> A V + b``, ``i`` first: ``(A_i, b_i), (A_j, b_j) -> (A_j A_i, A_j b_i +
    b_j)``. Associative, so ``associative_scan`` over ``(beta, x)`` gives every ``V_t`` of ``V_t = beta V_{t-1}
    + x_t`` (``V_{-1} = 0``). Spyx 1.0's name for :func:`spyx.scan.affine_combine`."""
    return affine_combine(e_i, e_j)


class PSU_LIF(Neuron):  # noqa: N801  (the published name)
    r"""Reset-free LIF ("parallel spiking unit"); it integrates first and spikes in the same step.

    One step, in this order, for input ``x`` and incoming membrane ``V`` (zero at t = 0):

    1. ``V' = clip01(beta) * V + x`` (no reset);
    2. ``s = spike(V' - threshold)`` on the *updated* membrane (``s_t`` depends on ``x_t``, unlike :class:`LIF`);
    3. return ``(s, V')``.

    :meth:`parallel` computes a whole sequence at once (depth ``log T``) with the same result.

    Args: as :class:`LIF` (``beta=None`` draws ``0.5 + TN(0.25)``; threshold default 1.0).

    State: ``V`` ``(B, *hidden_shape)``. IR: ``spyx.Neuron(reset="none")``. NIR (``spyx.nir.to_nir``): ``LI(tau =
    dt / (1 - clip01(beta)), r = 1)`` then ``Threshold``.
    """

    def __init__(self, hidden_shape, beta=None, threshold=1.0, activation=None, *, rngs, learn_beta: bool = True):
        super().__init__(hidden_shape, threshold, activation)
        self.beta = decay_param(beta, self.hidden_shape, rngs, f"{type(self).__name__} beta", learn=learn_beta)

    def __call__(self, x, V):
        self._check(x)
        V = expand(clip01(self.beta), V) * V + x
        return self.spike(V - self._threshold(V)), V

    def sequence(self, xs, V):
        """``(spikes, V_T)`` of a whole ``[T, B, *hidden]`` sequence by the fused kernel (a sequential pass,
        continuing from ``V``; :meth:`parallel` is the associative scan from zero)."""
        from spyx.kernels import psu_lif_sequence

        return psu_lif_sequence(xs, V, param_value(self.beta), self.threshold, surrogate=self.spike)

    def parallel(self, x):
        """Spikes of a whole time-major sequence ``x`` ``(T, B, *hidden_shape)``, ``(T, B, *hidden_shape)``.

        ``V_t = beta V_{t-1} + x_t`` with ``V_{-1} = 0`` by ``jax.lax.associative_scan`` over axis 0, then
        ``s_t = spike(V_t - threshold)``. Always starts from zero and returns no state; equals the outputs of
        ``spyx.nn.run(layer, x)``.
        """
        k = len(self.hidden_shape)
        if x.ndim < k + 1 or tuple(x.shape[x.ndim - k :]) != self.hidden_shape:
            raise InputError(
                f"{type(self).__name__}.parallel expects time-major (T, B, *{self.hidden_shape}) input, got "
                f"{tuple(x.shape)}"
            )
        beta = jnp.broadcast_to(expand(clip01(self.beta), x), x.shape).astype(x.dtype)
        V = linear_recurrence(beta, x, method="associative")
        return self.spike(V - self._threshold(V))


class AssociativeLIF(PSU_LIF):
    """:class:`PSU_LIF` (same constructor, step and ``parallel``) with conversions to and from snnTorch 1.0's
    ``StateLeaky(beta)``, whose kernel is ``exp(-t / tau)`` with ``tau = 1 / (1 - beta)``."""

    @staticmethod
    def beta_from_snntorch(beta_snn):
        """The spyx per-step decay equivalent to snnTorch ``StateLeaky(beta=beta_snn)``:
        ``exp(-(1 - beta_snn))``."""
        return jnp.exp(-(1 - jnp.asarray(beta_snn)))

    @staticmethod
    def snntorch_beta_from_beta(beta):
        """The inverse of :meth:`beta_from_snntorch`: ``1 + ln(beta)``."""
        return 1 + jnp.log(jnp.asarray(beta))
