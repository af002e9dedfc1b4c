"""Helpers for writing a ``spyx.Neuron`` the way a peer's NIR importer reads it (each profile's
``encode_neuron``): broadcast parameters, refusals that name the node and the difference, and the NIR nodes
with float32 parameters that every importer reads. The orchestration is :mod:`spyx.profiles.encode`."""

from __future__ import annotations

import numpy as np

from spyx.errors import ExportError
from spyx.ir.discrete import Neuron
from spyx.ir.neurons import IF, LI, LIF, CubaLIF

__all__ = ["P", "require", "uniform", "plain_options", "f32", "nir_lif", "nir_if", "nir_li", "nir_cubalif", "F32"]

F32 = np.float32


def P(n: Neuron, name: str, default: float | None = 0.0) -> np.ndarray | None:
    v = getattr(n, name)
    if v is None:
        return None if default is None else np.full(n.shape, default, np.float64)
    return np.broadcast_to(np.asarray(v, np.float64), n.shape)


def require(ok: bool, name: str, peer: str, what: str) -> None:
    if not ok:
        raise ExportError(f"node {name}: {peer}'s NIR importer cannot express it: {what}")


def uniform(a: np.ndarray, name: str, peer: str, what: str) -> None:
    require(
        bool(np.allclose(a, np.ravel(a)[0], rtol=1e-6, atol=0)),
        name,
        peer,
        f"its importer needs one {what} per layer, this layer has {np.unique(np.ravel(a))[:4]}...",
    )


def plain_options(n: Neuron, name: str, peer: str, *, reset: str, test: str, count: str) -> None:
    """The options every importer fixes: reset kind, no delayed reset, spike test and count."""
    if not n.fires:
        return
    require(
        n.reset == reset and not n.reset_delay,
        name,
        peer,
        f"it builds reset={reset} applied in the same step; the node has reset={n.reset}"
        f"{' with reset_delay' if n.reset_delay else ''}",
    )
    require(n.spike_test == test, name, peer, f"its spike test is {test!r}, the node's {n.spike_test!r}")
    require(n.spike_count == count, name, peer, f"its spikes are {count}, the node's {n.spike_count}")
    require(
        not n.reset_guard and n.delayed_reset_on == "v", name, peer, "the node uses snnTorch's reset guard"
    )


def f32(a, shape=None) -> np.ndarray:
    a = np.asarray(a, np.float64).astype(F32)
    return a if shape is None else np.broadcast_to(a, shape).copy()


def _shape(*arrays) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(*(np.shape(a) for a in arrays)))


def nir_lif(tau, r, v_leak, thr, v_reset) -> LIF:
    s = _shape(tau, r, v_leak, thr, v_reset)
    return LIF(
        tau=f32(tau, s), r=f32(r, s), v_leak=f32(v_leak, s), v_threshold=f32(thr, s), v_reset=f32(v_reset, s)
    )


def nir_if(r, thr, v_reset) -> IF:
    s = _shape(r, thr, v_reset)
    return IF(r=f32(r, s), v_threshold=f32(thr, s), v_reset=f32(v_reset, s))


def nir_li(tau, r, v_leak) -> LI:
    s = _shape(tau, r, v_leak)
    return LI(tau=f32(tau, s), r=f32(r, s), v_leak=f32(v_leak, s))


def nir_cubalif(tau_syn, tau_mem, r, v_leak, thr, v_reset, w_in) -> CubaLIF:
    s = _shape(tau_syn, tau_mem, r, v_leak, thr, v_reset, w_in)
    return CubaLIF(
        tau_syn=f32(tau_syn, s),
        tau_mem=f32(tau_mem, s),
        r=f32(r, s),
        v_leak=f32(v_leak, s),
        v_threshold=f32(thr, s),
        v_reset=f32(v_reset, s),
        w_in=f32(w_in, s),
    )
