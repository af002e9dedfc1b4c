"""Compiled programs on the fused neuron kernels of :mod:`spyx.kernels` (the layer schedule's fast path).

A ``spyx.Neuron`` outside a cycle runs its own time loop in the layer schedule. Where its step is one of the
fused kernels' cells, that loop can be the kernel (forward and backward one pass over ``T`` each, the state in
registers) instead of a ``lax.scan`` of :func:`spyx.backend.kernels.neuron_step`. Two patterns are recognised
(``docs/kernels.md``); every other neuron keeps the scan:

* **delayed subtractive reset** (what ``spyx.nn.LIF``/``IF`` lower to, and snnTorch/Norse LIFs under their
  profiles): ``fires``, ``reset="subtract"``, ``reset_delay``, no synapse, no clamp, no reset guard, one spike per
  step, the test ``u > thr``. Its step ``u_t = beta v_{t-1} + g_x x_t + bias - s_{t-1} thr``, ``s_t = H(u_t -
  thr)``, ``v_t = u_t`` is the cell of :mod:`spyx.kernels.delayed_reset` with ``x'_t = g_x x_t + bias``, which
  recomputes the carried spike ``s_{t-1}`` as ``H(v_{t-1} - thr)`` (what any step leaves) and outputs the new
  membrane's spike. The kernel runs all ``T`` steps from the carried ``v``; a carried ``s`` that is not ``H(v -
  thr)`` (set by hand) is corrected in the first input, ``x'_0 + (H(v - thr) - s) thr``, zero otherwise.
* **immediate value reset** (NIR's and Sinabs' IF/LIF under the ``nir`` profile): ``fires``,
  ``reset="value"``, no delay, no synapse, no clamp, no reset guard, one spike per step, the test ``u > thr``:
  ``u_t = beta v_{t-1} + g_x x_t + bias``, ``s_t = H(u_t - thr)``, ``v_t = v_reset`` where ``s_t`` else ``u_t``. The
  kernel's cell (:mod:`spyx.kernels.value_reset`) carries the pre-reset ``u`` and applies the previous step's
  reset first; it runs all ``T`` steps from ``u = v`` (carried), whose reset is a no-op unless ``v > thr`` (set by
  hand), which the first input corrects by ``beta (v - v_reset)``. The final ``v`` is the last ``u`` reset by the
  last spike.
* **leaky integrator** (LI readouts): no spikes, no synapse, no clamp, no delayed reset: ``v_t = beta v_{t-1} +
  g_x x_t + bias``, the LI cell with ``x' = g_x x + bias``.

So no ``[T, ...]`` array is sliced or concatenated around a kernel (in the SHD profile those two copies were a
third of the device time). The fused path sums ``beta v + (g_x x + bias)`` where the scan sums ``(beta v + g_x x)
+ bias``: the same function, rounded differently in the last bit when ``bias`` is not zero (lowered ``spyx.nn``
models have ``g_x = 1``, ``bias = 0`` and compute identical spikes). Decays are not clipped here (a program's
``beta`` is what the graph says). ``fused="auto"`` (the default of :func:`spyx.compile`) takes this path only on GPU
with float32 or bfloat16 and a :class:`spyx.axn.SpikeFunction`, where the Pallas kernels run; ``"scan"`` and
``"interpret"`` force the kernels' scan driver or the Pallas kernel in interpret mode (for tests on CPU), ``"off"``
never.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from spyx.axn import SpikeFunction
from spyx.errors import OptionError
from spyx.kernels.li import LI_CELL
from spyx.kernels.delayed_reset import DELAYED_SUBTRACT_CELL
from spyx.kernels.sequence import run_cell
from spyx.kernels.value_reset import VALUE_RESET_CELL

__all__ = ["FUSED", "check_fused", "fused_neuron_sequence", "fusable"]

FUSED = ("auto", "off", "pallas", "scan", "interpret")


def check_fused(fused: str) -> str:
    if fused not in FUSED:
        raise OptionError(f"fused must be one of {', '.join(FUSED)}, got {fused!r}")
    return fused


def fusable(node) -> str | None:
    """``"lif"``, ``"value"`` or ``"li"`` when a fused kernel computes this node's step (module docstring), else
    ``None``."""
    if node.kind != "spyx.Neuron" or node.synapse or node.v_min is not None:
        return None
    if not node.fires:
        return None if node.reset_delay else "li"
    if node.reset_guard or node.spike_count == "multi" or node.spike_test != "gt":
        return None
    if node.reset == "subtract" and node.reset_delay:
        return "lif"
    if node.reset == "value" and not node.reset_delay:
        return "value"
    return None


def _impl(fused: str, dtype, spike_fn) -> tuple[str, bool] | None:
    if fused == "off" or dtype not in (jnp.float32, jnp.bfloat16):
        return None
    if fused == "auto":
        if jax.default_backend() != "gpu" or not isinstance(spike_fn, SpikeFunction):
            return None
        return "pallas", False
    return ("pallas", True) if fused == "interpret" else (fused, False)


def fused_neuron_sequence(fused: str, node, p, state, xs, ctx):
    """``(outputs [T, B, *shape], new state)`` of the neuron by a fused kernel, or ``None`` where none applies."""
    pattern = fusable(node)
    how = _impl(fused, xs.dtype, ctx.spike_fn) if pattern else None
    if how is None or xs.shape[0] == 0:
        return None
    if CHANNELS_LAST and xs.ndim >= 4:
        return _channels_last(pattern, how, node, p, state, xs, ctx)
    return _sequence(pattern, how, node, p, state, xs, ctx)


# A neuron of a convolutional map ([T, B, C, *spatial]: NIR's channels-first layout) runs on its channels-last
# permutation. The kernel is a custom call that takes its operands row-major, while XLA gives 2-D convolutions on
# Hopper NHWC buffers: in channels-first order every neuron layer between two convolutions costs two layout copies
# of its whole sequence (cnn_sinabs: 0.74 ms of transposes in the H200 profile, benchmarks/README.md); in
# channels-last order the permutations are bitcasts. An elementwise neuron computes the same numbers either way.
CHANNELS_LAST = True
_PARAMS = ("beta", "g_x", "bias", "v_threshold", "v_reset")  # what the fused patterns read


def _channels_last(pattern, how, node, p, state, xs, ctx):
    nf = xs.ndim - 2  # feature axes (C, *spatial)
    perm = (*range(1, nf), 0)  # C to the end
    inv = (nf - 1, *range(nf - 1))

    def permute(a, lead, order):
        return jnp.transpose(a, (*range(lead), *(lead + i for i in order)))

    feat = xs.shape[2:]
    p = {**p, **{k: permute(jnp.broadcast_to(jnp.asarray(p[k], xs.dtype), feat), 0, perm) for k in _PARAMS if k in p}}
    state = {k: permute(v, 1, perm) for k, v in state.items()}
    ys, new = _sequence(pattern, how, node, p, state, permute(xs, 2, perm), ctx)
    return permute(ys, 2, inv), {k: permute(v, 1, inv) for k, v in new.items()}


def _first_step_plus(drive, corr):
    """``drive`` with ``corr`` added to its first step, elementwise (a ``where`` on the time index) so that XLA
    fuses it into the loop that computes ``drive``: ``drive.at[0].add`` made a dynamic-update-slice that copied the
    whole sequence once more on cnn_sinabs (0.3 ms a layer in the H200 profile)."""
    first = lax.broadcasted_iota(jnp.int32, drive.shape, 0) == 0
    return drive + jnp.where(first, corr[None], jnp.zeros((), drive.dtype))


def _sequence(pattern, how, node, p, state, xs, ctx):
    impl, interpret = how
    kw = dict(impl=impl, interpret=interpret, config=None, what=f"fused neuron {node.kind}")

    def bcast(a):
        return jnp.broadcast_to(jnp.asarray(a, xs.dtype), xs.shape[1:])

    beta, g_x, bias = bcast(p["beta"]), bcast(p["g_x"]), bcast(p["bias"])
    drive = g_x[None] * xs + bias[None]
    if pattern == "li":
        v_seq, (v,) = run_cell(LI_CELL, drive, (state["v"],), (beta,), None, decays=(), **kw)
        return v_seq, {"v": v}
    thr = bcast(p["v_threshold"])
    v = state["v"]
    if pattern == "value":
        # the cell starts from a pre-reset u and resets it first; from u = v that reset is a no-op unless v > thr
        # (a state set by hand): the first input then adds back what the reset took, beta (v - v_reset)
        vr = bcast(p["v_reset"])
        corr = beta * (v - jnp.where(ctx.spike_fn(v - thr, strict=True) > 0, vr, v))
        spikes, (u,) = run_cell(VALUE_RESET_CELL, _first_step_plus(drive, corr), (v,), (beta, thr, vr), ctx.spike_fn,
                                decays=(), **kw)
        return spikes, {"v": jnp.where(spikes[-1] > 0, vr, u)}
    # the cell recomputes the carried spike as H(v - thr); where the carried s differs (a state set by hand) the
    # first input corrects the reset term. Both terms are differentiated through the surrogate and cancel in v.
    corr = (ctx.spike_fn(v - thr, strict=True) - state["s"]) * thr
    spikes, (v,) = run_cell(DELAYED_SUBTRACT_CELL, _first_step_plus(drive, corr), (v,), (beta, thr), ctx.spike_fn,
                            decays=(), **kw)
    return spikes, {"v": v, "s": spikes[-1]}
