"""A small NumPy interpreter of NIR graphs that runs every neuron as the generic ``spyx.Neuron`` step.

Each peer profile is a *function from a NIR neuron node, dt and the user's options to generic parameters*
(``alpha, w_syn, beta, g_x, g_prev, g_syn, bias, v_threshold, v_reset, v_min`` plus the static options of
docs/neuron-step.md). The step itself is one function, :func:`neuron_step`, identical for all peers. Where a
peer computes something the documented step cannot express, the profile sets one of the *extension* fields of
:class:`Neuron` (``delayed_reset_on``, ``reset_guard``, ``output_pre_clamp``); each is documented where
it is defined and reported in docs/interop-research.md as an option spyx needs.

Usage::

    python -m tests.interop.peers.numpy_ref FIXTURE_DIR   # reproduce every case, print a table
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

F32 = np.float32


# ----------------------------------------------------------------------------------------------------------
# The generic neuron
# ----------------------------------------------------------------------------------------------------------
@dataclass
class Neuron:
    """One ``spyx.Neuron`` node: parameters (arrays broadcastable to the neuron shape) and static options."""

    beta: Any
    g_x: Any = 1.0
    bias: Any = 0.0
    v_threshold: Any = 1.0
    v_reset: Any = 0.0
    v_min: Any = None
    alpha: Any = 0.0
    w_syn: Any = 1.0
    g_prev: Any = 0.0
    g_syn: Any = 0.0
    synapse: bool = False
    spiking: bool = True
    spike_test: str = "gt"  # "gt" | "ge"
    spike_count: str = "binary"  # "binary" | "multi"
    max_spikes: int = 0
    reset: str = "value"  # "value" | "subtract" | "none"
    reset_delay: bool = False
    v0: Any = 0.0  # initial membrane (norse starts at v_leak; IAF at v_reset)
    # --- extensions: behaviour of a peer that the documented step cannot express -------------------------
    # delayed value reset applied to the integrated u ("u": snnTorch Synaptic/RLeaky/RSynaptic zero reset,
    # `mem = (1-reset) * (beta*mem + syn)`) instead of to v before the decay ("v": the documented step).
    delayed_reset_on: str = "v"
    # snnTorch reset_delay=False with subtract: the spike test sees u - H(v_{t-1} - thr)*thr, while the kept
    # membrane is u - s_t*thr ("avoid double reset" in snntorch/_neurons/leaky.py:222-229).
    reset_guard: bool = False
    # sinabs ExpLeak / LIF with spike_fn=None return the membrane *before* the min_v_mem clamp.
    output_pre_clamp: bool = False
    # Spyx 1.0 emits the spike of the previous membrane: every consumer reads this neuron's output of the
    # previous step (zeros at t = 0), i.e. the documented step followed by a one-step spyx.Shift.
    shift_output: bool = False
    notes: list[str] = field(default_factory=list)


def neuron_init(n: Neuron, shape, dtype):
    z = np.zeros(shape, dtype)
    return {"v": z + np.asarray(n.v0, dtype), "i": z.copy(), "s": z.copy()}


def neuron_step(n: Neuron, st: dict, x: np.ndarray) -> tuple[np.ndarray, dict]:
    """The documented step (docs/neuron-step.md, steps 1-7) plus the extensions above."""
    dt_ = x.dtype
    c = lambda a: np.asarray(a, dtype=dt_)  # noqa: E731
    v, i_prev, s_prev = st["v"], st["i"], st["s"]
    thr = c(n.v_threshold)
    delayed_sub = 0.0
    if n.spiking and n.reset_delay:  # 1. delayed reset
        if n.reset == "value" and n.delayed_reset_on == "v":
            v = np.where(s_prev > 0, c(n.v_reset), v)
        elif n.reset == "subtract":
            delayed_sub = s_prev * thr
    i = i_prev
    if n.synapse:  # 2. synapse
        i = c(n.alpha) * i_prev + c(n.w_syn) * x
    u = c(n.beta) * v  # 3. integrate
    if np.any(c(n.g_x) != 0):
        u = u + c(n.g_x) * x
    if n.synapse:
        if np.any(c(n.g_prev) != 0):
            u = u + c(n.g_prev) * i_prev
        u = u + c(n.g_syn) * i
    if np.any(c(n.bias) != 0):
        u = u + c(n.bias)
    if n.spiking and n.reset_delay and n.reset == "subtract":
        u = u - delayed_sub
    if n.spiking and n.reset_delay and n.reset == "value" and n.delayed_reset_on == "u":
        u = np.where(s_prev > 0, c(n.v_reset), u)
    if not n.spiking:
        v_new = u
        out = v_new
        if n.v_min is not None:
            v_new = np.maximum(v_new, c(n.v_min))
            out = u if n.output_pre_clamp else v_new
        return out, {"v": v_new, "i": i, "s": s_prev}
    u_test = u
    if n.reset_guard:  # snnTorch reset_delay=False, subtract
        u_test = u - (st["v"] > thr).astype(dt_) * thr
    passed = (u_test > thr) if n.spike_test == "gt" else (u_test >= thr)  # 4. spike
    if n.spike_count == "binary":
        s = passed.astype(dt_)
    else:
        s = np.where(passed, np.floor(u_test / thr), 0).astype(dt_)
        if n.max_spikes:
            s = np.minimum(s, dt_.type(n.max_spikes))
    if n.reset_delay or n.reset == "none":  # 5. reset
        v_new = u
    elif n.reset == "value":
        v_new = np.where(s > 0, c(n.v_reset), u)
    else:
        v_new = u - s * thr
    if n.v_min is not None:  # 6. clamp
        v_new = np.maximum(v_new, c(n.v_min))
    return s, {"v": v_new, "i": i, "s": s}


# ----------------------------------------------------------------------------------------------------------
# Profiles: NIR node + dt + options -> Neuron
# ----------------------------------------------------------------------------------------------------------
def _a(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _snap1(g: np.ndarray, tol=1e-5) -> np.ndarray:
    """Gains the exporter meant to be exactly 1 (r*dt/tau = 1) come back as 1 +- 1 ulp: snap them."""
    g = _a(g)
    return np.where(np.abs(g - 1.0) < tol, 1.0, g)


def _torch_exp_decay(dt: float, tau) -> np.ndarray:
    """torch's float32 ``exp(-dt / tau)``: ``-dt/tau`` is computed as ``reciprocal(tau) * -dt`` in float32."""
    tau32 = np.asarray(tau, F32)
    return np.exp((F32(1.0) / tau32) * F32(-dt)).astype(F32)


