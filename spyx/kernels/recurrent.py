r"""Recurrent spiking layers over a whole sequence: :func:`rif_sequence`, :func:`rlif_sequence`,
:func:`rcuba_lif_sequence`.

Spyx 1.0's recurrent steps (``../shared/spyx-api.md`` §4.7-4.9) are the plain cells with the feedback
``fb_t = s_t @ W`` (``W`` ``[N, N]``, rows presynaptic) of *this* step's spikes added where ``x_t`` enters::

    RIF, RLIF:  V_{t+1} = b V_t + x_t + s_t W - s_t thr              (b = 1 for RIF)
    RCuBaLIF:   I_{t+1} = a I_t + x_t + s_t W;  V_{t+1} = b (V_t - s_t thr) + I_{t+1}

There is no Pallas kernel: every step needs the whole ``[B, N]`` spike row times ``W`` before the next, a matrix
product inside the time loop (and ``gx_t @ W^T`` in the backward), which does not fit the lane-parallel kernels of
:mod:`spyx.kernels.pallas`. They run as a ``lax.scan`` (XLA fuses the elementwise cell around the product) under
a ``jax.custom_vjp`` whose backward is one reverse scan:

1. ``gfb_t = dL/dx_t`` from the state cotangents alone (:meth:`~spyx.kernels.cell.Cell.input_cotangent`);
2. the spike cotangent gains ``gfb_t @ W^T`` and the cell's ``grad_step`` does the rest;
3. ``dL/dW = sum_t s_t^T gfb_t``, one ``[N, T B] x [T B, N]`` product after the scan (autodiff through the scan
   accumulates ``T`` small products instead).

Stored for the backward: the new states (``[T, B, N]`` per component) and the spikes (the primal output).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from spyx.errors import InputError
from spyx.kernels.cell import Cell, SpikeFns
from spyx.kernels.cuba_lif import CUBA_LIF_CELL
from spyx.kernels.dispatch import resolve_impl
from spyx.kernels.integrate_fire import IF_CELL
from spyx.kernels.lif import LIF_CELL, check_reset
from spyx.kernels.sequence import autodiff_sequence, check_config, prepare

__all__ = ["rif_sequence", "rlif_sequence", "rcuba_lif_sequence"]


@dataclass(frozen=True)
class RecurrentPlan:
    """The static half of a fused recurrent call."""

    cell: Cell
    fns: SpikeFns
    unroll: int = 1


def _forward(plan, x, w, states, params, *, save: bool):
    def fb(s):
        return s @ w

    def body(state, xt):
        y, new = plan.cell.step(xt, state, params, plan.fns.forward, fb)
        return new, (y, new if save else ())

    finals, (y, seq) = jax.lax.scan(body, tuple(states), x, unroll=plan.unroll)
    return y, tuple(finals), tuple(seq)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def fused_recurrent(plan: RecurrentPlan, x, w, states, params):
    """``(spikes [T, B, N], finals)`` of a recurrent cell; differentiable in ``x``, ``w``, states, params."""
    y, finals, _ = _forward(plan, x, w, states, params, save=False)
    return y, finals


def _fused_fwd(plan, x, w, states, params):
    y, finals, seq = _forward(plan, x, w, states, params, save=True)
    return (y, finals), (seq, y, w, states, params)


def _fused_bwd(plan, res, cts):
    seq, spikes, w, states0, params = res
    gy, gfinals = cts
    cell, fns = plan.cell, plan.fns
    prevs = tuple(jnp.concatenate([s0[None], s[:-1]], axis=0) for s0, s in zip(states0, seq, strict=True))
    wt = w.T

    def body(carry, xs):
        lam, acc = carry
        prev, new, g = xs
        gfb = cell.input_cotangent(lam)
        gx, lam, gp = cell.grad_step(prev, new, g + gfb @ wt, lam, params, fns)
        return (lam, tuple(a + b for a, b in zip(acc, gp, strict=True))), gx

    zeros = tuple(jnp.zeros_like(p) for p in params)
    (lam, acc), gx = jax.lax.scan(body, (tuple(gfinals), zeros), (prevs, seq, gy), reverse=True,
                                  unroll=plan.unroll)
    gw = jnp.einsum("tbi,tbj->ij", spikes, gx)
    return gx, gw.astype(w.dtype), tuple(lam), tuple(acc)


fused_recurrent.defvjp(_fused_fwd, _fused_bwd)


def run_recurrent(cell, x, w, states, params, surrogate, *, decays, impl, config, what):
    """``(spikes [T, B, N], finals)`` of a recurrent ``cell`` with weights ``w`` ``[N, N]``."""
    unroll = int(check_config(config, what).scan_unroll)
    kind = resolve_impl(impl, False, has_pallas=False, what=what)
    x, states, params, surrogate, fns = prepare(cell, x, states, params, surrogate, decays=decays, what=what)
    if x.ndim != 3:
        raise InputError(f"{what}: recurrent layers take x [T, B, N] (a 1-D hidden shape); got shape {x.shape}")
    n = x.shape[-1]
    w = jnp.asarray(w)
    if tuple(w.shape) != (n, n):
        raise InputError(f"{what}: recurrent_w has shape {tuple(w.shape)}, expected ({n}, {n})")
    w = w.astype(x.dtype)
    if kind == "autodiff" or fns is None or x.shape[0] == 0 or x.shape[1] == 0:
        return autodiff_sequence(cell, surrogate, x, states, params, fb=lambda s: s @ w, unroll=unroll)
    return fused_recurrent(RecurrentPlan(cell, fns, unroll), x, w, states, params)


def rif_sequence(x, v0, w, threshold=1.0, *, surrogate=None, reset="subtract", impl="auto", config=None):
    r"""Recurrent IF over a sequence; equals ``spyx.nn.run(spyx.nn.RIF(...), x, state=v0)`` with
    ``recurrent_w = w``.

    Args:
        x: ``[T, B, N]``. v0: ``[B, N]`` or ``None``. w: ``[N, N]`` (rows presynaptic). threshold, surrogate,
            reset: as :func:`spyx.kernels.lif_sequence`. impl: ``"auto"``/``"scan"`` (the fused reverse scan) or
            ``"autodiff"``; ``"pallas"`` is an OptionError (no kernel, see the module docstring). config: a
            :class:`spyx.kernels.KernelConfig`; only its ``scan_unroll`` applies.

    Returns:
        ``(spikes [T, B, N], v_final [B, N])``.
    """
    check_reset(reset, "rif_sequence")
    y, (v,) = run_recurrent(IF_CELL, x, w, (v0,), (threshold,), surrogate, decays=(), impl=impl,
                            config=config, what="rif_sequence")
    return y, v


def rlif_sequence(x, v0, w, beta, threshold=1.0, *, surrogate=None, reset="subtract", impl="auto", config=None):
    r"""Recurrent LIF over a sequence; equals ``spyx.nn.run(spyx.nn.RLIF(...), x, state=v0)`` with
    ``recurrent_w = w``. Arguments as :func:`rif_sequence` plus ``beta`` (as :func:`spyx.kernels.lif_sequence`).

    Returns:
        ``(spikes [T, B, N], v_final [B, N])``.
    """
    check_reset(reset, "rlif_sequence")
    y, (v,) = run_recurrent(LIF_CELL, x, w, (v0,), (beta, threshold), surrogate, decays=(0,), impl=impl,
                            config=config, what="rlif_sequence")
    return y, v


def rcuba_lif_sequence(x, v0, i0, w, alpha, beta, threshold=1.0, *, surrogate=None, reset="subtract",
                       impl="auto", config=None):
    r"""Recurrent current-based LIF over a sequence; equals ``spyx.nn.run(spyx.nn.RCuBaLIF(...), x,
    state=[v0 | i0])`` with ``recurrent_w = w`` (the feedback enters the synaptic current).

    Returns:
        ``(spikes [T, B, N], v_final [B, N], i_final [B, N])``.
    """
    check_reset(reset, "rcuba_lif_sequence")
    y, (v, i) = run_recurrent(CUBA_LIF_CELL, x, w, (v0, i0), (alpha, beta, threshold), surrogate, decays=(0, 1),
                              impl=impl, config=config, what="rcuba_lif_sequence")
    return y, v, i
