"""Long sequences: run a stateful function over time in chunks, carrying the state, optionally checkpointed.

A run over ``T`` steps normally materialises whole ``(T, B, ...)`` sequences between layers (the layer-wise
schedule) or stacks per-step residuals for the backward pass (BPTT), so memory grows with ``T``. Splitting time
into chunks of ``K`` steps and carrying the state from one chunk to the next gives the same result (a state-space
model's run is a fold over time, and a chunk boundary is just a point where the state is handed on), with
intermediates of one chunk alive at a time. With ``checkpoint=True`` each chunk is a ``jax.checkpoint``: the
backward pass keeps only the state entering each chunk (``T / K`` states) and recomputes the chunk's inside, so the
memory of a gradient grows with ``T / K`` plus one chunk's residuals, at the price of one more forward pass.

:func:`chunked` is the one implementation; ``spyx.nn.run(..., chunk=K, checkpoint=...)`` and
``Program.run(..., chunk=K, checkpoint=...)`` use it. :class:`Stream` is the host-side counterpart for inputs that
arrive in pieces (or do not fit in memory at once): it feeds chunks one by one through a jitted step and yields
their outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import jax
import jax.numpy as jnp
from jax import lax

from spyx.errors import ArgumentError

__all__ = ["Stream", "chunked", "check_chunk"]


def check_chunk(chunk, checkpoint: bool, where: str) -> int | None:
    """Validate the ``chunk`` / ``checkpoint`` arguments of a run; return the chunk length or ``None``."""
    if chunk is None:
        if checkpoint:
            raise ArgumentError(f"{where}: checkpoint=True needs chunk=K (the number of steps between checkpoints)")
        return None
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ArgumentError(f"{where}: chunk must be a positive integer number of time steps, got {chunk!r}")
    return chunk


def chunked(fn: Callable, state, xs, chunk: int, *, checkpoint: bool = False):
    """``fn(state, xs_chunk) -> (ys_chunk, state)`` over time-major ``xs`` in chunks of ``chunk`` steps.

    Returns ``(ys, final_state)`` with ``ys`` of length ``T`` along axis 0, equal to ``fn(state, xs)``. Full chunks
    run in one ``lax.scan`` (the program's size does not grow with ``T``); a trailing partial chunk runs once
    more. ``xs`` and ``ys`` may be pytrees whose leaves share the time axis 0.
    """
    leaves = jax.tree.leaves(xs)
    T = leaves[0].shape[0]
    body = jax.checkpoint(fn) if checkpoint else fn
    n, rest = divmod(T, chunk)
    if T <= chunk:  # one chunk: nothing to split
        return body(state, xs)
    ys_parts = []
    if n:
        head = jax.tree.map(lambda a: a[: n * chunk].reshape(n, chunk, *a.shape[1:]), xs)

        def step(st, x_c):
            y, st = body(st, x_c)
            return st, y

        state, ys = lax.scan(step, state, head)
        ys_parts.append(jax.tree.map(lambda a: a.reshape(n * chunk, *a.shape[2:]), ys))
    if rest:
        tail = jax.tree.map(lambda a: a[n * chunk :], xs)
        y, state = body(state, tail)
        ys_parts.append(y)
    ys = ys_parts[0] if len(ys_parts) == 1 else jax.tree.map(lambda *p: jnp.concatenate(p, axis=0), *ys_parts)
    return ys, state


class Stream:
    """Iterate over time-major pieces of one sequence, carrying the state: ``for y in Stream(step, chunks,
    state)``. ``step(state, chunk) -> (outputs, state)`` (jit it: one compilation per distinct chunk length).

    Concatenating what it yields equals one run over the whole sequence; :attr:`state` is the state after the
    last chunk consumed so far (pass it on to continue later).
    """

    def __init__(self, step: Callable, chunks: Iterable, state):
        self._step = step
        self._chunks = iter(chunks)
        self.state = state

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        x = next(self._chunks)
        y, self.state = self._step(self.state, x)
        return y