def _reset_opts(reset: str) -> str:
    return {"subtract": "subtract", "zero": "value", "none": "none", "value": "value"}[reset]


def profile_snntorch(kind: str, node, dt: float, opt: dict, ctx: dict) -> Neuron:
    """snnTorch 1.0 native step. File convention (export_nir.py): dt = 1e-4, tau = dt/(1-beta), r = tau/dt,
    w_in = tau_syn/dt, v_leak = 0, v_reset = 0. So beta = 1 - dt/tau, g_x = r*dt/tau (= 1), threshold as
    stored."""
    dt = 1e-4 if dt is None else dt
    reset = _reset_opts(opt.get("reset", "subtract"))
    delay = bool(opt.get("reset_delay", True))
    common = dict(
        v_threshold=_a(node.v_threshold),
        v_reset=_a(node.v_reset),
        spike_test="gt",
        reset=reset,
        reset_delay=delay and reset != "none",
    )
    if kind == "LIF":
        beta = np.clip((1.0 - dt / _a(node.tau)).astype(F32), 0, 1)  # Leaky clamps beta to [0, 1]
        n = Neuron(beta=beta, g_x=_snap1(_a(node.r) * dt / _a(node.tau)), **common)
        if ctx.get("in_cycle") and reset == "value" and delay:
            n.delayed_reset_on = "u"  # RLeaky._base_zero: (1-reset) * (beta*mem + x + rec)
    elif kind == "CubaLIF":
        n = Neuron(
            beta=np.clip((1.0 - dt / _a(node.tau_mem)).astype(F32), 0, 1),
            g_x=0.0,
            synapse=True,
            alpha=np.clip((1.0 - dt / _a(node.tau_syn)).astype(F32), 0, 1),
            w_syn=_snap1(_a(node.w_in) * dt / _a(node.tau_syn)),
            g_syn=_snap1(_a(node.r) * dt / _a(node.tau_mem)),
            **common,
        )
        if reset == "value" and delay:
            n.delayed_reset_on = "u"  # Synaptic._base_zero: mem -= reset * (beta*mem + syn)
    else:
        raise NotImplementedError(f"snnTorch exports no {kind} node")
    if not delay and reset == "subtract":
        n.reset_guard = True
    return n


def profile_norse(kind: str, node, dt: float, opt: dict, ctx: dict) -> Neuron:
    """Norse 1.1 native step (explicit Euler, a = dt/tau). ``norse.to_nir`` writes tau = dt * tau_true
    (export_nir.py: ``tau=dt / module.p.tau_mem_inv``), so with ``tau_written_times_dt`` (files from
    norse.to_nir) tau_true = tau_file/dt. r and w_in are ignored natively (norse has no input gain)."""
    scaled = bool(opt.get("tau_written_times_dt", True))

    def a_of(tau):
        tau = _a(tau)
        tau_inv = (dt / tau) if scaled else (1.0 / tau)  # the native tau_mem_inv
        return (F32(dt) * np.asarray(tau_inv, F32)).astype(F32)

    v_reset = _a(opt["v_reset"]) if "v_reset" in opt else _a(getattr(node, "v_reset", 0.0))
    reset = "subtract" if opt.get("reset") == "subtract" else "value"
    if kind == "IF":
        return Neuron(
            beta=1.0, g_x=1.0, v_threshold=_a(node.v_threshold), v_reset=v_reset, reset=reset, v0=v_reset
        )  # IAFCell.initial_state: v = v_reset
    if kind in ("LIF", "LI"):
        a = a_of(node.tau)
        n = Neuron(
            beta=F32(1) - a,
            g_x=a,
            bias=a * _a(node.v_leak),
            spiking=kind == "LIF",
            v_threshold=_a(getattr(node, "v_threshold", 1.0)),
            v_reset=v_reset,
            reset=reset,
            v0=_a(node.v_leak),
        )  # LIFBoxCell/LIBoxCell.initial_state: v = v_leak
        return n
    if kind == "CubaLIF":
        am, as_ = a_of(node.tau_mem), a_of(node.tau_syn)
        # native: i' = i + x; v += am*((v_leak - v) + i'); i = i' - as*i'. Generic state i_t := i'_t.
        return Neuron(
            beta=F32(1) - am,
            g_x=0.0,
            synapse=True,
            alpha=F32(1) - as_,
            w_syn=1.0,
            g_syn=am,
            bias=am * _a(node.v_leak),
            v_threshold=_a(node.v_threshold),
            v_reset=v_reset,
            reset=reset,
            v0=_a(node.v_leak),
        )  # LIFCell.initial_state: v = v_leak, i = 0
    raise NotImplementedError(f"norse profile has no {kind}")


