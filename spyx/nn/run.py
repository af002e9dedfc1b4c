"""``run``: drive a spyx layer or model over a time-major sequence."""

from __future__ import annotations

import jax

from spyx.errors import InputError

__all__ = ["run"]


def run(model, x, state=None):
    """Scan ``model`` over ``x`` of shape ``(T, B, *sample)`` (time-major, one batch axis).

    Returns ``(outputs (T, B, *out), final_state)``. ``state`` defaults to ``model.init_state(B)``; pass the
    returned state back in to continue a sequence. Works under ``nnx.jit``, ``nnx.grad`` and friends
    (the body reads the model's parameters and writes nothing into it).
    """
    if not hasattr(model, "init_state"):
        raise InputError(
            f"spyx.nn.run needs a spyx layer or Sequential (with init_state), got {type(model).__name__}"
        )
    if getattr(x, "ndim", 0) < 2:
        raise InputError(
            f"spyx.nn.run expects a time-major (T, B, ...) input, got shape {getattr(x, 'shape', x)}"
        )
    if state is None:
        state = model.init_state((x.shape[1],))

    def body(carry, xt):
        out, carry = model(xt, carry)
        return carry, out

    state, outputs = jax.lax.scan(body, state, x)
    return outputs, state
