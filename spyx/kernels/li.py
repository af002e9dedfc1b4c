r"""Leaky integrator (non-spiking readout) over a whole sequence: :func:`li_sequence` and its cell.

Spyx 1.0's step (``spyx.nn.LI``, ``../shared/spyx-api.md`` §4.4), ``b = clip01(beta)``::

    V_{t+1} = b V_t + x_t;   y_t = V_{t+1}

Backward (``lam`` = dL/dV_{t+1} from later steps, ``gy`` = dL/dy_t): ``c = gy + lam``; ``dL/dx_t = c``;
``dL/dV_t = b c``; ``db += c V_t``. The outputs are the states, so the backward needs nothing stored beyond
the outputs themselves.
"""

from __future__ import annotations

from spyx.kernels.cell import Cell
from spyx.kernels.sequence import run_cell

__all__ = ["LICell", "li_sequence"]


class LICell(Cell):
    """The LI step and its backward. State ``(V,)``; params ``(b,)``; the output is the new state."""

    name = "li"
    states = ("v",)
    params = ("beta",)
    output_is_state = True
    spiking = False

    def step(self, x, state, p, spike, fb=None):
        (v,) = state
        (b,) = p
        v = b * v + x
        return v, (v,)

    def input_cotangent(self, lam):
        return lam[0]

    def grad_step(self, prev, new, gy, lam, p, fns):
        (v,) = prev
        (lv,) = lam
        (b,) = p
        c = gy + lv
        return c, (b * c,), (c * v,)


LI_CELL = LICell()


def li_sequence(x, v0, beta, *, impl="auto", interpret=False, config=None):
    r"""Run leaky integrators over a whole time-major sequence; equals ``spyx.nn.run(spyx.nn.LI(shape, beta),
    x, state=v0)``.

    Args:
        x: ``[T, B, *shape]``. v0: ``[B, *shape]`` or ``None`` (zeros). beta: decay, scalar or broadcastable to
            ``shape`` (clipped to [0, 1]). impl, interpret, config: as :func:`spyx.kernels.lif_sequence`.

    Returns:
        ``(v [T, B, *shape], v_final [B, *shape])``: the membrane after every step and the last one.
    """
    y, (v,) = run_cell(LI_CELL, x, (v0,), (beta,), None, decays=(0,), impl=impl, interpret=interpret,
                       config=config, what="li_sequence")
    return y, v
