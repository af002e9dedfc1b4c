r"""Current-based LIF over a whole sequence: :func:`cuba_lif_sequence` and its cell.

Spyx 1.0's step (``spyx.nn.CuBaLIF``, ``../shared/spyx-api.md`` §4.6), with ``a = clip01(alpha)``,
``b = clip01(beta)``, in this order::

    s_t     = H(V_t - thr)
    Vr_t    = V_t - s_t thr                     (reset before the leak)
    I_{t+1} = a I_t + x_t [+ fb_t]
    V_{t+1} = b Vr_t + I_{t+1}

Backward (``lam`` = dL/dV_{t+1}, ``mu`` = dL/dI_{t+1}, ``u = V_t - thr``)::

    gI   = mu + lam                             (I_{t+1} is both a state and a term of V_{t+1})
    dL/dx_t = gI;   dL/dI_t = a gI;   da += gI I_t
    gVr  = b lam;   db += lam Vr_t
    gu   = (gs - gVr thr) s'(u)
    dL/dV_t = gVr + gu;   dthr += -gVr s_t - gu
"""

from __future__ import annotations

from spyx.kernels.cell import Cell, add_feedback
from spyx.kernels.lif import check_reset
from spyx.kernels.sequence import run_cell

__all__ = ["CuBaLIFCell", "cuba_lif_sequence"]


class CuBaLIFCell(Cell):
    """The CuBaLIF step and its backward. State ``(V, I)``; params ``(a, b, thr)``."""

    name = "cuba_lif"
    states = ("v", "i")
    params = ("alpha", "beta", "threshold")

    def step(self, x, state, p, spike, fb=None):
        v, i = state
        a, b, thr = p
        s = spike(v - thr)
        v = v - s * thr
        i = add_feedback(a * i + x, fb, s)
        v = b * v + i
        return s, (v, i)

    def input_cotangent(self, lam):
        return lam[1] + lam[0]

    def grad_step(self, prev, new, gy, lam, p, fns):
        v, i = prev
        lv, li = lam
        a, b, thr = p
        u = v - thr
        s = fns.forward(u)
        vr = v - s * thr
        gi = li + lv
        gvr = b * lv
        gu = (gy - gvr * thr) * fns.derivative(u)
        return gi, (gvr + gu, a * gi), (gi * i, lv * vr, -(gvr * s) - gu)


CUBA_LIF_CELL = CuBaLIFCell()


def cuba_lif_sequence(x, v0, i0, alpha, beta, threshold=1.0, *, surrogate=None, reset="subtract", impl="auto",
                      interpret=False, config=None):
    r"""Run current-based LIF neurons over a whole time-major sequence.

    Equals ``spyx.nn.run(spyx.nn.CuBaLIF(hidden, alpha, beta, threshold, surrogate), x, state=[v0 | i0])``
    with the state split into its two halves.

    Args:
        x: ``[T, B, *hidden]``. v0, i0: initial membrane and synaptic current ``[B, *hidden]`` (``None``:
            zeros). alpha, beta: synaptic and membrane decays (scalar or broadcastable to ``hidden``; clipped
            to [0, 1] at use). Other arguments as :func:`spyx.kernels.lif_sequence`.

    Returns:
        ``(spikes [T, B, *hidden], v_final, i_final)`` (each final ``[B, *hidden]``).
    """
    check_reset(reset, "cuba_lif_sequence")
    y, (v, i) = run_cell(CUBA_LIF_CELL, x, (v0, i0), (alpha, beta, threshold), surrogate, decays=(0, 1),
                         impl=impl, interpret=interpret, config=config, what="cuba_lif_sequence")
    return y, v, i
