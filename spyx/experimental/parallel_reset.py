r"""``ParallelResetLIF``: a LIF with subtractive reset whose whole spike train is found by a parallel fixed-point
iteration over time (``../shared/spyx-api.md`` §13.7).

The reset makes LIF nonlinear in time, so it is not one linear recurrence. But given the spikes, the membrane is
linear: with ``b = clip01(beta)`` and the *shifted* leaky sum ``P[y]_t = sum_{j<t} b^(t-1-j) y_j`` (``P[y]_0 = 0``)
the LIF step (spike on the incoming membrane, then ``V' = b V + x - s thr``, from ``V_0 = 0``) gives exactly

    V_t = P[x]_t - P[s thr]_t,     s_t = H(V_t - thr).

:meth:`ParallelResetLIF.parallel` iterates this: ``U = P[x]``, ``s = spike(U - thr)`` (no reset), then ``K``
times ``R = P[s thr]``, ``s = spike(U - R - thr)``. Each ``P`` is one :func:`spyx.scan.linear_recurrence` (an
associative scan, depth ``log T``) shifted down one step. Iteration ``k`` makes the first ``k + 1`` steps exact
(step ``t`` only depends on spikes before ``t``), so ``K >= T`` reproduces the sequential spike train exactly and
a small ``K`` is an approximation whose mismatch does not grow with ``K``.
"""

from __future__ import annotations

import jax.numpy as jnp

from spyx.errors import ArgumentError, InputError
from spyx.nn.base import clip01, expand
from spyx.nn.lif import LIF
from spyx.scan import linear_recurrence

__all__ = ["ParallelResetLIF"]


def _presynaptic_leaky_scan(b, y):
    """``P[y]_t = sum_{j<t} b^(t-1-j) y_j`` over axis 0 of ``y`` ``(T, ...)``: the inclusive leaky sum shifted down
    one step (``P[y]_0 = 0``)."""
    h = linear_recurrence(b, y, method="associative")
    return jnp.concatenate([jnp.zeros_like(h[:1]), h[:-1]], axis=0)


class ParallelResetLIF(LIF):
    r"""LIF (same constructor, parameters, draws and step as :class:`spyx.nn.LIF`) with a parallel solver.

    One step, in this order, for input ``x`` and incoming membrane ``V`` (zero at t = 0), ``b = clip01(beta)``:

    1. ``s = spike(V - threshold)`` on the incoming membrane;
    2. ``V' = b V + x - s threshold`` (subtractive reset);
    3. return ``(s, V')``.

    ``spyx.nn.run`` of this layer equals ``run`` of a ``LIF`` with the same parameters; :meth:`parallel` computes
    the spike train by the fixed-point iteration of the module docstring.

    State: ``V`` ``(B, *hidden_shape)``.
    """

    def parallel(self, x, K: int = 3):
        """Spikes ``(T, B, *hidden_shape)`` of a time-major sequence ``x`` from ``V = 0``, after ``K`` fixed-point
        iterations (exact for ``K >= T``)."""
        k = len(self.hidden_shape)
        if x.ndim < k + 1 or tuple(x.shape[x.ndim - k :]) != self.hidden_shape:
            raise InputError(
                f"ParallelResetLIF.parallel expects time-major (T, B, *{self.hidden_shape}) input, got "
                f"{tuple(x.shape)}"
            )
        if int(K) != K or K < 0:
            raise ArgumentError(f"ParallelResetLIF.parallel: K must be a non-negative integer, got {K!r}")
        b = jnp.broadcast_to(expand(clip01(self.beta), x), x.shape).astype(x.dtype)
        thr = self._threshold(x)
        U = _presynaptic_leaky_scan(b, x)
        s = self.spike(U - thr)
        for _ in range(int(K)):
            R = _presynaptic_leaky_scan(b, s * thr)
            s = self.spike(U - R - thr)
        return s
