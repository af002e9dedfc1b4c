r"""Adaptive LIF over a whole sequence: :func:`alif_sequence` and its cell.

Spyx 1.0's step (``spyx.nn.ALIF``, ``../shared/spyx-api.md`` §4.5), ``b = clip01(beta)``, ``g = clip01(gamma)``,
in this order::

    theta_t = thr + A_t                          (adapted threshold)
    s_t     = H(V_t - theta_t)
    V_{t+1} = b V_t + x_t - s_t theta_t          (reset by the adapted threshold)
    A_{t+1} = g A_t + (1 - g) s_t

Backward (``lam`` = dL/dV_{t+1}, ``nu`` = dL/dA_{t+1}, ``u = V_t - theta_t``)::

    gu     = (gs - lam theta_t + nu (1 - g)) s'(u)
    dL/dx_t = lam;   dL/dV_t = b lam + gu;   db += lam V_t
    gtheta = -lam s_t - gu;   dthr += gtheta;   dL/dA_t = g nu + gtheta
    dg    += nu (A_t - s_t)
"""

from __future__ import annotations

from spyx.kernels.cell import Cell
from spyx.kernels.lif import check_reset
from spyx.kernels.sequence import run_cell

__all__ = ["ALIFCell", "alif_sequence"]


class ALIFCell(Cell):
    """The ALIF step and its backward. State ``(V, A)``; params ``(b, g, thr)``."""

    name = "alif"
    states = ("v", "a")
    params = ("beta", "gamma", "threshold")

    def step(self, x, state, p, spike, fb=None):
        v, a = state
        b, g, thr = p
        theta = thr + a
        s = spike(v - theta)
        v = b * v + x - s * theta
        a = g * a + (1 - g) * s
        return s, (v, a)

    def input_cotangent(self, lam):
        return lam[0]

    def grad_step(self, prev, new, gy, lam, p, fns):
        v, a = prev
        lv, la = lam
        b, g, thr = p
        theta = thr + a
        u = v - theta
        s = fns.forward(u)
        gu = (gy - lv * theta + la * (1 - g)) * fns.derivative(u)
        gtheta = -(lv * s) - gu
        return lv, (b * lv + gu, g * la + gtheta), (lv * v, la * (a - s), gtheta)


ALIF_CELL = ALIFCell()


def alif_sequence(x, v0, a0, beta, gamma, threshold=1.0, *, surrogate=None, reset="subtract", impl="auto",
                  interpret=False, config=None):
    r"""Run adaptive LIF neurons over a whole time-major sequence.

    Equals ``spyx.nn.run(spyx.nn.ALIF(hidden, beta, gamma, threshold, surrogate), x, state=[v0 | a0])`` with the
    state split into membrane and adaptation.

    Args:
        x: ``[T, B, *hidden]``. v0, a0: initial membrane and adaptation ``[B, *hidden]`` (``None``: zeros).
            beta, gamma: membrane and adaptation decays (clipped to [0, 1]). Other arguments as
            :func:`spyx.kernels.lif_sequence`.

    Returns:
        ``(spikes [T, B, *hidden], v_final, a_final)``.
    """
    check_reset(reset, "alif_sequence")
    y, (v, a) = run_cell(ALIF_CELL, x, (v0, a0), (beta, gamma, threshold), surrogate, decays=(0, 1), impl=impl,
                         interpret=interpret, config=config, what="alif_sequence")
    return y, v, a
