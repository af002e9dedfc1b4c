"""``PhasorMLP``: encode, ``depth`` x (``PhasorLinear`` -> ``PhasorActivation``), real readout."""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from spyx.errors import ArgumentError
from spyx.phasor.codecs import real_to_phasor
from spyx.phasor.linear import COMPLEX_SIGNALS, PhasorActivation, PhasorLinear, PhasorReadout

__all__ = ["PhasorMLP"]


class PhasorMLP(nnx.Module):
    """A phasor multilayer perceptron: ``[..., in] -> [..., out]`` float32 logits.

    ``__call__(x)``: a real ``x`` is encoded by ``real_to_phasor(x)`` (scale ``pi``), a complex one is used as is;
    then ``layers`` in order (``[PhasorLinear(in, h), PhasorActivation()]`` followed by ``depth - 1`` pairs
    ``[PhasorLinear(h, h), PhasorActivation()]``, so the parameters sit at even indices), then ``readout =
    PhasorReadout(h, out)``. Construction order is draw order. ``depth < 1`` raises :class:`~spyx.ArgumentError`
    (a ``ValueError``). NIR: none.
    """

    no_graph_form = COMPLEX_SIGNALS

    def __init__(self, in_features: int, hidden_features: int, out_features: int, depth: int = 2, *,
                 rngs: nnx.Rngs):
        if depth < 1:
            raise ArgumentError(f"PhasorMLP requires depth >= 1; got depth={depth}.")
        layers = [PhasorLinear(in_features, hidden_features, rngs=rngs), PhasorActivation()]
        for _ in range(depth - 1):
            layers += [PhasorLinear(hidden_features, hidden_features, rngs=rngs), PhasorActivation()]
        self.layers = nnx.data(layers)
        self.readout = PhasorReadout(hidden_features, out_features, rngs=rngs)

    def __call__(self, x):
        z = x if x.dtype in (jnp.complex64, jnp.complex128) else real_to_phasor(x)
        for layer in self.layers:
            z = layer(z)
        return self.readout(z)