def profile_sinabs(kind: str, node, dt: float, opt: dict, ctx: dict) -> Neuron:
    """Sinabs 3.1: tau in time steps, alpha = exp(-1/tau) (float32), v = alpha*v + (1-alpha if norm_input)*x,
    MultiSpike (v>0)*trunc(v/thr) (= ge + floor for thr > 0), MembraneSubtract, optional min_v_mem clamp."""
    norm = bool(opt.get("norm_input", kind == "LIF"))
    vmin = opt.get("min_v_mem")
    thr = _a(getattr(node, "v_threshold", 1.0))
    if vmin == "-thr":
        vmin = -thr
    multi = opt.get("spike_fn", "multi") == "multi"
    reset = "value" if opt.get("reset_fn", "subtract") == "zero" else "subtract"
    base = dict(
        v_threshold=thr,
        v_reset=0.0,
        spike_test="ge",
        spike_count="multi" if multi else "binary",
        reset=reset,
        v_min=None if vmin is None else _a(vmin),
    )
    if kind == "IF":
        return Neuron(beta=1.0, g_x=1.0, **base)
    if kind in ("LIF", "LI"):
        beta = np.exp(F32(-1.0) / np.asarray(node.tau, F32)).astype(F32)
        g = (F32(1) - beta) if norm else 1.0
        n = Neuron(beta=beta, g_x=g, spiking=kind == "LIF", **base)
        n.output_pre_clamp = kind == "LI"
        if kind == "LIF" and opt.get("tau_syn") is not None:  # not in the file: the user passes it
            a_s = np.exp(F32(-1.0) / np.asarray(opt["tau_syn"], F32)).astype(F32)
            n = replace(n, g_x=0.0, synapse=True, alpha=a_s, w_syn=a_s, g_syn=g)  # i = a_s*(i + x)
        return n
    raise NotImplementedError(f"sinabs profile has no {kind}")


def rockpool_dt_from_r(tau, r) -> float:
    """rockpool writes r = tau*exp(-dt/tau)/dt; invert for dt (monotonic in dt) by bisection on the
    first neuron."""
    tau, r = float(np.ravel(tau)[0]), float(np.ravel(r)[0])
    lo, hi = 1e-9 * tau, 10 * tau
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        if tau * np.exp(-mid / tau) / mid > r:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt(lo * hi))


def profile_rockpool(kind: str, node, dt: float, opt: dict, ctx: dict) -> Neuron:
    """Rockpool 3.1 torch modules. decay = exp(-dt/tau) (torch float32). Multi-spike n =
    (v>=thr)*floor(v/thr),
    capped at max_spikes_per_dt (2**16), subtract. LIFTorch: isyn = (isyn + x)*beta_syn; v = alpha*v +
    isyn + bias.
    ExpSynTorch: isyn = (isyn + x)*beta. The exporter writes v_leak = 0, so the bias is lost."""
    if dt is None:
        dt = rockpool_dt_from_r(node.tau_mem if kind == "CubaLIF" else node.tau, node.r)
    base = dict(
        v_threshold=_a(getattr(node, "v_threshold", 1.0)),
        spike_test="ge",
        spike_count="multi",
        max_spikes=int(opt.get("max_spikes_per_dt", 2**16)),
        reset="subtract",
    )
    bias = _a(opt["bias"]) if "bias" in opt else _a(node.v_leak)  # the file's v_leak is always 0
    if kind == "CubaLIF":
        a_s = _torch_exp_decay(dt, node.tau_syn)
        return Neuron(
            beta=_torch_exp_decay(dt, node.tau_mem),
            g_x=0.0,
            synapse=True,
            alpha=a_s,
            w_syn=a_s,
            g_syn=1.0,
            bias=bias,
            **base,
        )
    if kind == "LIF":
        return Neuron(beta=_torch_exp_decay(dt, node.tau), g_x=1.0, bias=bias, **base)
    if kind == "LI":
        b = _torch_exp_decay(dt, node.tau)
        return Neuron(beta=b, g_x=b, spiking=False, **base)
    raise NotImplementedError(f"rockpool profile has no {kind}")


