"""``run``: drive a stateful layer or model over a time-major (or batch-major) sequence.

Two schedules compute the same outputs:

* ``step``: one ``jax.lax.scan`` over time; each step calls the whole model (Spyx 1.0's loop).
* ``layer``: layer by layer over the whole sequence. A stateless layer runs once on the ``[T * B, ...]`` batch
  (one large matrix product instead of ``T`` small ones); a stateful layer runs its own time loop (its
  ``sequence`` method where it has one, e.g. a fused kernel, else a scan of its step); a nested ``Sequential``
  recurses. This is exact because a ``Sequential`` has no feedback across layers: layer ``k`` at step ``t``
  needs only layer ``k - 1``'s output at ``t`` and its own state.

``schedule="auto"`` (default) takes ``layer`` on accelerators (GPU, TPU) when every stateless layer is known to
treat the rows of its input independently (``nnx.Linear``, ``nnx.Conv``, ``spyx.nn.Flatten``, ``SumPool``,
elementwise activations of ``jax.nn``, and ``functools.partial`` of those or of ``nnx.max_pool``/``avg_pool``),
and ``step`` otherwise: on CPU, where the step loop is as fast for small models and is Spyx 1.0's computation op
for op, and wherever a batch-statistics or random layer would see ``T * B`` rows instead of ``B``. The two
schedules compute the same products, but a matrix product of ``T * B`` rows may round a row differently in the
last bit than one of ``B`` rows (XLA picks blockings by size), so a membrane within float rounding of its
threshold can spike in one and not the other; gradients of weights are sums over time in another order, equal
to float32 rounding. ``tests/nn/test_nn_schedules.py`` measures both.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.chunking import check_chunk, chunked
from spyx.errors import InputError, OptionError

__all__ = ["run", "SCHEDULES"]

SCHEDULES = ("auto", "layer", "step")
_ELEMENTWISE = {
    jax.nn.relu, jax.nn.relu6, jax.nn.gelu, jax.nn.silu, jax.nn.swish, jax.nn.sigmoid, jax.nn.tanh, jax.nn.elu,
    jax.nn.leaky_relu, jax.nn.softplus, jax.nn.hard_tanh, jnp.tanh, nnx.relu, nnx.gelu, nnx.sigmoid, nnx.tanh,
}


class StatelessModelError(InputError, TypeError):
    """``run`` without a state on a model that has no ``initial_state`` (a ``TypeError``, as Spyx 1.0)."""


_POOLS = {nnx.max_pool, nnx.avg_pool, nnx.min_pool}


def _rowwise(layer) -> bool:
    """Whether a stateless layer treats the rows (samples) of its input independently."""
    from spyx.nn.flatten import Flatten
    from spyx.nn.pool import SumPool

    if isinstance(layer, nnx.Linear | nnx.Conv | Flatten | SumPool):
        return True
    if isinstance(layer, functools.partial):  # e.g. partial(nnx.max_pool, window_shape=(2, 2), strides=(2, 2))
        return layer.func in _POOLS or layer.func in _ELEMENTWISE
    try:
        return layer in _ELEMENTWISE
    except TypeError:  # unhashable
        return False


def _layerwise_ok(model) -> bool:
    from spyx.nn.sequential import Sequential

    if not isinstance(model, Sequential):
        return hasattr(model, "initial_state")
    return all(_layerwise_ok(layer) if hasattr(layer, "initial_state") else _rowwise(layer) for layer in model.layers)


def scan_unroll() -> int:
    """``lax.scan``'s unroll factor: 1 on CPU, 32 on accelerators, where each loop iteration costs kernel launches
    (the setting ``spyx.compile`` measured best; it changes no result, only how many steps one iteration runs)."""
    return 1 if jax.default_backend() == "cpu" else 32


def _scan(layer, xs, state):
    def body(carry, xt):
        out, carry = layer(xt, carry)
        return carry, out

    state, outputs = jax.lax.scan(body, state, xs, unroll=scan_unroll())
    return outputs, state


def _over_time(layer, xs):
    """A stateless ``layer`` on every step at once: ``[T, B, ...] -> [T * B, ...] -> layer -> [T, ...]``."""
    T = jax.tree.leaves(xs)[0].shape[0]
    flat = jax.tree.map(lambda a: a.reshape(T * a.shape[1], *a.shape[2:]), xs)
    return jax.tree.map(lambda y: y.reshape(T, y.shape[0] // T, *y.shape[1:]), layer(flat))


def _layerwise(model, xs, state):
    """``(outputs, final_state)`` of ``model`` over ``xs`` ``[T, B, ...]``, one layer at a time."""
    from spyx.nn.sequential import Sequential

    if isinstance(model, Sequential):
        new = []
        for layer, s in zip(model.layers, state, strict=True):
            if s is None:
                xs = _over_time(layer, xs)
            else:
                xs, s = _layerwise(layer, xs, s)
            new.append(s)
        return xs, new
    sequence = getattr(model, "sequence", None)
    if sequence is not None:
        return sequence(xs, state)
    return _scan(model, xs, state)


def run(model, x, state=None, *, batch_major: bool = False, schedule: str = "auto", chunk: int | None = None,
        checkpoint: bool = False):
    """Scan ``model`` over time: ``(outputs, final_state)``.

    1. ``batch_major``: ``x`` is ``[B, T, ...]`` and is swapped to ``[T, B, ...]`` (outputs are swapped back).
    2. ``state=None``: ``model.initial_state(B)`` with ``B = x.shape[1]`` of the time-major input; a model
       without ``initial_state`` raises ``TypeError`` (wrap stateless layers in ``Sequential``).
    3. ``jax.lax.scan`` over axis 0, each step ``out_t, state = model(x_t, state)``.

    ``outputs`` stacks ``out_t`` (``[T, B, ...]``, any pytree; ``[B, T, ...]`` with ``batch_major``, which needs a
    single array); ``final_state`` is the last carry, batch-leading in both modes. Pass it back as ``state`` to
    continue a sequence. ``x`` may be a pytree of arrays (graphs with several inputs). Works under ``jax.jit``,
    ``nnx.jit`` and ``jax.grad`` (BPTT through the scan).

    ``schedule`` (keyword-only, a spyx extra): ``"auto"``, ``"layer"`` or ``"step"``; see the module docstring.
    The outputs are the same; ``layer`` is faster where large matrix products pay (GPUs).

    ``chunk`` / ``checkpoint`` (keyword-only, spyx extras, for long sequences): run time in chunks of ``chunk``
    steps carrying the state (the same outputs and state as one run; one chunk's intermediates alive at a time),
    and with ``checkpoint=True`` make each chunk a ``jax.checkpoint`` so that BPTT keeps only the state entering
    each chunk and recomputes inside it (memory grows with ``T / chunk``). See :mod:`spyx.chunking`.
    """
    if schedule not in SCHEDULES:
        raise OptionError(f"spyx.nn.run: schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    k = check_chunk(chunk, checkpoint, "spyx.nn.run")
    leaves = jax.tree.leaves(x)
    if not leaves or any(getattr(leaf, "ndim", 0) < 2 for leaf in leaves):
        shapes = [getattr(leaf, "shape", type(leaf).__name__) for leaf in leaves]
        raise InputError(
            f"spyx.nn.run expects {'batch' if batch_major else 'time'}-major input of at least 2 axes "
            f"({'[B, T, ...]' if batch_major else '[T, B, ...]'}), got shape(s) {shapes}"
        )
    if batch_major:
        x = jax.tree.map(lambda a: a.swapaxes(0, 1), x)
        leaves = jax.tree.leaves(x)
    if state is None:
        if not hasattr(model, "initial_state"):
            raise StatelessModelError(
                f"spyx.nn.run: the given model has no initial_state method ({type(model).__name__}); pass state= "
                "explicitly, wrap stateless layers in spyx.nn.Sequential, or apply a stateless layer over time "
                "with jax.vmap"
            )
        state = model.initial_state(leaves[0].shape[1])

    layerwise = schedule == "layer" or (
        schedule == "auto" and jax.default_backend() != "cpu" and _layerwise_ok(model)
    )
    over = _layerwise if layerwise else _scan
    if k is None:
        outputs, state = over(model, x, state)
    else:
        outputs, state = chunked(lambda st, xs: over(model, xs, st), state, x, k, checkpoint=checkpoint)
    if batch_major:
        outputs = outputs.swapaxes(0, 1)
    return outputs, state
