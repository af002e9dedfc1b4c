r"""The Pallas driver of a :class:`~spyx.kernels.cell.Cell`: one forward and one backward kernel, each a single
pass over ``T`` (Triton lowering on GPU; interpret mode on CPU for tests).

Layout. The sequence is ``[T, M]`` (``M = B * prod(hidden)`` lanes, row-major, so a time step is one
contiguous row). The grid has one program per block of ``blk`` lanes (:class:`~spyx.kernels.KernelConfig`);
``M`` is zero-padded to a multiple of ``blk`` (the padded lanes compute garbage that is sliced away; no lane
reads another, so nothing leaks). A program keeps its lanes' state, parameters and (backward) gradient
accumulators in registers and walks ``t``: each chunk of ``unroll`` steps first loads its ``unroll`` input rows,
then computes and stores them, so ``unroll`` row loads are in flight at once.

Forward kernel: reads ``x`` once, writes ``y`` once and the final state; with ``save`` also writes the new
states ``S_{t+1}`` (one ``[T, M]`` array per state component; none for ``LI``, whose outputs are its states).

Backward kernel (reverse time): reads the stored states and ``gy`` once each, writes ``gx`` once, plus the
initial-state cotangents and one ``[M]`` partial sum per parameter (summed over ``t``; the broadcast back to the
parameter's shape is summed by autodiff outside). Step ``t`` needs ``S_t`` (the stored row ``t - 1``, or the
initial state) and ``S_{t+1}`` (row ``t``, carried from the previous iteration), so each row is loaded once.

Memory choice: storing the membranes (4 bytes per lane and step per state component) instead of recomputing
them. Recomputing would need either the inputs ``x`` kept alive (as large) or checkpoints plus a second
forward sweep; spikes alone do not determine the membrane (the leak cannot be inverted exactly). Spikes and
surrogate derivatives are recomputed from the stored membrane (``H(V - thr)``, ``s'(V - thr)``): exact, and
cheaper than storing them.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl

__all__ = ["pallas_forward", "pallas_backward"]


def _compiler_params(config):
    from jax.experimental.pallas import triton as plgpu

    return plgpu.CompilerParams(num_warps=int(config.num_warps), num_stages=config.num_stages)


def _pad_lanes(a, mp: int):
    """Zero-pad the last axis of ``a`` to ``mp`` lanes (no copy when it already has them)."""
    m = a.shape[-1]
    if m == mp:
        return a
    return jnp.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, mp - m)])


def _specs(t: int, blk: int):
    seq = pl.BlockSpec((t, blk), lambda i: (0, i))
    vec = pl.BlockSpec((blk,), lambda i: (i,))
    return seq, vec


def _fwd_kernel(*refs, cell, forward, t_len, n_s, n_p, keep, unroll):
    x_ref = refs[0]
    s_refs = refs[1 : 1 + n_s]
    p_refs = refs[1 + n_s : 1 + n_s + n_p]
    outs = refs[1 + n_s + n_p :]
    y_ref = outs[0]
    seq_refs = outs[1 : 1 + n_s] if keep else ()
    fin_refs = outs[len(outs) - n_s :]
    p = tuple(r[...] for r in p_refs)

    def chunk(t0, k, state):
        xs = [x_ref[t0 + j] for j in range(k)]  # all k loads first, then the k dependent steps
        for j in range(k):
            y, state = cell.step(xs[j], state, p, forward)
            y_ref[t0 + j] = y
            for r, v in zip(seq_refs, state if keep else (), strict=True):
                r[t0 + j] = v
        return state

    state = tuple(r[...] for r in s_refs)
    n_chunks, tail = divmod(t_len, unroll)
    if n_chunks:
        state = jax.lax.fori_loop(0, n_chunks, lambda c, st: chunk(c * unroll, unroll, st), state)
    if tail:
        state = chunk(n_chunks * unroll, tail, state)
    for r, v in zip(fin_refs, state, strict=True):
        r[...] = v


def _bwd_kernel(*refs, cell, fns, t_len, n_s, n_p, unroll):
    seq_refs = refs[:n_s]
    s0_refs = refs[n_s : 2 * n_s]
    p_refs = refs[2 * n_s : 2 * n_s + n_p]
    gy_ref = refs[2 * n_s + n_p]
    gfin_refs = refs[2 * n_s + n_p + 1 : 3 * n_s + n_p + 1]
    gx_ref = refs[3 * n_s + n_p + 1]
    gs0_refs = refs[3 * n_s + n_p + 2 : 4 * n_s + n_p + 2]
    gp_refs = refs[4 * n_s + n_p + 2 :]
    p = tuple(r[...] for r in p_refs)

    def chunk(t_hi, k, carry):
        # steps t_hi, t_hi - 1, ..., t_hi - k + 1 (all >= 1): S_t is stored row t - 1
        cur, lam, acc = carry
        prevs = [tuple(r[t_hi - j - 1] for r in seq_refs) for j in range(k)]
        gys = [gy_ref[t_hi - j] for j in range(k)]
        for j in range(k):
            gx, lam, gp = cell.grad_step(prevs[j], cur, gys[j], lam, p, fns)
            gx_ref[t_hi - j] = gx
            acc = tuple(a + g for a, g in zip(acc, gp, strict=True))
            cur = prevs[j]
        return cur, lam, acc

    cur = tuple(r[t_len - 1] for r in seq_refs)
    lam = tuple(r[...] for r in gfin_refs)
    acc = tuple(jnp.zeros_like(q) for q in p)
    carry = (cur, lam, acc)
    head = (t_len - 1) % unroll
    n_chunks = (t_len - 1) // unroll
    if head:
        carry = chunk(t_len - 1, head, carry)
    if n_chunks:
        top = t_len - 1 - head
        carry = jax.lax.fori_loop(0, n_chunks, lambda c, cr: chunk(top - c * unroll, unroll, cr), carry)
    cur, lam, acc = carry
    init = tuple(r[...] for r in s0_refs)
    gx, lam, gp = cell.grad_step(init, cur, gy_ref[0], lam, p, fns)  # t = 0: S_0 is the initial state
    gx_ref[0] = gx
    for r, v in zip(gs0_refs, lam, strict=True):
        r[...] = v
    for r, a, g in zip(gp_refs, acc, gp, strict=True):
        r[...] = a + g


def pallas_forward(cell, fns, x, states, params, *, save: bool, config, interpret: bool):
    """``(y [T, M], finals, seq)`` as :func:`spyx.kernels.scan.scan_forward`, by one Pallas kernel (``seq``
    keeps the padded lane count, for :func:`pallas_backward`)."""
    t_len, m = x.shape
    blk = config.lanes(m)
    mp = pl.cdiv(m, blk) * blk
    n_s, n_p = len(states), len(params)
    keep = save and not cell.output_is_state
    seq_spec, vec_spec = _specs(t_len, blk)
    seq_shape = jax.ShapeDtypeStruct((t_len, mp), x.dtype)
    vec_shapes = [jax.ShapeDtypeStruct((mp,), s.dtype) for s in states]
    out_shape = [seq_shape] + ([seq_shape] * n_s if keep else []) + vec_shapes
    out_specs = [seq_spec] + ([seq_spec] * n_s if keep else []) + [vec_spec] * n_s
    kernel = functools.partial(
        _fwd_kernel, cell=cell, forward=fns.forward, t_len=t_len, n_s=n_s, n_p=n_p, keep=keep,
        unroll=int(config.unroll),
    )
    outs = pl.pallas_call(
        kernel,
        out_shape=out_shape,
        grid=(mp // blk,),
        in_specs=[seq_spec] + [vec_spec] * (n_s + n_p),
        out_specs=out_specs,
        interpret=interpret,
        compiler_params=None if interpret else _compiler_params(config),
        name=f"spyx_{cell.name}_forward",
    )(_pad_lanes(x, mp), *(_pad_lanes(s, mp) for s in states), *(_pad_lanes(q, mp) for q in params))
    # the stored states stay padded: only pallas_backward reads them, and it wants them padded
    seq = tuple(outs[1 : 1 + n_s]) if keep else ((outs[0],) if save else ())
    outs = [o[..., :m] if mp != m else o for o in outs]
    return outs[0], tuple(outs[len(outs) - n_s :]), seq


def pallas_backward(cell, fns, seq, states0, params, gy, gfinals, *, config, interpret: bool):
    """``(gx [T, M], gstates0, gparams)`` as :func:`spyx.kernels.scan.scan_backward`, by one Pallas kernel."""
    t_len, m = gy.shape
    blk = config.lanes(m)
    mp = pl.cdiv(m, blk) * blk
    n_s, n_p = len(states0), len(params)
    seq_spec, vec_spec = _specs(t_len, blk)
    out_shape = (
        [jax.ShapeDtypeStruct((t_len, mp), gy.dtype)]
        + [jax.ShapeDtypeStruct((mp,), s.dtype) for s in states0]
        + [jax.ShapeDtypeStruct((mp,), q.dtype) for q in params]
    )
    kernel = functools.partial(_bwd_kernel, cell=cell, fns=fns, t_len=t_len, n_s=n_s, n_p=n_p,
                               unroll=int(config.unroll))
    pad = functools.partial(_pad_lanes, mp=mp)
    outs = pl.pallas_call(
        kernel,
        out_shape=out_shape,
        grid=(mp // blk,),
        in_specs=[seq_spec] * n_s + [vec_spec] * (n_s + n_p) + [seq_spec] + [vec_spec] * n_s,
        out_specs=[seq_spec] + [vec_spec] * (n_s + n_p),
        interpret=interpret,
        compiler_params=None if interpret else _compiler_params(config),
        name=f"spyx_{cell.name}_backward",
    )(*map(pad, seq), *map(pad, states0), *map(pad, params), pad(gy), *map(pad, gfinals))
    outs = [o[..., :m] if mp != m else o for o in outs]
    return outs[0], tuple(outs[1 : 1 + n_s]), tuple(outs[1 + n_s :])