def profile_spyx1(kind: str, node, dt: float, opt: dict, ctx: dict) -> Neuron:
    """Spyx 1.0 (spyx/nn.py): S_t = H(V_{t-1} - thr) (strict), then LIF ``V = beta*V + x - S*thr`` (the
    subtraction
    is not decayed: documented step with subtract + reset_delay), CuBaLIF ``V -= S*thr; I = alpha*I + x;
    V = beta*V + I`` (decayed subtraction: subtract without delay), both followed by a one-step Shift.
    The exporter
    writes r = beta exactly (LIF/CubaLIF), tau = dt/(1-beta); PSU_LIF is LI(r=1) + Threshold (no shift)."""
    dt = 1.0 if dt is None else dt
    thr = _a(getattr(node, "v_threshold", 1.0))
    base = dict(v_threshold=thr, spike_test="gt", reset="subtract", shift_output=bool(opt.get("shift", True)))
    if kind == "LIF":
        return Neuron(beta=np.clip(np.asarray(node.r, F32), 0, 1), g_x=1.0, reset_delay=True, **base)
    if kind == "IF":
        return Neuron(beta=1.0, g_x=1.0, reset_delay=True, **base)
    if kind == "CubaLIF":
        return Neuron(
            beta=np.clip(np.asarray(node.r, F32), 0, 1),
            g_x=0.0,
            synapse=True,
            w_syn=1.0,
            g_syn=1.0,
            alpha=np.clip((1.0 - dt / _a(node.tau_syn)).astype(F32), 0, 1),
            reset_delay=False,
            **base,
        )
    if kind == "LI":  # PSU_LIF's integrator; its spikes come from the Threshold node
        return Neuron(
            beta=np.clip((1.0 - dt / _a(node.tau)).astype(F32), 0, 1), g_x=_a(node.r), spiking=False
        )
    raise NotImplementedError(f"spyx1 profile has no {kind}")


def _spyx1_rnn_edges(nodes: dict, edges: list) -> list:
    """Spyx 1.0 writes a recurrent layer as ``N.input -> N.w_rec <-> N.lif -> N.output`` but computes
    ``lif input = x + W_rec @ S``: move the ``N.input -> N.w_rec`` edge to ``N.input -> N.lif``."""
    out = []
    for a, b in edges:
        if a.endswith(".input") and b.endswith(".w_rec") and a[:-6] == b[:-6]:
            lif = next(
                (k for k in nodes if k.startswith(a[:-6]) and type(nodes[k]).__name__ in NEURON_KINDS), None
            )
            if lif is not None:
                out.append((a, lif))
                continue
        out.append((a, b))
    return out


GRAPH_REWRITES: dict[str, Callable[[dict, list], list]] = {"spyx1": _spyx1_rnn_edges}


def profile_spikingjelly(kind: str, node, dt: float, opt: dict, ctx: dict) -> Neuron:
    """SpikingJelly 2.0 (``_ops/lif/cpu.py``, ``_ops/if_/cpu.py``, ``cuba_lif_step``): charge, fire on
    ``h >= v_threshold``, hard reset to v_reset in the same step, v starting at v_reset. ``export_to_nir``
    writes LIF(tau = tau_steps dt, r = 1 or tau_steps, v_leak = v_reset), IF(r = 1/dt), CubaLIF(tau = dt/(1 -
    decay), r = tau_mem/dt, w_in = tau_syn/dt): forward Euler of NIR's ODE at dt."""
    vr = _a(node.v_reset)
    base = dict(v_threshold=_a(node.v_threshold), v_reset=vr, v0=vr, spike_test="ge", reset="value")
    if kind == "IF":  # h = v + x
        return Neuron(beta=1.0, g_x=_snap1(_a(node.r) * dt), **base)
    if kind == "LIF":  # h = v + (r x - (v - v_reset)) / tau_steps
        k = dt / _a(node.tau)
        return Neuron(beta=(1.0 - k).astype(F32), g_x=_snap1(_a(node.r) * k), bias=_a(node.v_leak) * k, **base)
    if kind == "CubaLIF":  # c = c_decay c + x; h = v_decay v + c
        return Neuron(
            synapse=True,
            alpha=(1.0 - dt / _a(node.tau_syn)).astype(F32),
            w_syn=_snap1(_a(node.w_in) * dt / _a(node.tau_syn)),
            beta=(1.0 - dt / _a(node.tau_mem)).astype(F32),
            g_x=0.0,
            g_syn=_snap1(_a(node.r) * dt / _a(node.tau_mem)),
            **base,
        )
    raise NotImplementedError(f"spikingjelly profile has no {kind}")


