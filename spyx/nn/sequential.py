"""``Sequential``: a chain of layers whose states travel together."""

from __future__ import annotations

from flax import nnx

from spyx.nn.base import Layer

__all__ = ["Sequential", "is_stateful"]


def is_stateful(layer) -> bool:
    """True for spyx layers (they have ``init_state``); NNX layers such as ``nnx.Linear`` are stateless."""
    return hasattr(layer, "init_state")


class Sequential(Layer):
    """``Sequential(*layers)``: apply layers in order within one time step.

    Layers are spyx layers (``__call__(x, state) -> (out, state)``) or stateless NNX modules / callables
    (``__call__(x) -> out``, e.g. ``nnx.Linear``, ``nnx.Conv``). The state is a tuple with one entry per
    layer (``()`` for stateless ones), so nested ``Sequential`` models work too.
    """

    def __init__(self, *layers):
        self.layers = nnx.List(layers)

    def init_state(self, batch_shape=()):
        return tuple(layer.init_state(batch_shape) if is_stateful(layer) else () for layer in self.layers)

    def __call__(self, x, state):
        new = []
        for layer, st in zip(self.layers, state, strict=True):
            if is_stateful(layer):
                x, st = layer(x, st)
            else:
                x = layer(x)
            new.append(st)
        return x, tuple(new)
