"""One implementation of the linear recurrence ``h_t = a_t * h_{t-1} + b_t`` over a time axis.

Every layer whose state update is affine in the state (reset-free LIF/LI populations, diagonal state-space models,
phasor and resonate-and-fire neurons, parallel spiking units) computes its whole sequence with this module, so the
three ways of evaluating it are written once and tested once:

- ``"sequential"``: ``lax.scan``, ``T`` dependent steps, the reference; exact order of float operations of a step
  loop.
- ``"associative"``: ``lax.associative_scan`` over the affine maps ``h -> a h + b`` (depth ``log T``, ``O(T log T)``
  work in XLA's implementation); the fastest on accelerators for moderate ``T``.
- ``"chunked"``: split ``T`` into chunks of ``chunk_size``; an associative scan inside each chunk (all chunks at
  once), then a short sequential carry across chunks. Memory of the intermediate products grows with
  ``chunk_size`` instead of ``T``; for long sequences on GPU it is the usual choice.

``a`` and ``b`` may be real or complex; ``a`` broadcasts against ``b`` (a per-channel decay of shape
``(*channels)`` is expanded over time and batch). ``h0`` (default zero) is the state before the first step.
All three methods give the same values up to float rounding (tested against a float64 recurrence) and compose
with ``jit``, ``vmap`` and ``grad``.
"""

from __future__ import annotations

import operator

import jax.numpy as jnp
from jax import lax

from spyx.errors import ArgumentError

__all__ = ["METHODS", "affine_combine", "check_method", "linear_recurrence"]

METHODS = ("associative", "sequential", "chunked")


def affine_combine(left, right):
    """Compose two affine maps ``h -> a h + b``, ``left`` applied first: ``(a_l, b_l), (a_r, b_r) -> (a_r a_l,
    a_r b_l + b_r)``. Associative, which is what ``lax.associative_scan`` needs."""
    a_l, b_l = left
    a_r, b_r = right
    return a_r * a_l, a_r * b_l + b_r


def check_method(method: str, chunk_size: int, where: str) -> tuple[str, int]:
    """``(method, chunk_size)`` validated for a layer that exposes the choice (an :class:`ArgumentError` naming
    ``where`` otherwise), so a bad option fails when the layer is built rather than at its first call."""
    if method not in METHODS:
        raise ArgumentError(f"{where}: method must be one of {', '.join(METHODS)}, got {method!r}")
    try:
        chunk = operator.index(chunk_size)
    except TypeError:
        chunk = 0
    if isinstance(chunk_size, bool) or chunk < 1:
        raise ArgumentError(f"{where}: chunk_size must be a positive integer, got {chunk_size!r}")
    return method, chunk


def _move(x, axis):
    return jnp.moveaxis(x, axis, 0) if axis != 0 else x


def linear_recurrence(a, b, h0=None, *, axis: int = 0, method: str = "associative", chunk_size: int = 64,
                      return_final: bool = False):
    """Every ``h_t`` of ``h_t = a_t * h_{t-1} + b_t`` along ``axis`` of ``b``, with ``h_{-1} = h0``.

    Args:
        a: the decay; broadcastable to ``b`` (a constant per channel, or a value per step).
        b: the drive, ``(..., T, ...)`` with time on ``axis``.
        h0: state before the first step, broadcastable to ``b`` with the time axis removed; default zero.
        axis: the time axis of ``b`` (and of ``a`` when ``a`` has one; ``a`` of lower rank is right-aligned
            against ``b`` as numpy broadcasting does).
        method: ``"associative"``, ``"sequential"`` or ``"chunked"`` (see the module docstring).
        chunk_size: the chunk length for ``"chunked"`` (a trailing partial chunk is padded with the identity map).
        return_final: also return ``h_{T-1}`` (the state to carry into a next call).

    Returns:
        ``h`` of ``b``'s shape (dtype of ``a * b``), or ``(h, h_last)`` with ``return_final``.
    """
    if method not in METHODS:
        raise ArgumentError(f"linear_recurrence: method must be one of {', '.join(METHODS)}, got {method!r}")
    b = jnp.asarray(b)
    if b.ndim == 0:
        raise ArgumentError("linear_recurrence: b must have a time axis, got a scalar")
    axis = axis % b.ndim
    a = jnp.asarray(a)
    dtype = jnp.result_type(a.dtype, b.dtype)
    a = jnp.broadcast_to(a, b.shape).astype(dtype)
    b = b.astype(dtype)
    a, b = _move(a, axis), _move(b, axis)
    if h0 is not None:
        # Fold the initial state into the first drive: h_0 = a_0 h0 + b_0.
        b = b.at[0].add(a[0] * jnp.broadcast_to(jnp.asarray(h0, dtype), b.shape[1:]))
    if method == "sequential":
        h = _sequential(a, b)
    elif method == "associative":
        h = lax.associative_scan(affine_combine, (a, b), axis=0)[1]
    else:
        if int(chunk_size) < 1:
            raise ArgumentError(f"linear_recurrence: chunk_size must be a positive integer, got {chunk_size!r}")
        h = _chunked(a, b, int(chunk_size))
    out = jnp.moveaxis(h, 0, axis) if axis != 0 else h
    return (out, h[-1]) if return_final else out


def _sequential(a, b):
    def step(h, ab):
        h = ab[0] * h + ab[1]
        return h, h

    _, h = lax.scan(step, jnp.zeros(b.shape[1:], b.dtype), (a, b))
    return h


def _chunked(a, b, chunk: int):
    T = b.shape[0]
    chunk = min(chunk, T)
    n = -(-T // chunk)
    pad = n * chunk - T
    if pad:  # the identity map (a=1, b=0) leaves the carried state unchanged
        a = jnp.concatenate([a, jnp.ones((pad, *a.shape[1:]), a.dtype)], axis=0)
        b = jnp.concatenate([b, jnp.zeros((pad, *b.shape[1:]), b.dtype)], axis=0)
    a = a.reshape(n, chunk, *a.shape[1:])
    b = b.reshape(n, chunk, *b.shape[1:])
    # Inside every chunk from a zero state, all chunks at once: A_k = prod a, H_k = the zero-state response.
    A, H = lax.associative_scan(affine_combine, (a, b), axis=1)

    def carry(h, ak_hk):
        Ak, Hk = ak_hk
        seq = Ak * h[None] + Hk  # the true states of this chunk given the state entering it
        return seq[-1], seq

    _, h = lax.scan(carry, jnp.zeros(b.shape[2:], b.dtype), (A, H))
    h = h.reshape(n * chunk, *h.shape[2:])
    return h[:T] if pad else h
