r"""The step interpreter of a small group of nodes as one Pallas kernel over ``T`` (the layer schedule's fast path
for what no fused cell computes: a recurrent layer, a CubaLIF, any ``spyx.Neuron`` variant).

Where it applies (:func:`row_group`): a ``cycle`` group (a strongly connected component, e.g. a neuron and its
recurrent ``Affine``), or a ``stateful`` group that :mod:`spyx.backend.fused` does not fuse,
whose nodes are dense or elementwise weight layers or stepped neuron populations (asked by trait: e.g.
``spyx.Neuron``, ``Affine``, ``Linear``, ``Scale``) with one-axis shapes of at most :data:`MAX_FEATURES`
features, all fed by at least one edge. On GPU (``fused="auto"``, or ``"interpret"`` on CPU for tests) with float32
or bfloat16 and a :class:`spyx.axn.SpikeFunction`.

Layout: one program per block of :data:`ROWS` batch rows; each program holds its rows' state and every parameter
of the group in registers and walks ``t`` in chunks of :data:`UNROLL` steps (their input rows loaded first),
calling :func:`spyx.backend.schedule.step_nodes` on ``[ROWS, F]`` blocks: the very code of the ``step`` schedule,
so the kernel computes what the reference scan computes, operation for operation (a recurrent ``Affine`` is a
``[ROWS, F] x [F, F]`` product per step inside the kernel). Feature axes are padded to a power of two (at least 16,
Triton's smallest matrix product): weights and biases of ``Affine`` and ``Linear`` with zeros (so the padded lanes
never reach a real one), every other parameter by repeating its last entry (so the padded lanes compute a copy of a
real neuron, finite), and sliced away after.

Gradients: the kernel is the primal only. Under differentiation (:func:`jax.custom_vjp`) the forward rule runs the
reference scan itself (``jax.vjp``) and the backward rule is its reverse pass, so training costs what the scan
costs and inference runs the kernel.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jax.experimental import pallas as pl

from spyx.axn import SpikeFunction, heaviside
from spyx.ir.traits import Continuous, Population, WeightLayer

__all__ = ["MAX_FEATURES", "ROWS", "row_group", "run_row_group"]

MAX_FEATURES = 128  # the feature width up to which a [F, F] weight and the rows' state stay in registers
ROWS = 16  # batch rows per program: Triton's smallest matrix product is 16 x 16 x 16
# Time steps per loop iteration (their input rows are loaded before the dependent steps run), warps per program.
# Measured on an H200 for braille (benchmarks/results/nir_forward_profile_h200.json): UNROLL 1/4/8/32 at 4 warps
# gave 1.42/0.66/0.73/1.22 ms (compile 0.6/1.9/3.4/31 s); 1 or 2 warps were 7-9 ms (the [16, 64] state no longer
# fits the registers), and 32 or 64 rows per program 9.6-22 ms (fewer programs, each as long). Two later runs
# (results/nir_forward_profile_h200_run2.json, _run3.json) at 8 warps: UNROLL 2/4/8 0.50/0.46-0.54/0.40 ms; 16 warps
# 0.58 ms; NUM_STAGES 2 or 3 no better (0.52-0.65 ms).
UNROLL = 8
NUM_WARPS = 8
NUM_STAGES = 1  # Triton's software pipelining of the loop's loads
# Stack the padded parameters by shape (_pack; False: one kernel operand and pad each). On braille: 13 instead of 30
# kernels a call and 0.355 instead of 0.380 ms of device time; the wall time did not move (0.614 vs 0.618 ms).
PACK_PARAMS = True


def row_group(plan, names) -> bool:
    """Whether the group ``names`` of ``plan`` can run as one row kernel (module docstring)."""
    for n in names:
        np_ = plan.nodes[n]
        if not (_dense(np_.node) or _elementwise(np_.node) or _stepped_population(np_)):
            return False
        if not np_.sources or np_.causal:
            return False
        for shape in (np_.ctx.in_shape, np_.ctx.out_shape):
            if shape is None or len(shape) != 1 or shape[0] > MAX_FEATURES:
                return False
    return True


def _dense(node) -> bool:
    w = node.trait(WeightLayer)
    return w is not None and w.layout == "dense"


def _elementwise(node) -> bool:
    w = node.trait(WeightLayer)
    return w is not None and w.layout == "elementwise"


def _stepped_population(np_) -> bool:
    """A discrete neuron population the kernel registry steps (its parameters are per neuron)."""
    return np_.node.has_trait(Population) and not np_.node.has_trait(Continuous) and np_.kernel.stateful


def _width(f: int) -> int:
    return max(16, 1 << (int(f) - 1).bit_length())


def _forward_only(spike_fn):
    """The spike function's forward alone (no ``custom_vjp`` inside the kernel), with its ``strict`` rule."""
    if spike_fn.forward is not None:
        return lambda x, strict=True: spike_fn.forward(x)
    return lambda x, strict=True: heaviside(x) if strict else (x >= 0).astype(x.dtype)


