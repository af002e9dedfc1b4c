"""What every spyx layer shares: the step protocol, decay parameters and the default surrogate.

A spyx layer is an ``nnx.Module`` with

* ``init_state(batch_shape) -> state``: a pytree of zeros (``()`` for stateless layers);
* ``__call__(x, state) -> (out, state)``: one time step on a batch ``x`` of shape ``(*batch_shape, *shape)``.

Both are pure functions of the layer's parameters and the given state (nothing is written into the module
during a step), so ``jax.lax.scan`` (see :func:`spyx.nn.run`), ``nnx.jit``, ``nnx.vmap`` and
``nnx.value_and_grad`` can drive them. Signals with more than one per-sample axis are channels-last, as in
``nnx.Conv``; the IR and NIR are channels-first, and :func:`spyx.nn.lower` does the transposes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import jax.numpy as jnp
import numpy as np
from flax import nnx

from spyx.errors import InputError, ParameterError

__all__ = [
    "Layer",
    "as_shape",
    "batch_tuple",
    "decay_param",
    "decay_value",
    "default_activation",
    "expand",
    "spike",
    "threshold_value",
]


def as_shape(shape, what: str) -> tuple[int, ...]:
    """A per-sample shape as a tuple of positive ints."""
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)
    if not shape or min(shape) < 1:
        raise ParameterError(f"{what}: shape must be a non-empty tuple of positive ints, got {shape}")
    return shape


def batch_tuple(batch_shape) -> tuple[int, ...]:
    if batch_shape is None:
        return ()
    return (
        (int(batch_shape),)
        if isinstance(batch_shape, int | np.integer)
        else tuple(int(b) for b in batch_shape)
    )


@functools.cache
def default_activation() -> Callable:
    """The default spike function: straight-through Heaviside from :mod:`spyx.axn` (imported on first use)."""
    from spyx import axn

    return axn.heaviside()


def decay_param(value, shape: tuple[int, ...], learn: bool, what: str):
    """A decay factor: an ``nnx.Param`` of ``shape`` (learnable, per neuron) or a fixed Python float.

    ``value`` may be a scalar or an array of ``shape``; it must lie in [0, 1] (it is clipped to [0, 1] at use
    time, so training can push the stored value outside without breaking the neuron).
    """
    arr = np.asarray(value, dtype=np.float32)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise ParameterError(f"{what} must lie in [0, 1], got {value!r}")
    if learn:
        return nnx.Param(jnp.broadcast_to(jnp.asarray(arr), shape).astype(jnp.float32))
    if arr.ndim:
        raise ParameterError(f"{what}: a fixed (learn=False) decay must be a scalar, got shape {arr.shape}")
    return float(arr)


def decay_value(p) -> jnp.ndarray | float:
    """The decay a step uses: the stored value clipped to [0, 1]."""
    if isinstance(p, nnx.Variable):
        return jnp.clip(p[...], 0.0, 1.0)
    return p


def threshold_value(value, what: str) -> float:
    thr = float(value)
    if not math.isfinite(thr) or thr <= 0:
        raise ParameterError(f"{what}: threshold must be a finite number > 0, got {value!r}")
    return thr


def expand(p, like):
    """``p`` (a per-neuron array of the layer's shape, or a scalar) reshaped to broadcast against ``like``
    (``(*batch, *shape)``) without implicit rank promotion."""
    if isinstance(p, float | int):
        return p
    return jnp.reshape(p, (1,) * (like.ndim - p.ndim) + tuple(p.shape))


def check_step(layer, x, v) -> None:
    """InputError unless a step's input ``x`` has the membrane's shape ``(*batch, *layer.shape)``."""
    if tuple(x.shape) != tuple(v.shape):
        raise InputError(
            f"{type(layer).__name__}{tuple(layer.shape)}: step input has shape {tuple(x.shape)}, but the "
            f"state is {tuple(v.shape)} (*batch, *shape); initialise the state with init_state(batch_shape)"
        )


def spike(activation, x):
    """``activation(x)`` with the default surrogate when ``activation`` is None; cast to ``x``'s dtype."""
    act = activation if activation is not None else default_activation()
    return act(x).astype(x.dtype)


class Layer(nnx.Module):
    """Base of spyx layers: the step protocol (see the module docstring)."""

    def init_state(self, batch_shape=()):
        return ()

    def __call__(self, x, state):
        raise NotImplementedError
