"""What every spyx.nn layer shares: the stateful-layer protocol, decay parameters, thresholds, the spike function.

A *stateful layer* (Spyx 1.0's protocol, ``../shared/spyx-api.md`` §2.2) has

* ``initial_state(batch_size) -> state``: a fresh zero state whose leading axis is the batch;
* ``__call__(x, state) -> (out, new_state)``: one time step on ``x`` of shape ``(B, *hidden_shape)``, with
  ``new_state`` of the same structure, shapes and dtypes (so ``jax.lax.scan`` can carry it).

A step is a pure function of the layer's parameters and the given state (nothing is written into the module),
so :func:`spyx.nn.run`, ``nnx.jit``, ``nnx.vmap`` and ``nnx.value_and_grad`` can drive it. Signals with more
than one per-sample axis are channels-last (``(H, W, C)``, as ``nnx.Conv``); the IR and NIR are channels-first,
and :func:`spyx.nn.lower` does the transposes.
"""

from __future__ import annotations

import functools
from typing import Protocol, runtime_checkable

import jax.numpy as jnp
from flax import nnx

from spyx.errors import ParameterError

__all__ = [
    "StatefulLayer",
    "clip01",
    "decay_param",
    "default_spike",
    "expand",
    "hidden_tuple",
    "param_value",
    "recurrent_param",
    "split_state",
    "zeros",
]


@runtime_checkable
class StatefulLayer(Protocol):
    """Anything with ``initial_state(batch_size)`` and ``__call__(x, state) -> (out, state)``.

    ``isinstance(obj, StatefulLayer)`` checks that both attributes exist (not their signatures): true for every
    spyx neuron, ``LI``, ``ActivityRegularization`` and ``Sequential``; false for ``nnx.Linear``.
    """

    def initial_state(self, batch_size): ...

    def __call__(self, x, state) -> tuple: ...


@functools.cache
def default_spike():
    """The default spike function, ``spyx.axn.superspike()`` (k = 25), made once and shared by every layer."""
    from spyx import axn

    return axn.superspike()


def hidden_tuple(shape, what: str) -> tuple[int, ...]:
    """A layer's per-sample shape: a tuple of positive ints (a ``ParameterError`` naming the layer otherwise)."""
    try:
        out = tuple(int(s) for s in shape)
    except TypeError:
        raise ParameterError(f"{what}: hidden_shape must be a tuple of ints such as (128,), got {shape!r}") from None
    if not out or min(out) < 1:
        raise ParameterError(f"{what}: hidden_shape must be a non-empty tuple of positive ints, got {shape!r}")
    return out


def decay_param(value, shape: tuple[int, ...], rngs, what: str, *, learn: bool = True, default=None):
    """A decay (``beta``, ``alpha``, ``gamma``) as Spyx 1.0 makes it.

    ``value=None``: a per-unit ``nnx.Param`` of ``shape``, ``0.5 + TN(0.25)`` from one ``rngs.params()`` draw
    (or ``default`` filled in, with no draw, where given: ``LI``'s 0.8). A number: a **0-d** ``nnx.Param`` holding
    it (``jnp.full((), value)``: float32 for a float, int32 for an int), trainable. ``learn=False`` (spyx
    extra): a fixed Python float instead of a Param. Steps use :func:`clip01` of the stored value.
    """
    if value is None:
        if default is not None:
            arr = jnp.full(shape, default, jnp.float32)
        else:
            if rngs is None:
                raise ParameterError(f"{what}: pass rngs=nnx.Rngs(seed) to draw the initial value (or give one)")
            arr = 0.5 + nnx.initializers.truncated_normal(stddev=0.25)(rngs.params(), shape)
        return nnx.Param(arr) if learn else arr
    if not learn:
        return float(value)
    return nnx.Param(jnp.full((), value))


def recurrent_param(shape: tuple[int, ...], rngs, what: str):
    """``recurrent_w``: an ``nnx.Param`` of ``shape + shape``, ``TN(0.01)`` from one draw (rows presynaptic)."""
    if rngs is None:
        raise ParameterError(f"{what}: pass rngs=nnx.Rngs(seed) to initialise recurrent_w")
    return nnx.Param(nnx.initializers.truncated_normal(stddev=0.01)(rngs.params(), shape + shape))


def param_value(p):
    """The array (or number) held by ``p``: an ``nnx.Variable``'s value, else ``p`` itself."""
    return p[...] if isinstance(p, nnx.Variable) else p


def clip01(p):
    """The decay a step uses: the stored value clipped to ``[0, 1]`` (the stored value is never changed)."""
    return jnp.clip(param_value(p), 0, 1)


def expand(p, like):
    """``p`` (a scalar, or an array of the trailing per-sample shape) reshaped to broadcast against ``like``
    ``(B, *hidden)`` without implicit rank promotion."""
    p = param_value(p)
    if isinstance(p, float | int) or getattr(p, "ndim", 0) == 0:
        return p
    return jnp.reshape(p, (1,) * (like.ndim - p.ndim) + tuple(p.shape))


def zeros(batch_size, shape, dtype=None):
    """A zero state ``(batch_size, *shape)`` in ``dtype`` (default: JAX's default float)."""
    return jnp.zeros((int(batch_size), *shape), dtype if dtype is not None else jnp.result_type(float))


def paired_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The per-sample shape of a two-component state ``[X | Y]`` concatenated on the last axis."""
    return (*shape[:-1], 2 * shape[-1])


def split_state(state):
    """``[X | Y]`` (concatenated on the last axis) -> ``(X, Y)``."""
    return jnp.split(state, 2, axis=-1)
