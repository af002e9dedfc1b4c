r"""Number formats of neuron parameters: integer thresholds/state values and quantized decays.

Thresholds (``threshold_bits``): after the weight scales are folded into a neuron (``fold=threshold``) its
threshold, reset level, leak level and bias are in units of the integer weights. They are rounded to the
nearest integer (half to even) and clipped to the signed ``threshold_bits`` range. Parameters per kind:
LIF/CubaLIF ``v_threshold, v_reset, v_leak``; IF ``v_threshold, v_reset``; LI/CubaLI ``v_leak``;
spyx.Neuron ``v_threshold, v_reset, bias, v_min``; Threshold ``threshold``.

Decays (``decay``):

``shift`` (Xylo): ``beta = 1 - 2**-dash`` with an integer ``dash >= 1``. A continuous time constant becomes
    ``dash = round(log2(tau / dt))`` and ``tau' = dt * 2**dash`` (Rockpool's ``tau_to_bitshift``; the Euler
    decay ``1 - dt/tau'`` is then exactly ``1 - 2**-dash``). A discrete ``beta``/``alpha`` becomes
    ``1 - 2**-round(-log2(1 - beta))``.
``fraction12`` (Loihi 2 via Lava): ``d = round(dt / tau * 4095)`` in 1..4095, ``tau' = dt * 4095 / d``
    (Lava's ``du, dv``); a discrete decay becomes ``1 - round((1 - beta) * 4095) / 4095``.

Time constants and decays carry no scale, so the same change is made to the fake-quantized float graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.node import Node
from spyx.quant.arith import fraction12_decay, int_range, shift_decay

__all__ = ["STATE_PARAMS", "DECAY_PARAMS", "DECAYS", "FormatChange", "round_state", "quantize_decays"]

STATE_PARAMS: dict[str, tuple[str, ...]] = {
    "LIF": ("v_threshold", "v_reset", "v_leak"),
    "CubaLIF": ("v_threshold", "v_reset", "v_leak"),
    "IF": ("v_threshold", "v_reset"),
    "LI": ("v_leak",),
    "CubaLI": ("v_leak",),
    "spyx.Neuron": ("v_threshold", "v_reset", "bias", "v_min"),
    "Threshold": ("threshold",),
}
# (parameter, continuous?) per kind: continuous time constants need dt.
DECAY_PARAMS: dict[str, tuple[tuple[str, bool], ...]] = {
    "LIF": (("tau", True),),
    "LI": (("tau", True),),
    "CubaLIF": (("tau_syn", True), ("tau_mem", True)),
    "CubaLI": (("tau_syn", True), ("tau_mem", True)),
    "spyx.Neuron": (("beta", False), ("alpha", False)),
}
DECAYS = ("float", "shift", "fraction12")


@dataclass(frozen=True)
class FormatChange:
    """One parameter of one node put into a number format."""

    param: str
    format: str
    max_abs_change: float
    clipped: int = 0
    codes: np.ndarray | None = None  # the integers stored on chip (dash, d, or the rounded values)


def round_state(node: Node, bits: int) -> tuple[Node, list[FormatChange]]:
    """Round the node's threshold/state parameters (already in integer units) to signed ``bits`` integers."""
    qmin, qmax = int_range(bits)
    changes, new = [], {}
    for name in STATE_PARAMS.get(node.kind, ()):
        value = getattr(node, name)
        if value is None:
            continue
        raw = np.round(np.asarray(value, dtype=np.float64))
        q = np.clip(raw, qmin, qmax) + 0.0  # no negative zeros
        new[name] = q.astype(value.dtype if value.dtype.kind == "f" else np.float32)
        err = float(np.max(np.abs(q - value))) if value.size else 0.0
        changes.append(
            FormatChange(name, f"int{bits}", err, int(np.count_nonzero(raw != q)), q.astype(np.int64))
        )
    return (node.replace(**new) if new else node), changes


def _tau(tau: np.ndarray, dt: float, decay: str, max_shift: int | None) -> tuple[np.ndarray, np.ndarray]:
    beta = 1.0 - dt / np.asarray(tau, dtype=np.float64)
    if decay == "shift":
        dash, _ = shift_decay(np.clip(beta, 0.0, 1.0), max_shift)
        return dash, dt * np.exp2(dash.astype(np.float64))
    d, _ = fraction12_decay(np.clip(beta, 0.0, 1.0))
    d = np.maximum(d, 1)  # d = 0 would mean no decay at all: no finite time constant
    return d, dt * 4095.0 / d


def quantize_decays(
    node: Node, decay: str, dt: float | None, max_shift: int | None = None
) -> tuple[Node, list[FormatChange]]:
    """Put the node's decays into the ``decay`` format (see the module docstring)."""
    if decay == "float":
        return node, []
    changes, new = [], {}
    for name, continuous in DECAY_PARAMS.get(node.kind, ()):
        value = getattr(node, name)
        if value is None:
            continue
        dtype = value.dtype if value.dtype.kind == "f" else np.dtype(np.float32)
        if continuous:
            codes, q = _tau(value, float(dt), decay, max_shift)  # dt checked by the caller
        elif decay == "shift":
            codes, q = shift_decay(value, max_shift)
        else:
            codes, q = fraction12_decay(value)
        new[name] = q.astype(dtype)
        err = float(np.max(np.abs(q - value))) if value.size else 0.0
        changes.append(FormatChange(name, decay, err, 0, codes))
    return (node.replace(**new) if new else node), changes