def _pad_last(a, width: int, mode: str):
    """``a`` with its last axis padded to ``width`` (``"constant"``: zeros; ``"edge"``: its last entry)."""
    if a.ndim == 0 or a.shape[-1] == width:
        return a
    return jnp.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, width - a.shape[-1])], mode=mode)


def _kernel(*refs, treedef, n_ext, n_st, n_p, slots, names, plan, t_len, ext_names, unroll, step):
    ext_refs = refs[:n_ext]
    st_refs = refs[n_ext : n_ext + n_st]
    p_refs = refs[n_ext + n_st : n_ext + n_st + n_p]
    val_refs = refs[n_ext + n_st + n_p : n_ext + n_st + n_p + len(names)]
    fin_refs = refs[n_ext + n_st + n_p + len(names) :]
    params = jax.tree.unflatten(treedef[0], [p_refs[g][...] if k is None else p_refs[g][k] for g, k in slots])
    state = jax.tree.unflatten(treedef[1], [r[...] for r in st_refs])

    def chunk(t0, k, st):
        # the k steps' input rows are loaded first, so k loads are in flight before the dependent steps
        rows = [{s: r[t0 + j] for s, r in zip(ext_names, ext_refs, strict=True)} for j in range(k)]
        for j in range(k):
            new, vals = step(plan, names, params, st, rows[j], next(iter(rows[j].values())))
            for n, r in zip(names, val_refs, strict=True):
                r[t0 + j] = vals[n]
            st = {**st, **new}
        return st

    n_chunks, tail = divmod(t_len, unroll)
    if n_chunks:
        state = lax.fori_loop(0, n_chunks, lambda c, st: chunk(c * unroll, unroll, st), state)
    if tail:
        state = chunk(n_chunks * unroll, tail, state)
    for r, v in zip(fin_refs, jax.tree.leaves(state), strict=True):
        r[...] = v


def _kernel_plan(plan, names):
    """``plan`` with the group's contexts using the spike function's bare forward."""
    nodes = dict(plan.nodes)
    for n in names:
        np_ = nodes[n]
        ctx = np_.ctx
        if ctx.spike_fn is not None:
            ctx = type(ctx)(_forward_only(ctx.spike_fn), ctx.in_shape, ctx.out_shape, ctx.precision)
        nodes[n] = type(np_)(np_.name, np_.node, np_.kernel, ctx, np_.sources, np_.causal, np_.keeps_out)
    return type(plan)(nodes, plan.order, plan.inputs, plan.outputs, plan.groups, plan.unroll, plan.parallel_linear,
                      plan.fused)


