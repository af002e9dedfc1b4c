r"""The delayed subtractive reset (what ``spyx.nn.LIF``/``IF`` lower to: the spike of step ``t - 1`` is subtracted
in step ``t``) with the spike of the *new* membrane as output, as a :class:`~spyx.kernels.cell.Cell`, for the
compiled programs' fused path (:mod:`spyx.backend.fused`).

The ``spyx.Neuron`` step (docs/semantics.md), for the membrane ``v`` and the carried spike ``s``::

    u_t = beta v_{t-1} + x'_t - s_{t-1} thr      (x' = g_x x + bias)
    s_t = H(u_t - thr)
    v_t = u_t

Within a run ``s_{t-1} = H(v_{t-1} - thr)``, so the cell carries ``v`` alone and recomputes the previous spike
from it::

    s_prev = H(v - thr)
    u      = beta v + x - s_prev thr
    s      = H(u - thr)          -> y_t = s_t, S_{t+1} = (u,)

(:mod:`spyx.kernels.lif`'s cell is the same recurrence with ``s_prev`` as its output, one step behind.) A carried
spike that differs from ``H(v - thr)`` (a state set by hand) is the caller's: it adds ``(H(v - thr) - s) thr``
to the first input.

Backward of one step (``lam`` = dL/du_t, ``gy`` = dL/ds_t; the previous spike is differentiated through the
surrogate, as the carried ``s`` is in the reference scan)::

    gs         = gy s'(u - thr)
    gu         = lam + gs
    dL/dx_t    = gu
    dL/dv      = (beta - thr s'(v - thr)) gu
    dbeta     += gu v;  dthr += -gs + gu (thr s'(v - thr) - s_prev)
"""

from __future__ import annotations

from spyx.errors import UnsupportedError
from spyx.kernels.cell import Cell

__all__ = ["DELAYED_SUBTRACT_CELL", "DelayedSubtractCell"]


class DelayedSubtractCell(Cell):
    """The delayed subtractive reset with the new membrane's spike as output (module docstring). State ``(v,)``;
    params ``(beta, threshold)``."""

    name = "delayed_subtract"
    states = ("v",)
    params = ("beta", "threshold")

    def step(self, x, state, p, spike, fb=None):
        if fb is not None:
            raise UnsupportedError("spyx.kernels: the delayed-subtract cell has no recurrent driver")
        (v,) = state
        b, thr = p
        u = b * v + x - spike(v - thr) * thr
        return spike(u - thr), (u,)

    def input_cotangent(self, lam):
        return lam[0]

    def grad_step(self, prev, new, gy, lam, p, fns):
        (v,) = prev
        (u,) = new
        (lu,) = lam
        b, thr = p
        gs = gy * fns.derivative(u - thr)
        gu = lu + gs
        ds_prev = fns.derivative(v - thr)
        s_prev = fns.forward(v - thr)
        return gu, ((b - thr * ds_prev) * gu,), (gu * v, gu * (thr * ds_prev - s_prev) - gs)


DELAYED_SUBTRACT_CELL = DelayedSubtractCell()
