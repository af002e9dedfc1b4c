r"""IF over a whole sequence: :func:`if_sequence` and its cell.

Spyx 1.0's step (``spyx.nn.IF``, ``../shared/spyx-api.md`` §4.2)::

    s_t     = H(V_t - thr)
    V_{t+1} = V_t + x_t [+ fb_t] - s_t thr

Backward (``lam`` = dL/dV_{t+1}, ``u = V_t - thr``): ``gu = (gs - lam thr) s'(u)``; ``dL/dx_t = lam``;
``dL/dV_t = lam + gu``; ``dthr += -lam s_t - gu``.
"""

from __future__ import annotations

from spyx.kernels.cell import Cell, add_feedback
from spyx.kernels.lif import check_reset
from spyx.kernels.sequence import run_cell

__all__ = ["IFCell", "if_sequence"]


class IFCell(Cell):
    """The IF step (no leak) and its backward. State ``(V,)``; params ``(thr,)``."""

    name = "if"
    states = ("v",)
    params = ("threshold",)

    def step(self, x, state, p, spike, fb=None):
        (v,) = state
        (thr,) = p
        s = spike(v - thr)
        v = add_feedback(v + x, fb, s) - s * thr
        return s, (v,)

    def input_cotangent(self, lam):
        return lam[0]

    def grad_step(self, prev, new, gy, lam, p, fns):
        (v,) = prev
        (lv,) = lam
        (thr,) = p
        u = v - thr
        s = fns.forward(u)
        gu = (gy - lv * thr) * fns.derivative(u)
        return lv, (lv + gu,), (-(lv * s) - gu,)


IF_CELL = IFCell()


def if_sequence(x, v0, threshold=1.0, *, surrogate=None, reset="subtract", impl="auto", interpret=False,
                config=None):
    r"""Run IF neurons over a whole time-major sequence; equals ``spyx.nn.run(spyx.nn.IF(...), x, v0)``.

    Args: as :func:`spyx.kernels.lif_sequence` without ``beta``. Returns ``(spikes [T, B, *hidden],
    v_final [B, *hidden])``.
    """
    check_reset(reset, "if_sequence")
    y, (v,) = run_cell(IF_CELL, x, (v0,), (threshold,), surrogate, decays=(), impl=impl, interpret=interpret,
                       config=config, what="if_sequence")
    return y, v
