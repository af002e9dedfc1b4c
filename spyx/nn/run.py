"""``run``: drive a stateful layer or model over a time-major (or batch-major) sequence."""

from __future__ import annotations

import jax

from spyx.errors import InputError

__all__ = ["run"]


class StatelessModelError(InputError, TypeError):
    """``run`` without a state on a model that has no ``initial_state`` (a ``TypeError``, as Spyx 1.0)."""


def run(model, x, state=None, *, batch_major: bool = False):
    """Scan ``model`` over time: ``(outputs, final_state)``.

    1. ``batch_major``: ``x`` is ``[B, T, ...]`` and is swapped to ``[T, B, ...]`` (outputs are swapped back).
    2. ``state=None``: ``model.initial_state(B)`` with ``B = x.shape[1]`` of the time-major input; a model
       without ``initial_state`` raises ``TypeError`` (wrap stateless layers in ``Sequential``).
    3. ``jax.lax.scan`` over axis 0, each step ``out_t, state = model(x_t, state)``.

    ``outputs`` stacks ``out_t`` (``[T, B, ...]``, any pytree; ``[B, T, ...]`` with ``batch_major``, which needs a
    single array); ``final_state`` is the last carry, batch-leading in both modes. Pass it back as ``state`` to
    continue a sequence. ``x`` may be a pytree of arrays (graphs with several inputs). Works under ``jax.jit``,
    ``nnx.jit`` and ``jax.grad`` (BPTT through the scan).
    """
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

    def body(carry, xt):
        out, carry = model(xt, carry)
        return carry, out

    state, outputs = jax.lax.scan(body, state, x)
    if batch_major:
        outputs = outputs.swapaxes(0, 1)
    return outputs, state
