"""``ChunkedSSM``: a two-level (H-Net-style) stack of any two sequence modules, Spyx 1.0's layer."""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from spyx.errors import ArgumentError, InputError

__all__ = ["ChunkedSSM", "POOLS"]

POOLS = ("mean", "last")


class ChunkedSSM(nnx.Module):
    r"""``inner`` at full resolution plus ``outer`` over chunk summaries, added back to every step of the chunk.

    For ``u`` ``[T, B, D]`` with ``T`` a multiple of ``c = chunk_size``:

    1. ``h = inner(u)`` ``[T, B, D]``;
    2. ``h`` viewed as ``[T/c, c, B, D]``; one summary per chunk: the mean over its ``c`` steps (``pool="mean"``) or
       its last step (``"last"``);
    3. ``o = outer(summaries)`` ``[T/c, B, D]``;
    4. ``y = h + repeat(o, c, axis=0)``: plain addition (Spyx 1.0 has no learned blend, whatever its docstring
       says). With ``"mean"``, step ``t`` sees its chunk's later steps: the layer is not causal within a chunk.

    ``inner``/``outer``: any modules mapping ``[T, B, D] -> [T, B, D]`` (``LRU``, ``S5Diag``, ``MambaBlock``, ...).
    No parameters of its own. Errors: ``pool`` not ``"mean"``/``"last"`` or ``chunk_size <= 0``
    (:class:`~spyx.ArgumentError`), input not 3-D or ``T`` not divisible (:class:`~spyx.InputError`); all are
    ``ValueError``\ s. NIR: none.
    """

    no_graph_form = (
        "each step receives a summary of its whole chunk, later steps included (not causal), computed by arbitrary "
        "inner and outer modules"
    )

    def __init__(self, inner: nnx.Module, outer: nnx.Module, *, chunk_size: int, pool: str = "mean"):
        if pool not in POOLS:
            raise ArgumentError(f"ChunkedSSM: pool must be 'mean' or 'last'; got {pool!r}.")
        if chunk_size <= 0:
            raise ArgumentError(f"ChunkedSSM: chunk_size must be positive; got {chunk_size}.")
        self.inner = inner
        self.outer = outer
        self.chunk_size = chunk_size
        self.pool = pool

    def __call__(self, u):
        if getattr(u, "ndim", None) != 3:
            raise InputError(f"ChunkedSSM expects 3D input [T, B, D]; got {getattr(u, 'shape', type(u).__name__)}.")
        T, B, D = u.shape
        c = self.chunk_size
        if T % c != 0:
            raise InputError(f"ChunkedSSM: Sequence length {T} is not divisible by chunk_size {c}.")
        h = self.inner(u)
        chunks = h.reshape(T // c, c, B, D)
        summaries = chunks.mean(axis=1) if self.pool == "mean" else chunks[:, -1]
        return h + jnp.repeat(self.outer(summaries), c, axis=0)