def profile_nir(kind: str, node, dt: float, opt: dict, ctx: dict) -> Neuron:
    """The NIR profile of docs/neuron-step.md: zero-order hold (``exact``) or Euler; reset to v_reset,
    test gt."""
    euler = opt.get("discretization", "exact") == "euler"

    def decay(tau):
        return 1.0 - dt / _a(tau) if euler else np.exp(-dt / _a(tau))

    reset = opt.get("reset", "value")
    if kind in ("LIF", "LI"):
        b = decay(node.tau)
        return Neuron(
            beta=b,
            g_x=_a(node.r) * (1 - b),
            bias=(1 - b) * _a(node.v_leak),
            spiking=kind == "LIF",
            v_threshold=_a(getattr(node, "v_threshold", 1.0)),
            v_reset=_a(getattr(node, "v_reset", 0.0)),
            reset=reset,
        )
    if kind == "IF":
        return Neuron(
            beta=1.0,
            g_x=_a(node.r) * dt,
            v_threshold=_a(node.v_threshold),
            v_reset=_a(node.v_reset),
            reset=reset,
        )
    if kind in ("CubaLIF", "CubaLI"):
        bm, bs = decay(node.tau_mem), decay(node.tau_syn)
        # Euler-style synapse-first: i_t = bs*i + w_in*x; v = bm*v + r(1-bm)*i_t + (1-bm)*v_leak
        return Neuron(
            beta=bm,
            g_x=0.0,
            synapse=True,
            alpha=bs,
            w_syn=_a(node.w_in),
            g_syn=_a(node.r) * (1 - bm),
            bias=(1 - bm) * _a(node.v_leak),
            spiking=kind == "CubaLIF",
            v_threshold=_a(getattr(node, "v_threshold", 1.0)),
            v_reset=_a(getattr(node, "v_reset", 0.0)),
            reset=reset,
        )
    raise NotImplementedError(kind)


PROFILES: dict[str, Callable[..., Neuron]] = {
    "snntorch": profile_snntorch,
    "norse": profile_norse,
    "sinabs": profile_sinabs,
    "rockpool": profile_rockpool,
    "nir": profile_nir,
    "spyx1": profile_spyx1,
    "spikingjelly": profile_spikingjelly,
}
NEURON_KINDS = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I")


# ----------------------------------------------------------------------------------------------------------
# Stateless nodes
# ----------------------------------------------------------------------------------------------------------
def _pair(v, n=2):
    v = np.ravel(np.asarray(v)).astype(int).tolist()
    return tuple(v * n if len(v) == 1 else v)


