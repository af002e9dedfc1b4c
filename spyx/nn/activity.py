"""``ActivityRegularization``: an identity layer that counts the spikes passing through it."""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from spyx.nn.base import zeros

__all__ = ["ActivityRegularization"]


class ActivityRegularization(nnx.Module):
    """Pass spikes through unchanged and add them to a running count carried in the state.

    Step: ``(spikes, count) -> (spikes, count + spikes.astype(dtype))``. After :func:`spyx.nn.run` this layer's
    entry of the final state is the per-neuron spike total over time (``outputs.sum(axis=0)``), for a rate
    penalty such as ``spyx.fn.silence_reg`` / ``sparsity_reg``.

    Args:
        hidden_shape: an int (``(n,)``) or a sequence. batch_size: accepted and ignored (the count's batch comes
            from ``initial_state``), as Spyx 1.0. dtype: the count's dtype (default float32).

    State: ``(B, *hidden_shape)`` of ``dtype``. IR/NIR: the identity (no node).
    """

    def __init__(self, hidden_shape, batch_size=1, dtype=jnp.float32):
        self.hidden_shape = (int(hidden_shape),) if isinstance(hidden_shape, int) else tuple(hidden_shape)
        self.dtype = dtype

    def initial_state(self, batch_size):
        return zeros(batch_size, self.hidden_shape, self.dtype)

    def __call__(self, spikes, count):
        return spikes, count + spikes.astype(self.dtype)

    def sequence(self, xs, count):
        """A whole ``[T, B, ...]`` sequence: the spikes unchanged and the count plus their sum over time."""
        return xs, count + xs.astype(self.dtype).sum(axis=0)
