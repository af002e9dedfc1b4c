"""Compiled programs on the fused neuron kernels of :mod:`spyx.kernels` (the layer schedule's fast path).

A ``spyx.Neuron`` outside a cycle runs its own time loop in the layer schedule. Where its step is one of the
fused kernels' cells, that loop can be the kernel (forward and backward one pass over ``T`` each, the state in
registers) instead of a ``lax.scan`` of :func:`spyx.backend.kernels.neuron_step`. Two patterns are recognised
(``docs/kernels.md``); every other neuron keeps the scan:

* **delayed subtractive reset** (what ``spyx.nn.LIF``/``IF`` lower to, and snnTorch/Norse LIFs under their
  profiles): ``fires``, ``reset="subtract"``, ``reset_delay``, no synapse, no clamp, no reset guard, one spike per
  step, the test ``u > thr``. Its step ``u_t = beta v_{t-1} + g_x x_t + bias - s_{t-1} thr``, ``s_t = H(u_t -
  thr)``, ``v_t = u_t`` is the LIF cell's ``s = H(V - thr), V' = beta V + x' - s thr`` with ``V_t = v_{t-1}`` and
  ``x'_t = g_x x_t + bias``, one step behind: the kernel's output at ``t`` is ``s_{t-1}``. So step 0 runs here
  exactly as the scan would (it uses the carried ``s`` as given), the kernel runs steps 1..T-1 from ``v_0``, and
  the last spike ``s_{T-1} = H(v_{T-1} - thr)`` is computed from the final membrane (with the surrogate, so a loss
  on the final state is differentiated too).
* **immediate value reset** (NIR's and Sinabs' IF/LIF under the ``nir`` profile): ``fires``,
  ``reset="value"``, no delay, no synapse, no clamp, no reset guard, one spike per step, the test ``u > thr``:
  ``u_t = beta v_{t-1} + g_x x_t + bias``, ``s_t = H(u_t - thr)``, ``v_t = v_reset`` where ``s_t`` else ``u_t``. The
  kernel's cell (:mod:`spyx.kernels.value_reset`) carries the pre-reset ``u``, so step 0 runs here from the carried
  ``v``, the kernel runs steps 1..T-1 from ``u_0``, and the final ``v`` is the last ``u`` reset by the last spike.
* **leaky integrator** (LI readouts): no spikes, no synapse, no clamp, no delayed reset: ``v_t = beta v_{t-1} +
  g_x x_t + bias``, the LI cell with ``x' = g_x x + bias``.

The fused path sums ``beta v + (g_x x + bias)`` where the scan sums ``(beta v + g_x x) + bias``: the same
function, rounded differently in the last bit when ``bias`` is not zero (lowered ``spyx.nn`` models have
``g_x = 1``, ``bias = 0`` and compute identical spikes). Decays are not clipped here (a program's ``beta`` is what
the graph says). ``fused="auto"`` (the default of :func:`spyx.compile`) takes this path only on GPU with float32 or
bfloat16 and a :class:`spyx.axn.SpikeFunction`, where the Pallas kernels run; ``"scan"`` and ``"interpret"`` force the
kernels' scan driver or the Pallas kernel in interpret mode (for tests on CPU), ``"off"`` never.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from spyx.axn import SpikeFunction
from spyx.errors import OptionError
from spyx.kernels.li import LI_CELL
from spyx.kernels.lif import LIF_CELL
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
    if pattern == "value":
        u0 = beta * state["v"] + (g_x * xs[0]) + bias  # step 0 as neuron_step computes it, from the carried v
        return _value_reset(u0, drive, ctx, beta, thr, bcast(p["v_reset"]), kw)
    # step 0 exactly as neuron_step computes it, from the carried spike s_{-1}
    u0 = beta * state["v"] + (g_x * xs[0]) + bias - state["s"] * thr
    if xs.shape[0] == 1:
        s0 = ctx.spike_fn(u0 - thr, strict=True)
        return s0[None], {"v": u0, "s": s0}
    spikes, (v,) = run_cell(LIF_CELL, drive[1:], (u0,), (beta, thr), ctx.spike_fn, decays=(), **kw)
    s_last = ctx.spike_fn(v - thr, strict=True)  # the kernel's outputs are s_0 .. s_{T-2}
    return jnp.concatenate([spikes, s_last[None]], axis=0), {"v": v, "s": s_last}


def _value_reset(u0, drive, ctx, beta, thr, v_reset, kw):
    """The value-reset pattern from step 0's pre-reset membrane ``u0``: the kernel runs steps 1..T-1."""
    s0 = ctx.spike_fn(u0 - thr, strict=True)
    if drive.shape[0] == 1:
        return s0[None], {"v": jnp.where(s0 > 0, v_reset, u0)}
    spikes, (u,) = run_cell(VALUE_RESET_CELL, drive[1:], (u0,), (beta, thr, v_reset), ctx.spike_fn, decays=(), **kw)
    return jnp.concatenate([s0[None], spikes], axis=0), {"v": jnp.where(spikes[-1] > 0, v_reset, u)}