def _pallas(plan, names, ext_names, interpret, step, params, state, ext):
    """The kernel call on unpadded arrays; returns ``(vals {n: [T, B, F_n]}, final state)``."""
    t_len, b = next(iter(ext.values())).shape[:2]
    bp = pl.cdiv(b, ROWS) * ROWS
    width = {n: _width(plan.nodes[n].ctx.out_shape[0]) for n in names}
    for s in ext_names:
        width.setdefault(s, _width(ext[s].shape[-1]))

    def pad_rows(a, axis):
        return jnp.pad(a, [(0, bp - b) if i == axis else (0, 0) for i in range(a.ndim)]) if bp != b else a

    pparams = {}
    for n, p in params.items():
        np_ = plan.nodes[n]
        if _dense(np_.node):  # weight (out, in) and bias (out,): zeros, so padded lanes feed nothing
            w_in = _width(np_.ctx.in_shape[0])
            pparams[n] = {k: jnp.pad(v, [(0, width[n] - v.shape[0])] + [(0, w_in - d) for d in v.shape[1:]])
                          for k, v in p.items()}
        else:
            pparams[n] = {k: _pad_last(v, width[n], "edge") for k, v in p.items()}
    pstate = {n: {k: pad_rows(_pad_last(v, width[n], "constant"), 0) for k, v in st.items()} for n, st in state.items()}
    pext = [pad_rows(_pad_last(ext[s], width[s], "constant"), 1) for s in ext_names]
    p_leaves, p_def = jax.tree.flatten(pparams)
    p_leaves, slots = _pack(p_leaves)
    s_leaves, s_def = jax.tree.flatten(pstate)

    def full(a):
        return pl.BlockSpec(a.shape, lambda i, nd=a.ndim: (0,) * nd)

    def rows_seq(w):
        return pl.BlockSpec((t_len, ROWS, w), lambda i: (0, i, 0))

    def rows_vec(a):
        return pl.BlockSpec((ROWS, *a.shape[1:]), lambda i, nd=a.ndim: (i,) + (0,) * (nd - 1))

    dtype = pext[0].dtype
    out_shape = [jax.ShapeDtypeStruct((t_len, bp, width[n]), dtype) for n in names]
    out_shape += [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in s_leaves]
    kernel = functools.partial(_kernel, treedef=(p_def, s_def), n_ext=len(pext), n_st=len(s_leaves),
                               n_p=len(p_leaves), slots=slots, names=names, plan=_kernel_plan(plan, names), t_len=t_len,
                               ext_names=ext_names, unroll=UNROLL, step=step)
    outs = pl.pallas_call(
        kernel,
        out_shape=out_shape,
        grid=(bp // ROWS,),
        in_specs=[rows_seq(a.shape[-1]) for a in pext] + [rows_vec(a) for a in s_leaves] + [full(a) for a in p_leaves],
        out_specs=[rows_seq(width[n]) for n in names] + [rows_vec(a) for a in s_leaves],
        interpret=interpret,
        compiler_params=None if interpret else _compiler_params(),
        name="spyx_row_group",
    )(*pext, *s_leaves, *p_leaves)
    vals = {n: o[:, :b, : plan.nodes[n].ctx.out_shape[0]] for n, o in zip(names, outs[: len(names)], strict=True)}
    finals = jax.tree.unflatten(s_def, outs[len(names):])
    unpadded = {n: {k: v[:b, ..., : state[n][k].shape[-1]] for k, v in st.items()} for n, st in finals.items()}
    return vals, unpadded


def _pack(leaves):
    """The padded parameters stacked by shape and dtype: ``(packs, slots)``, leaf ``i`` being
    ``packs[slots[i][0]][slots[i][1]]``. One XLA fusion per pack instead of one ``pad`` per parameter: in the
    braille profile the per-call padding was 20 of the call's 35 kernels (benchmarks/README.md). Each pack's
    leading axis is a power of two (Triton's block shapes), the spare entries zeros that nothing reads."""
    if not PACK_PARAMS:
        return list(leaves), tuple((i, None) for i in range(len(leaves)))
    groups: dict = {}
    slots = []
    for a in leaves:
        members = groups.setdefault((a.shape, a.dtype), [])
        slots.append((list(groups).index((a.shape, a.dtype)), len(members)))
        members.append(a)
    packs = []
    for (shape, dtype), members in groups.items():
        spare = (1 << (len(members) - 1).bit_length()) - len(members)
        packs.append(jnp.stack(members + [jnp.zeros(shape, dtype)] * spare))
    return packs, tuple(slots)


def _compiler_params():
    from jax.experimental.pallas import triton as plgpu

    return plgpu.CompilerParams(num_warps=NUM_WARPS, num_stages=NUM_STAGES)


def run_row_group(plan, names, params, state, ext, *, interpret: bool, step, reference):
    """``(vals, state)`` of the group over the whole sequence, as ``reference(params, state, ext)`` (the scan)
    computes them: the kernel for the primal, the reference's own reverse pass under differentiation. ``step`` is
    the step schedule's ``step_nodes`` (passed in: the schedule imports this module)."""
    ext_names = tuple(sorted(ext))

    @jax.custom_vjp
    def run(params, state, ext):
        return _pallas(plan, names, ext_names, interpret, step, params, state, ext)

    def fwd(params, state, ext):
        out, vjp = jax.vjp(reference, params, state, ext)
        return out, vjp

    def bwd(vjp, ct):
        return vjp(ct)

    run.defvjp(fwd, bwd)
    return run(params, state, ext)


def applies(plan, names, dtype, spike_fn) -> tuple[bool, bool]:
    """``(use the row kernel, in interpret mode)`` for this group under ``plan.fused``."""
    if plan.fused not in ("auto", "pallas", "interpret") or dtype not in (jnp.float32, jnp.bfloat16):
        return False, False
    if spike_fn is not None and not isinstance(spike_fn, SpikeFunction):
        return False, False
    if plan.fused == "auto" and jax.default_backend() != "gpu":
        return False, False
    return row_group(plan, names), plan.fused == "interpret"

