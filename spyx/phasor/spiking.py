"""``SpikingPhasor``: a trained ``PhasorLinear`` run on one-spike-per-cycle spike trains."""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from spyx.errors import ArgumentError
from spyx.phasor.codecs import phase_to_spikes, spikes_to_phase
from spyx.phasor.linear import PhasorActivation

__all__ = ["SpikingPhasor"]


class SpikingPhasor(nnx.Module):
    """``[T, B, in]`` spike train -> ``[T, B, out]`` spike train, one whole period ``T = period_T`` at a time.

    In this order: ``theta = spikes_to_phase(train, T)``; ``z = exp(i theta)`` (complex64); ``z' =
    activation(layer(z))`` (``activation = PhasorActivation()``); return ``phase_to_spikes(angle(z'), T)``.

    It has no ``initial_state`` and is not a per-step layer: it decodes the whole cycle before it emits (Spyx 1.0's
    docstring calls it a drop-in for ``Sequential`` + ``run``; its behaviour is this whole-period transform).
    ``period_T <= 0`` raises :class:`~spyx.ArgumentError`. NIR: none.
    """

    no_graph_form = (
        "it decodes spike times over a whole period into phases before it emits (not a per-step computation) and "
        "computes with complex signals"
    )

    def __init__(self, phasor_layer, period_T: int):
        if period_T <= 0:
            raise ArgumentError(f"SpikingPhasor: period_T must be positive; got {period_T}.")
        self.layer = phasor_layer
        self.activation = PhasorActivation()
        self.T = period_T

    def __call__(self, spike_train):
        theta = spikes_to_phase(spike_train, self.T)
        z = jnp.exp(1j * theta).astype(jnp.complex64)
        return phase_to_spikes(jnp.angle(self.activation(self.layer(z))), self.T)
