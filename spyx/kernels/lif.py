r"""LIF over a whole sequence: :func:`lif_sequence` and its cell.

Spyx 1.0's step (``spyx.nn.LIF``, ``../shared/spyx-api.md`` §4.3), for incoming membrane ``V_t`` and input
``x_t``, with ``b = clip01(beta)``::

    s_t     = H(V_t - thr)                      (spike on the incoming membrane)
    V_{t+1} = b V_t + x_t [+ fb_t] - s_t thr    (leak, integrate, subtractive reset)

Backward of one step (``lam`` = dL/dV_{t+1}, ``gs`` = dL/ds_t from downstream, ``u = V_t - thr``)::

    gu    = (gs - lam thr) s'(u)                (the reset term - s thr feeds the spike's cotangent)
    dL/dx_t = lam
    dL/dV_t = b lam + gu
    db   += lam V_t
    dthr += -lam s_t - gu
"""

from __future__ import annotations

from spyx.errors import OptionError
from spyx.kernels.cell import Cell, add_feedback
from spyx.kernels.sequence import run_cell

__all__ = ["LIFCell", "lif_sequence"]


class LIFCell(Cell):
    """The LIF step and its backward (equations in the module docstring). State ``(V,)``; params
    ``(b, thr)`` with ``b`` already clipped."""

    name = "lif"
    states = ("v",)
    params = ("beta", "threshold")

    def step(self, x, state, p, spike, fb=None):
        (v,) = state
        b, thr = p
        s = spike(v - thr)
        v = add_feedback(b * v + x, fb, s) - s * thr
        return s, (v,)

    def input_cotangent(self, lam):
        return lam[0]

    def grad_step(self, prev, new, gy, lam, p, fns):
        (v,) = prev
        (lv,) = lam
        b, thr = p
        u = v - thr
        s = fns.forward(u)
        gu = (gy - lv * thr) * fns.derivative(u)
        return lv, (b * lv + gu,), (lv * v, -(lv * s) - gu)


LIF_CELL = LIFCell()


def check_reset(reset: str, what: str) -> None:
    """Only Spyx 1.0's subtractive reset exists; anything else is an OptionError naming the function."""
    if reset != "subtract":
        raise OptionError(f"{what}: reset={reset!r} is not supported; Spyx 1.0's neurons reset by subtraction "
                          "(reset='subtract')")


def lif_sequence(x, v0, beta, threshold=1.0, *, surrogate=None, reset="subtract", impl="auto", interpret=False,
                 config=None):
    r"""Run LIF neurons over a whole time-major sequence of input currents.

    Equals ``spyx.nn.run(spyx.nn.LIF(hidden, beta, threshold, surrogate), x, state=v0)`` (values to float
    rounding; gradients to float rounding of ``jax.grad`` through that scan).

    Args:
        x: input currents ``[T, B, *hidden]`` (float), e.g. the output of the preceding ``Linear`` over the
            whole sequence.
        v0: initial membrane ``[B, *hidden]``, or ``None`` for zeros.
        beta: membrane decay, a scalar or an array broadcastable to ``hidden`` (or to ``[B, *hidden]``);
            ``clip01(beta)`` is used, with its gradient.
        threshold: firing threshold, scalar or broadcastable like ``beta``.
        surrogate: a ``spyx.axn`` spike function (default ``superspike()``); any other callable runs the
            autodiff scan.
        reset: ``"subtract"`` (the only reset of Spyx 1.0's LIF).
        impl: ``"auto"`` (Pallas on GPU, scan elsewhere), ``"pallas"``, ``"scan"`` or ``"autodiff"``
            (plain ``lax.scan`` differentiated by JAX). interpret: run the Pallas kernel in interpret mode.
        config: :class:`spyx.kernels.KernelConfig` (block size, warps, time unroll) for the Pallas kernel.

    Returns:
        ``(spikes [T, B, *hidden], v_final [B, *hidden])``.
    """
    check_reset(reset, "lif_sequence")
    y, (v,) = run_cell(LIF_CELL, x, (v0,), (beta, threshold), surrogate, decays=(0,), impl=impl,
                       interpret=interpret, config=config, what="lif_sequence")
    return y, v
