r"""The immediate value reset (Sinabs' and NIR's IF/LIF: spike and reset in the step that crosses) as a
:class:`~spyx.kernels.cell.Cell`, for the compiled programs' fused path (:mod:`spyx.backend.fused`).

The step of a ``spyx.Neuron`` with ``reset="value"`` and no delay (docs/semantics.md, steps 3-5), for the
post-reset membrane ``v``::

    u_t = beta v_{t-1} + x'_t          (x' = g_x x + bias)
    s_t = H(u_t - thr)
    v_t = v_reset where s_t else u_t   (jnp.where: no gradient through the spike into v)

The backward needs ``u_t`` (the surrogate derivative is taken there), and ``v_t`` cannot give it back after a
reset. So the cell's state is the *pre-reset* membrane ``u`` and the reset of the previous step is applied at the
start of the next one, where ``v_{t-1}`` is recomputed from ``u_{t-1}``::

    v = v_reset where H(u_prev - thr) else u_prev
    u = beta v + x
    s = H(u - thr)          -> y_t = s, S_{t+1} = (u,)

Backward of one step (``lam`` = dL/du_t, ``gy`` = dL/ds_t, ``h = H(u_prev - thr)``)::

    gu       = lam + gy s'(u - thr)
    dL/dx_t  = gu
    dL/du_prev = (1 - h) beta gu        (the where: nothing flows through the reset branch)
    dbeta   += gu v;  dthr += -gy s'(u - thr);  dv_reset += h beta gu

The caller (:func:`spyx.backend.fused.fused_neuron_sequence`) runs step 0 from the carried ``v`` itself, hands
``u_0`` to the kernel as its initial state, and turns the final ``u`` back into ``v`` with the same ``where``.
"""

from __future__ import annotations

import jax.numpy as jnp

from spyx.errors import UnsupportedError
from spyx.kernels.cell import Cell

__all__ = ["VALUE_RESET_CELL", "ValueResetCell"]


class ValueResetCell(Cell):
    """The immediate value reset (module docstring). State ``(u,)`` (pre-reset membrane); params
    ``(beta, threshold, v_reset)``."""

    name = "value_reset"
    states = ("u",)
    params = ("beta", "threshold", "v_reset")

    def step(self, x, state, p, spike, fb=None):
        if fb is not None:
            raise UnsupportedError("spyx.kernels: the value-reset cell has no recurrent driver")
        (u_prev,) = state
        b, thr, vr = p
        v = jnp.where(spike(u_prev - thr) > 0, vr, u_prev)
        u = b * v + x
        return spike(u - thr), (u,)

    def input_cotangent(self, lam):
        return lam[0]

    def grad_step(self, prev, new, gy, lam, p, fns):
        (u_prev,) = prev
        (u,) = new
        (lu,) = lam
        b, thr, vr = p
        h = fns.forward(u_prev - thr) > 0
        v = jnp.where(h, vr, u_prev)
        gs = gy * fns.derivative(u - thr)
        gu = lu + gs
        gv = b * gu
        zero = jnp.zeros_like(gv)
        return gu, (jnp.where(h, zero, gv),), (gu * v, -gs, jnp.where(h, gv, zero))


VALUE_RESET_CELL = ValueResetCell()
