"""JAX implementations of every executable node kind, in a registry keyed by ``node.kind``.

A :class:`Kernel` gives, for one kind:

* ``trainable``: the array parameters a program exposes in ``params`` (the rest are static structure:
  strides, shapes, integer delays);
* stateless kinds: ``apply(node, p, x, ctx) -> y`` on a batch ``x`` of shape ``(N, *in_shape)``; the
  ``layer`` schedule calls it once on ``N = T * B``, the ``step`` schedule on ``N = B`` each step;
* stateful kinds: ``init(node, batch, dtype) -> state``, ``step(node, p, state, x, ctx) -> (state, y)`` on
  ``(B, *shape)``, optionally ``peek(node, state) -> y`` for causal kinds (output before the input is known)
  and ``sequence(node, p, state, xs, ctx) -> (ys, state)`` on a whole ``(T, B, *shape)`` sequence.

Shapes are per sample (NIR channels-first); a leading batch axis is explicit everywhere, never implied by
rank promotion. ``spyx.Neuron`` implements ``docs/semantics.md`` ("The discrete neuron step") exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax

from spyx.ir.conv import spatial
from spyx.ir.flatten import flatten_shape
from spyx.ir.node import Node
from spyx.scan import linear_recurrence

__all__ = ["Kernel", "Context", "KERNELS", "kernel_for", "register_kernel", "neuron_step"]


@dataclass(frozen=True)
class Context:
    """What a kernel may need besides its node: the spike function, shapes and matmul precision."""

    spike_fn: Any
    in_shape: tuple[int, ...] | None
    out_shape: tuple[int, ...] | None
    precision: Any = lax.Precision.HIGHEST


@dataclass(frozen=True)
class Kernel:
    trainable: tuple[str, ...] = ()
    apply: Callable | None = None
    init: Callable | None = None
    step: Callable | None = None
    peek: Callable | None = None
    sequence: Callable | None = None

    @property
    def stateful(self) -> bool:
        return self.step is not None


KERNELS: dict[str, Kernel] = {}


def register_kernel(kind: str, kernel: Kernel) -> None:
    if kind in KERNELS:
        raise TypeError(f"kernel for {kind!r} registered twice")
    KERNELS[kind] = kernel


def kernel_for(kind: str) -> Kernel | None:
    return KERNELS.get(kind)


def _b(a):
    """A per-sample parameter with a leading batch axis of 1 (explicit broadcasting)."""
    return a[None]


# -- ports, weights ---------------------------------------------------------------------------------------
def _identity(node, p, x, ctx):
    return x


def _affine(node, p, x, ctx):
    return jnp.matmul(x, p["weight"].T, precision=ctx.precision) + _b(p["bias"])


def _linear(node, p, x, ctx):
    return jnp.matmul(x, p["weight"].T, precision=ctx.precision)


def _scale(node, p, x, ctx):
    return x * _b(p["scale"])


def _threshold(node, p, x, ctx):
    return ctx.spike_fn(x - _b(p["threshold"]), strict=True)


def _flatten(node, p, x, ctx):
    return x.reshape(x.shape[0], *flatten_shape(tuple(x.shape[1:]), *node.dims))


def _conv(node, p, x, ctx):
    nd = node.ndim
    spec = ("NCH", "OIH", "NCH") if nd == 1 else ("NCHW", "OIHW", "NCHW")
    y = lax.conv_general_dilated(
        x,
        p["weight"].astype(x.dtype),
        window_strides=spatial(node.stride, nd, "stride"),
        padding=node.pads(),
        rhs_dilation=spatial(node.dilation, nd, "dilation"),
        dimension_numbers=spec,
        feature_group_count=int(np.asarray(node.groups).reshape(-1)[0]),
        precision=ctx.precision,
    )
    return y + p["bias"].reshape(1, -1, *([1] * nd))


def _pool(average: bool):
    def apply(node, p, x, ctx):
        k, s, pad = node.window()
        y = lax.reduce_window(
            x,
            np.zeros((), x.dtype),  # a concrete 0: lax then uses its sum window, which has a gradient (jnp.zeros
            lax.add,                # is a tracer under jit, and the generic reduce_window has no transpose)
            (1, 1, *k),
            (1, 1, *s),
            ((0, 0), (0, 0), *((q, q) for q in pad)),
        )
        return y / (k[0] * k[1]) if average else y

    return apply


# -- spyx.Neuron ----------------------------------------------------------------------------------------
def _neuron_init(node, batch, dtype):
    shape = (batch, *node.shape)
    v0 = jnp.zeros(shape, dtype) if node.v0 is None else jnp.broadcast_to(jnp.asarray(node.v0, dtype), shape)
    state = {"v": v0}
    if node.synapse:
        state["i"] = jnp.zeros(shape, dtype)
    if node.reset_delay:
        state["s"] = jnp.zeros(shape, dtype)
    return state


def neuron_step(node, p, state, x, ctx):
    """One step of ``spyx.Neuron`` (docs/semantics.md), steps 1-7 in order, on ``(B, *shape)`` arrays."""
    v = state["v"]
    s_prev = state.get("s")
    thr = _b(p["v_threshold"]) if node.fires else None
    # 1. delayed reset
    delayed_value = node.fires and node.reset_delay and node.reset == "value"
    if delayed_value and node.delayed_reset_on == "v":
        v = jnp.where(s_prev > 0, _b(p["v_reset"]), v)
    new = {}
    # 2. synapse and 3. integrate, summed in the documented order (float32 rounding then matches the peers')
    u = _b(p["beta"]) * v + _b(p["g_x"]) * x
    if node.synapse:
        i_prev = state["i"]
        i = _b(p["alpha"]) * i_prev + _b(p["w_syn"]) * x
        new["i"] = i
        u = u + _b(p["g_prev"]) * i_prev + _b(p["g_syn"]) * i
    u = u + _b(p["bias"])
    if node.fires and node.reset_delay and node.reset == "subtract":
        u = u - s_prev * thr
    if delayed_value and node.delayed_reset_on == "u":
        u = jnp.where(s_prev > 0, _b(p["v_reset"]), u)
    if not node.fires:
        v = u
        out = None
    else:
        # 4. spike
        w = u
        if node.reset_guard:  # the test sees the membrane as if last step's spike had been subtracted
            w = u - lax.stop_gradient((state["v"] > thr).astype(u.dtype)) * thr
        h = ctx.spike_fn(w - thr, strict=node.spike_test == "gt")
        if node.spike_count == "multi":
            count = jnp.where(h > 0, jnp.floor(w / thr), 0.0).astype(u.dtype)
            if node.max_spikes > 0:
                count = jnp.minimum(count, node.max_spikes)
            s = h + lax.stop_gradient(count - h)
        else:
            s = h
        # 5. reset
        if node.reset_delay or node.reset == "none":
            v = u
        elif node.reset == "value":
            v = jnp.where(s > 0, _b(p["v_reset"]), u)
        else:
            v = u - s * thr
        if node.reset_delay:
            new["s"] = s
        out = s
    # 6. clamp
    pre_clamp = v
    if node.v_min is not None:
        v = jnp.maximum(v, _b(p["v_min"]))
    new["v"] = v
    # 7. output
    if out is None:
        out = pre_clamp if node.output_pre_clamp else v
    return new, out


_NEURON_PARAMS = (
    "beta",
    "g_x",
    "bias",
    "alpha",
    "w_syn",
    "g_prev",
    "g_syn",
    "v_threshold",
    "v_reset",
    "v_min",
)


# -- spyx.Shift -----------------------------------------------------------------------------------------
def _depth(node) -> int:
    return int(np.max(node.steps)) if node.steps.size else 0


def _shift_init(node, batch, dtype):
    return {"buf": jnp.zeros((_depth(node), batch, *node.steps.shape), dtype)}


_MAX_DISTINCT_SHIFTS = 16  # per-element delays with more distinct values than this use one gather


def _by_steps(node, pick):
    """``sum_d where(steps == d, pick(d), 0)`` over the distinct step counts ``d`` of ``node`` (one slice when
    they are all equal, the common case); ``None`` when there are too many distinct values."""
    values = np.unique(node.steps)
    if values.size == 1:
        return pick(int(values[0]))
    if values.size > _MAX_DISTINCT_SHIFTS:
        return None
    out = None
    for d in values:
        value = pick(int(d))
        mask = (node.steps == d).reshape((1,) * (value.ndim - node.steps.ndim) + node.steps.shape)
        part = jnp.where(jnp.asarray(mask), value, 0)
        out = part if out is None else out + part
    return out


def _shift_peek(node, state):
    """Output of a shift with every step >= 1: ``x_{t - steps}`` from the buffer (``buf[k] = x_{t-1-k}``)."""
    buf = state["buf"]
    out = _by_steps(node, lambda d: buf[max(d - 1, 0)])
    if out is not None:
        return out
    idx = np.broadcast_to(np.clip(node.steps - 1, 0, None), buf.shape[1:])[None]
    return jnp.take_along_axis(buf, jnp.asarray(idx), axis=0)[0]


def _shift_step(node, p, state, x, ctx):
    buf = state["buf"]
    if buf.shape[0] == 0:
        return state, x
    y = jnp.where(jnp.asarray(node.steps == 0)[None], x, _shift_peek(node, state))
    return {"buf": jnp.concatenate([x[None], buf[:-1]], axis=0)}, y


def _shift_sequence(node, p, state, xs, ctx):
    """``y[t] = x[t - steps]`` over a whole sequence: for each distinct step count ``d`` a slice of the buffer
    and the sequence, ``ext[k - d : k - d + T]`` (the buffer supplies ``t < steps``). No index array of size T,
    so compile time does not grow with T; more than ``_MAX_DISTINCT_SHIFTS`` distinct delays use one gather."""
    buf = state["buf"]
    k, t = buf.shape[0], xs.shape[0]
    if k == 0:
        return xs, state
    ext = jnp.concatenate([buf[::-1], xs], axis=0)
    ys = _by_steps(node, lambda d: lax.slice_in_dim(ext, k - d, k - d + t, axis=0))
    if ys is None:
        idx = k + np.arange(t).reshape(t, *([1] * (xs.ndim - 1))) - node.steps.reshape(1, 1, *node.steps.shape)
        ys = jnp.take_along_axis(ext, jnp.asarray(np.broadcast_to(idx, xs.shape)), axis=0)
    return ys, {"buf": ext[t:][::-1]}


for _kind in ("Input", "Output"):
    register_kernel(_kind, Kernel(apply=_identity))
register_kernel("Affine", Kernel(trainable=("weight", "bias"), apply=_affine))
register_kernel("Linear", Kernel(trainable=("weight",), apply=_linear))
register_kernel("Scale", Kernel(trainable=("scale",), apply=_scale))
register_kernel("Threshold", Kernel(trainable=("threshold",), apply=_threshold))
register_kernel("Flatten", Kernel(apply=_flatten))
register_kernel("Conv1d", Kernel(trainable=("weight", "bias"), apply=_conv))
register_kernel("Conv2d", Kernel(trainable=("weight", "bias"), apply=_conv))
register_kernel("SumPool2d", Kernel(apply=_pool(False)))
register_kernel("AvgPool2d", Kernel(apply=_pool(True)))
register_kernel("spyx.Neuron", Kernel(trainable=_NEURON_PARAMS, init=_neuron_init, step=neuron_step))
register_kernel(
    "spyx.Shift", Kernel(init=_shift_init, step=_shift_step, peek=_shift_peek, sequence=_shift_sequence)
)


def trainable_params(node: Node) -> dict[str, np.ndarray]:
    kernel = KERNELS[node.kind]
    return {k: getattr(node, k) for k in kernel.trainable if getattr(node, k, None) is not None}


# -- whole-sequence form of reset-free linear neurons ------------------------------------------------------
def is_linear_neuron(node) -> bool:
    """A neuron whose step is affine in its state (no spikes, no clamp): a linear recurrence over time."""
    return node.kind == "spyx.Neuron" and not node.fires and node.v_min is None and not node.reset_delay


def _linear_recurrence(decay, drive, h0):
    """``h_t = decay * h_{t-1} + drive_t`` for all t at once (the associative scan of :mod:`spyx.scan`)."""
    return linear_recurrence(decay, drive, h0, method="associative")


def linear_neuron_sequence(node, p, state, xs, ctx):
    """The same function as scanning :func:`neuron_step` for a linear neuron, as parallel prefix scans."""
    ones = jnp.ones((xs.shape[0], 1, *node.shape), xs.dtype)

    def per_step(a):
        return ones * a[None, None]

    u_drive = per_step(p["g_x"]) * xs + per_step(p["bias"])
    new = {}
    if node.synapse:
        i_seq = _linear_recurrence(per_step(p["alpha"]), per_step(p["w_syn"]) * xs, state["i"])
        i_prev = jnp.concatenate([state["i"][None], i_seq[:-1]], axis=0)
        u_drive = u_drive + per_step(p["g_prev"]) * i_prev + per_step(p["g_syn"]) * i_seq
        new["i"] = i_seq[-1]
    v_seq = _linear_recurrence(jnp.broadcast_to(per_step(p["beta"]), u_drive.shape), u_drive, state["v"])
    new["v"] = v_seq[-1]
    traces = {"v": v_seq, **({"i": i_seq} if node.synapse else {})}
    return v_seq, new, traces
