r"""Where a weight layer's quantization scale goes: folding rules, derived from each node's traits.

A weight layer quantized as ``W = s * q`` (``s`` > 0, per output channel) outputs ``y = s * y_q`` with
``y_q = q x + b / s``. Every node downstream that is *linear in its input and its own offsets* passes the
factor on, and a spiking neuron absorbs it, because its spikes do not change when its input, membrane
and synaptic state, threshold, reset, leak level and bias are all divided by the same positive factor.

Two folding modes:

``threshold`` (deployment form: integer weights, neuron gains unchanged, thresholds in integer units)
    LIF ``v_leak, v_threshold, v_reset`` / s (``tau``, ``r`` unchanged; ``v = s v'``);
    IF ``v_threshold, v_reset`` / s; CubaLIF the same three / s (the current ``I = s I'`` too, so
    ``w_in`` and ``r`` stay); spyx.Neuron ``bias, v_threshold, v_reset, v_min`` / s (``i = s i'``,
    ``v = s v'``; ``g_x, w_syn, g_prev, g_syn`` unchanged; multi-spike counts ``floor(u / thr)`` and
    subtractive resets are unchanged); Threshold ``threshold`` / s.
    Non-spiking neurons (LI, I, CubaLI, spyx.Neuron with ``fires=False``) output their membrane, which is
    then ``v / s``: they *carry* the factor to their consumers (``v_leak`` / s, ``bias, v_min`` / s) and
    the factor must be absorbed further on. A readout whose output reaches a graph Output cannot absorb it.

``threshold/readout-gain`` (the quantize-graph pass's ``readout=gain``)
    ``threshold`` for spiking nodes, ``gain`` for non-spiking neurons: readouts keep their membrane.

``gain`` (float gains, thresholds unchanged)
    the factor multiplies the neuron's input gain: ``r`` (LIF, IF, LI, I), ``w_in`` (CubaLIF, CubaLI),
    ``g_x`` and ``w_syn`` (spyx.Neuron); Threshold still takes ``threshold / s``. Membranes are then equal
    to the float model's, so readouts absorb too.

Nodes between the layer and the neurons that commute with a positive per-channel factor carry it:
Delay, spyx.Shift, Scale, SumPool2d, AvgPool2d (the factor must be constant over each channel) and
Flatten (the factor is reshaped). Anything else (an Output, another weight layer, a nested graph, a
kind without a rule here) blocks folding; the quantize-graph pass then falls back (see ``spyx.passes.quantize``).

The rule of a node follows from its traits (:mod:`spyx.ir.traits`), so a new kind folds with no change
here: :class:`~spyx.ir.traits.Levels` are what ``threshold`` divides (and what a node without a
population divides in ``gain`` mode, a Threshold), :class:`~spyx.ir.traits.Population` input gains are what
``gain`` multiplies, :class:`~spyx.ir.traits.Spiking` nodes absorb the factor and other populations are
readouts; :class:`~spyx.ir.traits.CarriesScale` nodes pass it on through their ``transfer``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spyx.ir.node import Node
from spyx.ir.traits import CarriesScale, Levels, Population, same_factor

__all__ = ["FoldRule", "fold_rule", "scaled"]

ABSORB, CARRY = "absorb", "carry"


def scaled(value, factor: np.ndarray, op: str):
    """``value / factor`` or ``value * factor`` in the value's dtype (None stays None)."""
    if value is None:
        return None
    arr = np.asarray(value)
    dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)
    f = np.broadcast_to(np.asarray(factor, dtype=dtype), arr.shape)
    return (arr.astype(dtype) / f if op == "div" else arr.astype(dtype) * f).astype(dtype)


@dataclass(frozen=True)
class FoldRule:
    """How one node kind takes a per-element factor ``s`` (the node's output shape) in each mode.

    ``role(node, mode)``: ``"absorb"`` (the factor stops here) or ``"carry"`` (consumers see ``y / s``).
    ``divide`` / ``multiply``: parameter names divided / multiplied by ``s``, per mode.
    """

    role: Callable[[Node, str], str]
    divide: dict[str, tuple[str, ...]]
    multiply: dict[str, tuple[str, ...]]
    transfer: Callable[[np.ndarray, tuple[int, ...]], np.ndarray | None] = None  # type: ignore[assignment]

    def carry(self, factor: np.ndarray, out_shape: tuple[int, ...]) -> np.ndarray | None:
        """The factor on the node's output given the factor on its input (None: it cannot be carried)."""
        return (self.transfer or same_factor)(factor, out_shape)

    def apply(self, node: Node, factor: np.ndarray, mode: str) -> Node:
        mode = effective_mode(node, mode)
        changes = {}
        for name in self.divide.get(mode, ()):
            changes[name] = scaled(getattr(node, name), factor, "div")
        for name in self.multiply.get(mode, ()):
            changes[name] = scaled(getattr(node, name), factor, "mul")
        return node.replace(**{k: v for k, v in changes.items() if v is not None}) if changes else node


READOUT_GAIN = "threshold/readout-gain"


def effective_mode(node: Node, mode: str) -> str:
    """``threshold/readout-gain``: thresholds for spiking nodes, input gains for non-spiking neurons (LI, I,
    CubaLI, spyx.Neuron with ``fires=False``), so that a readout whose membrane is an output keeps it."""
    if mode != READOUT_GAIN:
        return mode
    readout = node.has_trait(Population) and not node.spiking
    return "gain" if readout else "threshold"


def _spiking(node: Node, mode: str) -> str:
    return ABSORB


def _readout(node: Node, mode: str) -> str:
    return ABSORB if effective_mode(node, mode) == "gain" else CARRY


def _carry(node: Node, mode: str) -> str:
    return CARRY


def fold_rule(node: Node) -> FoldRule | None:
    """The folding rule of ``node`` from its traits, or None when it blocks folding."""
    levels = node.trait(Levels)
    if levels is not None:
        pop = node.trait(Population)
        divide = {"threshold": levels.params}
        multiply: dict[str, tuple[str, ...]] = {}
        if pop is not None:
            multiply["gain"] = pop.input_gains(node)
        else:  # a spike test with no gain of its own (Threshold): its level takes the factor in both modes
            divide["gain"] = levels.params
        return FoldRule(_spiking if node.spiking else _readout, divide, multiply)
    carrier = node.trait(CarriesScale)
    if carrier is not None:
        return FoldRule(_carry, {}, {}, carrier.transfer)
    return None
