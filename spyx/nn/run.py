"""``run``: drive a spyx layer or model over a time-major sequence."""

from __future__ import annotations

import jax

from spyx.errors import InputError

__all__ = ["run"]


def run(model, x, state=None):
    """Scan ``model`` over ``x`` of shape ``(T, B, *sample)`` (time-major, one batch axis).

    ``x`` may also be a dict of such arrays (graphs with several inputs, see :func:`spyx.nn.from_nir`).
    Returns ``(outputs (T, B, *out), final_state)``. ``state`` defaults to ``model.init_state(B)``; pass the
    returned state back in to continue a sequence. Works under ``nnx.jit``, ``nnx.grad`` and friends
    (the body reads the model's parameters and writes nothing into it).
    """
    if not hasattr(model, "init_state"):
        raise InputError(
            f"spyx.nn.run needs a spyx layer or Sequential (with init_state), got {type(model).__name__}"
        )
    leaves = jax.tree.leaves(x)
    if not leaves or any(getattr(leaf, "ndim", 0) < 2 for leaf in leaves):
        shapes = [getattr(leaf, "shape", leaf) for leaf in leaves]
        raise InputError(f"spyx.nn.run expects time-major (T, B, ...) input(s), got shape(s) {shapes}")
    if len({tuple(leaf.shape[:2]) for leaf in leaves}) > 1:
        raise InputError(
            f"spyx.nn.run: inputs disagree on (T, B): {sorted({tuple(leaf.shape[:2]) for leaf in leaves})}"
        )
    if state is None:
        state = model.init_state((leaves[0].shape[1],))

    def body(carry, xt):
        out, carry = model(xt, carry)
        return carry, out

    state, outputs = jax.lax.scan(body, state, x)
    return outputs, state
