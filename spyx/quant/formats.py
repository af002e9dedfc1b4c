r"""Number formats of neuron parameters: integer thresholds/state values and quantized decays.

Thresholds (``threshold_bits``): after the weight scales are folded into a neuron (``fold=threshold``) its
threshold, reset level, leak level and bias are in units of the integer weights. They are rounded to the
nearest integer (half to even) and clipped to the signed ``threshold_bits`` range. The parameters are the
node's :class:`~spyx.ir.traits.Levels`: LIF/CubaLIF ``v_threshold, v_reset, v_leak``; IF ``v_threshold,
v_reset``; LI/CubaLI ``v_leak``; spyx.Neuron ``v_threshold, v_reset, bias, v_min``; Threshold ``threshold``.

Decays (``decay``), the :class:`~spyx.ir.traits.Population` trait's ``decays``:

``shift`` (Xylo): ``beta = 1 - 2**-dash`` with an integer ``dash >= 1``. A discrete ``beta``/``alpha``
    becomes ``1 - 2**-round(-log2(1 - beta))``. A continuous time constant is first read as a decay, by
    ``method="euler"`` (``beta = 1 - dt/tau``: ``dash = round(log2(tau / dt))``, ``tau' = dt * 2**dash``,
    Rockpool's ``tau_to_bitshift``) or ``method="exact"`` (``beta = exp(-dt/tau)``,
    ``tau' = -dt / ln(1 - 2**-dash)``, so that ``spyx.compile(method="exact")`` runs the chip's decay).
``fraction12`` (Loihi 2 via Lava): ``d = round((1 - beta) * 4095)`` in 1..4095, ``beta' = 1 - d / 4095``
    for a discrete decay. A time constant read by Euler (``1 - beta = dt / tau``) gets the NIR paper
    converter's code, ``d = int(dt / tau * 4095)`` in float32 (truncated, :mod:`spyx.quant.loihi2`, the
    arithmetic the ``lava{fixed_pt=true}`` profile uses), and ``tau' ~ dt * 4095 / d`` chosen so that the
    converter maps it back to ``d``. (Lava's bit-accurate step then keeps ``(4096 - d) / 4096`` of ``v``.)

Time constants and decays carry no scale, so the same change is made to the fake-quantized float graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.ir.node import Node
from spyx.ir.traits import Levels, Population
from spyx.quant.arith import fraction12_decay, int_range, shift_decay
from spyx.quant.loihi2 import decay_tau, voltage_decay_code

__all__ = ["DECAYS", "FormatChange", "round_state", "quantize_decays", "state_params", "decay_params"]

DECAYS = ("float", "shift", "fraction12")


def state_params(node: Node) -> tuple[str, ...]:
    """The threshold/state parameters that take an integer format (the node's Levels)."""
    levels = node.trait(Levels)
    return levels.params if levels is not None else ()


def decay_params(node: Node) -> tuple[tuple[str, bool], ...]:
    """``(parameter, continuous)`` for every decay of the node (continuous time constants need dt)."""
    pop = node.trait(Population)
    return pop.decays if pop is not None else ()


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
    for name in state_params(node):
        value = getattr(node, name)
        if value is None:
            continue
        raw = np.round(np.asarray(value, dtype=np.float64))
        q = np.clip(raw, qmin, qmax) + 0.0  # no negative zeros
        new[name] = q.astype(value.dtype if value.dtype.kind == "f" else np.float32)
        err = float(np.max(np.abs(q - value))) if value.size else 0.0
        changes.append(FormatChange(name, f"int{bits}", err, int(np.count_nonzero(raw != q)), q.astype(np.int64)))
    return (node.replace(**new) if new else node), changes


METHODS = ("euler", "exact")


def _tau(tau: np.ndarray, dt: float, decay: str, max_shift: int | None, method: str) -> tuple[np.ndarray, np.ndarray]:
    if decay == "fraction12" and method == "euler":  # Lava: the NIR paper converter's int(dt/tau * 4095)
        codes = np.maximum(voltage_decay_code(tau, dt), 1)  # d = 0 would mean no decay: no finite tau
        return codes, decay_tau(codes, dt).astype(np.float64)
    tau = np.asarray(tau, dtype=np.float64)
    beta = 1.0 - dt / tau if method == "euler" else np.exp(-dt / tau)
    if decay == "shift":
        codes, beta_q = shift_decay(np.clip(beta, 0.0, 1.0), max_shift)
    else:
        codes, beta_q = fraction12_decay(np.clip(beta, 0.0, 1.0))
        codes = np.maximum(codes, 1)  # d = 0 would mean no decay at all: no finite time constant
        beta_q = 1.0 - codes / 4095.0
    if method == "euler":
        return codes, dt / (1.0 - beta_q)
    return codes, -dt / np.log(beta_q)


def quantize_decays(
    node: Node, decay: str, dt: float | None, max_shift: int | None = None, method: str = "euler"
) -> tuple[Node, list[FormatChange]]:
    """Put the node's decays into the ``decay`` format (see the module docstring). ``method``: how a time
    constant maps to a per-step decay, ``euler`` (``1 - dt/tau``, Rockpool's and Lava's reading) or ``exact``
    (``exp(-dt/tau)``, what ``spyx.compile(method="exact")`` computes)."""
    if decay == "float":
        return node, []
    changes, new = [], {}
    for name, continuous in decay_params(node):
        value = getattr(node, name)
        if value is None:
            continue
        dtype = value.dtype if value.dtype.kind == "f" else np.dtype(np.float32)
        if continuous:
            codes, q = _tau(value, float(dt), decay, max_shift, method)  # dt checked by the caller
        elif decay == "shift":
            codes, q = shift_decay(value, max_shift)
        else:
            codes, q = fraction12_decay(value)
        new[name] = q.astype(dtype)
        err = float(np.max(np.abs(q - value))) if value.size else 0.0
        changes.append(FormatChange(name, decay, err, 0, codes))
    return (node.replace(**new) if new else node), changes