def _conv2d(node, x):
    w = np.asarray(node.weight, np.float64)
    co, cig, kh, kw = w.shape
    sh, sw = _pair(node.stride)
    dh, dw = _pair(node.dilation)
    groups = int(np.ravel(node.groups)[0]) if node.groups is not None else 1
    pad = node.padding
    if isinstance(pad, str):
        if pad == "valid":
            ph = pw = 0
        else:  # "same"
            ph, pw = (dh * (kh - 1)) // 2, (dw * (kw - 1)) // 2
    else:
        ph, pw = _pair(pad)
    xb = np.pad(np.asarray(x, np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    B, C, H, W = xb.shape
    oh = (H - dh * (kh - 1) - 1) // sh + 1
    ow = (W - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((B, co, oh, ow))
    cog = co // groups
    for g in range(groups):
        xg = xb[:, g * cig : (g + 1) * cig]
        cols = np.stack(
            [
                xg[:, :, i * dh : i * dh + sh * oh : sh, j * dw : j * dw + sw * ow : sw]
                for i in range(kh)
                for j in range(kw)
            ],
            axis=2,
        )  # B, cig, kh*kw, oh, ow
        wg = w[g * cog : (g + 1) * cog].reshape(cog, cig, kh * kw)
        out[:, g * cog : (g + 1) * cog] = np.einsum("bckhw,ock->bohw", cols, wg)
    if node.bias is not None:
        out += np.asarray(node.bias, np.float64).reshape(1, -1, 1, 1)
    return out


def _pool2d(node, x, mode):
    kh, kw = _pair(node.kernel_size)
    sh, sw = _pair(node.stride)
    ph, pw = _pair(node.padding)
    xb = np.pad(np.asarray(x, np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    _, _, H, W = xb.shape
    oh, ow = (H - kh) // sh + 1, (W - kw) // sw + 1
    s = sum(xb[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] for i in range(kh) for j in range(kw))
    return s / (kh * kw) if mode == "avg" else s


def _flatten(node, x, channels_last=False):
    if channels_last and x.ndim == 4:  # Spyx 1.0 flattens (H, W, C): the file's Flatten hides that
        x = np.moveaxis(x, 1, -1)
    nd = x.ndim - 1  # per-sample dims
    s = node.start_dim % nd if node.start_dim < 0 else node.start_dim
    e = node.end_dim % nd if node.end_dim < 0 else node.end_dim
    shp = x.shape[1:]
    new = shp[:s] + (int(np.prod(shp[s : e + 1])),) + shp[e + 1 :]
    return x.reshape((x.shape[0],) + new)


def _affine(node, x):
    y = np.asarray(x, np.float64) @ np.asarray(node.weight, np.float64).T
    return y + np.asarray(node.bias, np.float64) if hasattr(node, "bias") else y


STATELESS: dict[str, Callable] = {
    "Affine": _affine,
    "Linear": _affine,
    "Scale": lambda n, x: x * np.asarray(n.scale, np.float64),
    "Conv2d": _conv2d,
    "SumPool2d": lambda n, x: _pool2d(n, x, "sum"),
    "AvgPool2d": lambda n, x: _pool2d(n, x, "avg"),
    "Flatten": _flatten,
    "Threshold": lambda n, x: (x > np.asarray(n.threshold)).astype(x.dtype),
    "Input": lambda n, x: x,
    "Output": lambda n, x: x,
}


# ----------------------------------------------------------------------------------------------------------
# The graph
# ----------------------------------------------------------------------------------------------------------
def flatten_graph(graph) -> tuple[dict, list]:
    """Inline nested NIRGraphs: node ``g`` with inner node ``n`` becomes ``g.n``; its Input/Output nodes
    become
    pass-through nodes so that outer edges into/out of ``g`` land on them."""
    import nir

    nodes, edges = {}, []
    for name, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            inner_nodes, inner_edges = flatten_graph(node)
            nodes.update({f"{name}.{k}": v for k, v in inner_nodes.items()})
            edges += [(f"{name}.{a}", f"{name}.{b}") for a, b in inner_edges]
        else:
            nodes[name] = node
    for a, b in graph.edges:
        if isinstance(graph.nodes.get(a), nir.NIRGraph):
            a = f"{a}." + next(k for k, v in graph.nodes[a].nodes.items() if isinstance(v, nir.Output))
        if isinstance(graph.nodes.get(b), nir.NIRGraph):
            b = f"{b}." + next(k for k, v in graph.nodes[b].nodes.items() if isinstance(v, nir.Input))
        edges.append((a, b))
    return nodes, edges


class Program:
    """A NIR graph compiled for step-by-step execution with one profile."""

    def __init__(
        self,
        graph,
        profile: str,
        dt: float | None,
        options: dict | None = None,
        node_options: dict | None = None,
        dtype=F32,
        extensions: bool = True,
    ):
        import networkx as nx

        self.nodes, self.edges = flatten_graph(graph)
        if profile in GRAPH_REWRITES and (options or {}).get("rnn_edges") != "as_written":
            self.edges = GRAPH_REWRITES[profile](self.nodes, self.edges)
        self.flatten_channels_last = (options or {}).get("flatten") == "channels_last"
        self.dtype = dtype
        g = nx.DiGraph()
        g.add_nodes_from(self.nodes)
        g.add_edges_from(self.edges)
        scc = {n: i for i, comp in enumerate(nx.strongly_connected_components(g)) for n in comp}
        kinds = {k: type(v).__name__ for k, v in self.nodes.items()}
        in_cycle = {k for k in self.nodes if any(scc[k] == scc[o] and o != k for o in self.nodes)}
        prof = PROFILES[profile]
        self.neurons: dict[str, Neuron] = {}
        for k, node in self.nodes.items():
            if kinds[k] in NEURON_KINDS:
                opt = dict(options or {})
                opt.update((node_options or {}).get(k, {}))
                n = prof(kinds[k], node, dt, opt, {"in_cycle": k in in_cycle, "name": k})
                if not extensions:  # the documented step only
                    n = replace(n, delayed_reset_on="v", reset_guard=False, output_pre_clamp=False)
                self.neurons[k] = n
        # a cycle is cut at the edge leaving a stateful neuron: the consumer reads its previous output;
        # a neuron
        # with shift_output delays all its outgoing edges that way
        self.cut = {
            (a, b)
            for a, b in self.edges
            if kinds[a] in NEURON_KINDS and (scc[a] == scc[b] or self.neurons[a].shift_output)
        }
        dag = nx.DiGraph()
        dag.add_nodes_from(self.nodes)
        dag.add_edges_from(e for e in self.edges if e not in self.cut)
        self.order = list(nx.topological_sort(dag))  # raises on a cycle without a neuron
        self.preds = {k: [a for a, b in self.edges if b == k] for k in self.nodes}
        self.inputs = [k for k, v in kinds.items() if v == "Input" and not self.preds[k]]
        self.outputs = [
            k for k, v in kinds.items() if v == "Output" and not [e for e in self.edges if e[0] == k]
        ]
        self.kinds = kinds

    def neuron_shape(self, k: str) -> tuple:
        node = self.nodes[k]
        for attr in ("tau", "tau_mem", "v_threshold", "r"):
            if hasattr(node, attr):
                return np.shape(getattr(node, attr))
        raise ValueError(f"cannot tell the shape of neuron {k!r}")

    def run(self, x: np.ndarray) -> np.ndarray:
        """x: (T, B, *in_shape) -> (T, B, *out_shape) of the (single) Output node."""
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            raise ValueError(f"need one Input and one Output, got {self.inputs} / {self.outputs}")
        T = x.shape[0]
        state: dict[str, dict] = {}
        prev: dict[str, np.ndarray] = {}
        outs = []
        for t in range(T):
            val: dict[str, np.ndarray] = {}
            for k in self.order:
                kind = self.kinds[k]
                if k in self.inputs:
                    inp = np.asarray(x[t], self.dtype)
                else:
                    parts = []
                    for a in self.preds[k]:
                        if (a, k) not in self.cut:
                            parts.append(val[a])
                        elif a in prev:
                            parts.append(prev[a])
                        else:  # a cut neuron before its first step: zeros of its shape
                            parts.append(np.zeros((x.shape[1], *self.neuron_shape(a)), self.dtype))
                    inp = parts[0] if len(parts) == 1 else sum(np.asarray(p, np.float64) for p in parts)
                if kind in NEURON_KINDS:
                    n = self.neurons[k]
                    inp = np.asarray(inp, self.dtype)
                    if k not in state:
                        state[k] = neuron_init(n, inp.shape, self.dtype)
                    out, state[k] = neuron_step(n, state[k], inp)
                else:
                    if kind == "Flatten":
                        out = _flatten(self.nodes[k], inp, self.flatten_channels_last)
                    else:
                        out = STATELESS[kind](self.nodes[k], inp)
                    out = np.asarray(out, self.dtype)
                val[k] = out
            prev = val
            outs.append(val[self.outputs[0]])
        return np.stack(outs)


def simulate(
    graph,
    profile: str,
    x: np.ndarray,
    dt: float | None,
    options=None,
    node_options=None,
    dtype=F32,
    extensions: bool = True,
) -> np.ndarray:
    return Program(graph, profile, dt, options, node_options, dtype, extensions).run(x)


def read_nir(path: Path):
    """``nir.read``; files whose declared types do not check (norse writes the sample's batch axis into the
    Input type) are read again with ``type_check=False``."""
    import nir

    try:
        return nir.read(str(path))
    except ValueError as exc:
        if "references" in str(exc):  # an edge names a node that is not there
            return read_nir_repaired(path)[0]
        return nir.read(str(path), type_check=False)


def read_nir_repaired(path: Path):
    """Read a file whose (nested) graphs have edges naming a node that does not exist, with h5py: an endpoint
    missing from a graph is renamed to the one node of that graph that no edge names and whose name
    starts with it
    (the braille ``_subgraph`` file names ``lif`` a node stored as ``lif1``). Returns (graph, repairs)."""
    import shutil
    import tempfile

    import h5py
    import nir

    repairs: list[str] = []

    def fix(group, where):
        nodes = list(group["nodes"].keys())
        edges = [[e.decode() if isinstance(e, bytes) else e for e in row] for row in group["edges"][()]]
        named = {e for row in edges for e in row}
        for i, row in enumerate(edges):
            for j, e in enumerate(row):
                if e in nodes:
                    continue
                cands = [n for n in nodes if n not in named and n.startswith(e)]
                if len(cands) != 1:
                    raise ValueError(
                        f"{where}: edge endpoint {e!r} is not a node and cannot be repaired ({nodes})"
                    )
                repairs.append(f"{where}: edge endpoint {e!r} -> {cands[0]!r}")
                edges[i][j] = cands[0]
        del group["edges"]
        group.create_dataset("edges", data=np.array(edges, dtype=object), dtype=h5py.string_dtype())
        for n in nodes:
            sub = group["nodes"][n]
            if "nodes" in sub:
                fix(sub, f"{where}/{n}")

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / Path(path).name
        shutil.copy(path, copy)
        with h5py.File(copy, "r+") as f:
            fix(f["node"], "graph")
        graph = nir.read(str(copy), type_check=False)
    return graph, repairs


# ----------------------------------------------------------------------------------------------------------
# Checking fixtures
# ----------------------------------------------------------------------------------------------------------
def check_case(cdir: Path, extensions: bool = True, override: dict | None = None) -> dict:
    """Reproduce one fixture. ``override`` replaces keys of meta['ref'] (profile, dt, options,
    node_options)."""
    meta = json.loads((cdir / "meta.json").read_text())
    if override:
        meta["ref"] = {**meta["ref"], **override}
    row = {"peer": meta["peer"], "case": meta["case"]}
    if "build_error" in meta:
        return {**row, "status": "build error", "detail": meta["build_error"]}
    if not (cdir / "model.nir").exists():
        return {**row, "status": "no export", "detail": meta.get("export_error", "")}
    x, y = np.load(cdir / "input.npy"), np.load(cdir / "output.npy")
    ref = meta["ref"]
    try:
        g = read_nir(cdir / "model.nir")
        got = simulate(
            g,
            ref["profile"],
            x,
            ref.get("dt", meta["dt"]),
            ref.get("options"),
            ref.get("node_options"),
            extensions=extensions,
        )
    except Exception as exc:
        return {**row, "status": "ref error", "detail": f"{type(exc).__name__}: {exc}"}
    if got.shape != y.shape:
        return {
            **row,
            "status": "lossy export" if meta.get("export_error") else "shape mismatch",
            "detail": f"ref {got.shape} vs native {y.shape}",
            "expected_fail": meta.get("expected_mismatch"),
        }
    if meta["output_kind"] == "spikes":
        bad = int(np.sum(got != y))
        ok = bad == 0
        detail = f"{bad}/{y.size} spike entries differ (native total {y.sum():.0f}, ref {got.sum():.0f})"
        if bad:
            t0 = int(np.argwhere(got != y)[0][0])
            detail += f"; first at t={t0}"
    else:
        rel = float(np.max(np.abs(got - y)) / max(np.max(np.abs(y)), 1e-30))
        ok = rel <= 1e-5
        detail = f"max rel err {rel:.2e}"
    status = "exact" if ok else ("lossy export" if meta.get("export_error") else "MISMATCH")
    return {**row, "status": status, "detail": detail, "expected_fail": meta.get("expected_mismatch")}


def check_all(root: Path, extensions: bool = True) -> list[dict]:
    return [check_case(m.parent, extensions) for m in sorted(root.glob("*/*/meta.json"))]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ext = "--no-extensions" not in argv
    rows = check_all(Path([a for a in argv if not a.startswith("--")][0]), ext)
    w = max(len(r["case"]) for r in rows)
    for r in rows:
        ef = f"  [expected: {r['expected_fail']}]" if r.get("expected_fail") else ""
        print(f"{r['peer']:9s} {r['case']:{w}s} {r['status']:14s} {r['detail']}{ef}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# ----------------------------------------------------------------------------------------------------------
# Telling the exporter from the parameters alone
# ----------------------------------------------------------------------------------------------------------
def detect_exporter(graph) -> tuple[str, str]:
    """Guess which framework wrote ``graph`` from its neuron parameters. Returns (guess, evidence).

    Rules, checked in this order over every LIF/CubaLIF/LI/IF node (rtol 1e-4):
    snntorch: r == tau/1e-4 (CubaLIF: r == tau_mem/1e-4 and w_in == tau_syn/1e-4);
    spyx1: r < 1 and tau*(1 - r) is one constant dt for all nodes (r == beta, tau == dt/(1-beta)), or LI
    + Threshold;
    rockpool: r != 1 and r*dt/tau == exp(-dt/tau) for one dt recovered from every node;
    r == 1 everywhere: sinabs if every tau >= 1 (time steps) and there is no CubaLIF, norse if every tau < 1;
    IF-only graphs with r == 1 cannot be told apart (sinabs|norse|spyx1)."""
    nodes, _ = flatten_graph(graph)
    neu = {k: v for k, v in nodes.items() if type(v).__name__ in ("LIF", "CubaLIF", "LI", "IF")}
    kinds = {type(v).__name__ for v in neu.values()}
    if not neu:
        return "unknown", "no neuron nodes"
    close = lambda a, b: np.allclose(_a(a), _a(b), rtol=1e-4, atol=0)  # noqa: E731
    taus = {
        k: _a(v.tau_mem if type(v).__name__ == "CubaLIF" else v.tau)
        for k, v in neu.items()
        if type(v).__name__ != "IF"
    }
    rs = {k: _a(v.r) for k, v in neu.items()}
    if (
        taus
        and all(close(rs[k], taus[k] / 1e-4) for k in taus)
        and all(close(v.w_in, _a(v.tau_syn) / 1e-4) for v in neu.values() if type(v).__name__ == "CubaLIF")
    ):
        return "snntorch", "r == tau/1e-4 on every neuron"
    if any(type(v).__name__ == "Threshold" for v in nodes.values()) and "LI" in kinds:
        return "spyx1", "LI + Threshold pair (PSU_LIF)"
    lifs = {k: t for k, t in taus.items() if type(neu[k]).__name__ in ("LIF", "CubaLIF")}
    if lifs and all(np.all(rs[k] < 1) for k in lifs):
        dts = np.concatenate([np.ravel(t * (1 - rs[k])) for k, t in lifs.items()])
        if np.allclose(dts, dts[0], rtol=1e-4):
            return "spyx1", f"r == beta, tau*(1-r) == dt == {dts[0]:.3g} on every neuron"
    if taus and any(np.any(rs[k] != 1) for k in taus):
        dts = []
        for k, t in taus.items():
            for ti, ri in zip(np.ravel(t), np.ravel(rs[k]) * np.ones(np.size(t)), strict=True):
                dts.append(rockpool_dt_from_r(ti, ri))
        dts = np.array(dts)
        if np.allclose(dts, dts[0], rtol=1e-3):
            return "rockpool", f"r == tau*exp(-dt/tau)/dt with dt == {dts[0]:.3g} on every neuron"
        return "unknown", "r != 1 but fits no exporter's convention"
    if all(np.all(r == 1) for r in rs.values()):
        if not taus:
            return "sinabs|norse|spyx1", "IF nodes with r == 1 only"
        all_t = np.concatenate([np.ravel(t) for t in taus.values()])
        if np.all(all_t >= 1) and "CubaLIF" not in kinds:
            return "sinabs", "r == 1, tau >= 1 (time steps)"
        if np.all(all_t < 1):
            return "norse", f"r == 1, tau < 1 (norse.to_nir writes dt*tau; max tau {all_t.max():.3g})"
    return "unknown", "mixed conventions"
