"""``Neuron``: the base of spyx.nn's spiking layers (shape, threshold, spike function, the step-input check)."""

from __future__ import annotations

from flax import nnx

from spyx.errors import InputError
from spyx.nn.base import default_spike, expand, hidden_tuple, zeros

__all__ = ["Neuron"]


class Neuron(nnx.Module):
    """Shared by the spiking layers: ``hidden_shape`` (a tuple), ``threshold`` (a plain attribute: a number, or
    a per-unit array after NIR import), ``spike`` (the ``activation`` given, else ``spyx.axn.superspike()``).

    Subclasses implement ``__call__(x, state) -> (spikes, state)``; the membrane-only state is
    ``(B, *hidden_shape)`` zeros.
    """

    def __init__(self, hidden_shape, threshold, activation):
        self.hidden_shape = hidden_tuple(hidden_shape, type(self).__name__)
        self.threshold = threshold
        self.spike = activation if activation is not None else default_spike()

    def initial_state(self, batch_size):
        return zeros(batch_size, self.hidden_shape)

    def _threshold(self, like):
        return expand(self.threshold, like)

    def _check(self, x) -> None:
        """InputError unless the step input ends in ``hidden_shape`` (a wrong per-sample shape is always a bug;
        JAX would broadcast some of them silently)."""
        k = len(self.hidden_shape)
        if tuple(x.shape[x.ndim - k :]) != self.hidden_shape or x.ndim <= k - 1:
            raise InputError(
                f"{type(self).__name__}{self.hidden_shape}: step input has shape {tuple(x.shape)}, expected "
                f"(B, *{self.hidden_shape}); run() feeds one time step of a time-major (T, B, ...) input"
            )
