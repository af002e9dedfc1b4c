"""``Sequential``: a chain of layers whose states travel together as a list."""

from __future__ import annotations

from flax import nnx

__all__ = ["Sequential", "is_stateful"]


def is_stateful(layer) -> bool:
    """True for layers with ``initial_state`` (spyx neurons, ``Sequential``); ``nnx.Linear`` and functions are
    stateless."""
    return hasattr(layer, "initial_state")


class Sequential(nnx.Sequential):
    """``Sequential(*layers)``: apply layers in order within one time step (an ``nnx.Sequential``; the layers are
    in ``.layers``).

    Layers are stateful (``__call__(x, state) -> (out, state)``, with ``initial_state``) or stateless callables
    (``nnx.Linear``, ``nnx.Conv``, ``jax.nn.relu``, ...: ``layer(x) -> out``). The state is a list with one entry
    per layer, ``None`` for the stateless ones; nested ``Sequential``s work.
    """

    def initial_state(self, batch_size):
        return [layer.initial_state(batch_size) if is_stateful(layer) else None for layer in self.layers]

    def __call__(self, x, state):
        new = []
        for layer, s in zip(self.layers, state, strict=True):
            if s is None:
                x = layer(x)
            else:
                x, s = layer(x, s)
            new.append(s)
        return x, new
