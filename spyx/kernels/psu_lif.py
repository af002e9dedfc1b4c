r"""Reset-free "parallel spiking unit" LIF over a whole sequence: :func:`psu_lif_sequence` and its cell.

Spyx's ``spyx.nn.PSU_LIF`` step (``../shared/spyx-api.md`` §4.10), ``b = clip01(beta)``: integrate first, then
spike on the *updated* membrane, no reset::

    V_{t+1} = b V_t + x_t;   s_t = H(V_{t+1} - thr)

Backward (``lam`` = dL/dV_{t+1} from later steps, ``u = V_{t+1} - thr``): ``gu = gs s'(u)``;
``c = lam + gu``; ``dL/dx_t = c``; ``dL/dV_t = b c``; ``db += c V_t``; ``dthr += -gu``.
"""

from __future__ import annotations

from spyx.kernels.cell import Cell
from spyx.kernels.sequence import run_cell

__all__ = ["PSULIFCell", "psu_lif_sequence"]


class PSULIFCell(Cell):
    """The PSU_LIF step and its backward. State ``(V,)``; params ``(b, thr)``."""

    name = "psu_lif"
    states = ("v",)
    params = ("beta", "threshold")

    def step(self, x, state, p, spike, fb=None):
        (v,) = state
        b, thr = p
        v = b * v + x
        return spike(v - thr), (v,)

    def input_cotangent(self, lam):
        return lam[0]

    def grad_step(self, prev, new, gy, lam, p, fns):
        (v,) = prev
        (v_new,) = new
        (lv,) = lam
        b, thr = p
        gu = gy * fns.derivative(v_new - thr)
        c = lv + gu
        return c, (b * c,), (c * v, -gu)


PSU_LIF_CELL = PSULIFCell()


def psu_lif_sequence(x, v0, beta, threshold=1.0, *, surrogate=None, impl="auto", interpret=False, config=None):
    r"""Run PSU_LIF neurons over a whole time-major sequence; equals ``spyx.nn.run(spyx.nn.PSU_LIF(...), x,
    state=v0)`` (``PSU_LIF.parallel`` is the same recurrence by an associative scan, from zero, spikes only).

    Args: as :func:`spyx.kernels.lif_sequence` (no ``reset``: this neuron has none). Returns ``(spikes [T, B,
    *hidden], v_final [B, *hidden])``.
    """
    y, (v,) = run_cell(PSU_LIF_CELL, x, (v0,), (beta, threshold), surrogate, decays=(0,), impl=impl,
                       interpret=interpret, config=config, what="psu_lif_sequence")
    return y, v
