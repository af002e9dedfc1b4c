"""How NIR files spell spyx's node kinds, across nir releases 0.1.0 .. 1.0.8: the one declared table that the
reader (:mod:`spyx.io.decode`) and the writer (:mod:`spyx.io.encode`) consult.

In a NIR file a node is an HDF5 group with a ``type`` string and one dataset per parameter. For every kind the
dataset names are the spyx dataclass field names; the exceptions, and the defaults older releases did not
store, are listed here (``docs/nir-io.md`` has the table with the release that changed each one):

* ``TYPE_ALIASES``: node type names that are spelled differently;
* ``FIELD_ALIASES``: per kind, a file field name -> the spyx field it fills;
* ``LEGACY_FILLS``: per kind, a field older releases did not store and the value NIR itself substitutes;
* ``READ_HOOKS`` / ``WRITE_HOOKS``: per kind, the few values whose *type* differs between file and IR
  (a convolution's ``padding`` stored as the string ``"same"``/``"valid"`` is ``padding_mode`` in spyx).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "TYPE_ALIASES",
    "FIELD_ALIASES",
    "LEGACY_FILLS",
    "READ_HOOKS",
    "WRITE_HOOKS",
    "EXTRA_PREFIX",
    "NIR_VERSION",
]

NIR_VERSION = "1.0.8"
"""The nir file format spyx writes (``/version``). History: 0.1.0 stored no version; 0.2.0 on store it."""

EXTRA_PREFIX = "spyx.extra."
"""Node metadata key prefix for fields of a known node type that spyx has no field for (kept, not dropped)."""

TYPE_ALIASES: dict[str, str] = {
    "Graph": "NIRGraph",  # the graph type's class name in some third-party writers
}

FIELD_ALIASES: dict[str, dict[str, str]] = {
    # nir >= 0.2.0 keeps port shapes in memory as {"input": shape}; a writer that serialises that dict
    # instead of calling the node's own to_dict stores it under the in-memory name.
    "Input": {"input_type": "shape"},
    "Output": {"output_type": "shape"},
}


def _zeros_like_threshold(values: dict[str, Any]) -> np.ndarray:
    return np.zeros_like(np.asarray(values["v_threshold"]))


def _ones_like(field: str) -> Callable[[dict[str, Any]], np.ndarray]:
    return lambda values: np.ones_like(np.asarray(values[field]))


def _conv_zero_bias(values: dict[str, Any]) -> np.ndarray:
    weight = np.asarray(values["weight"])
    return np.zeros(weight.shape[:1], weight.dtype)


# (filled field, fill(values) -> array, field the fill is shaped after, why it may be missing)
_V_RESET = ("v_reset", _zeros_like_threshold, "v_threshold", "not stored before nir 1.0.6", "zeros")
LEGACY_FILLS: dict[str, tuple[tuple[str, Callable[[dict[str, Any]], np.ndarray], str, str, str], ...]] = {
    "IF": (_V_RESET,),
    "LIF": (_V_RESET,),
    "CubaLIF": (
        _V_RESET,
        ("w_in", _ones_like("v_threshold"), "v_threshold", "not stored before nir 1.0.0", "ones"),
    ),
    "CubaLI": (("w_in", _ones_like("v_leak"), "v_leak", "not stored before nir 1.0.0", "ones"),),
    "Conv1d": (("bias", _conv_zero_bias, "weight", "nir allows a convolution without bias (None)", "zeros"),),
    "Conv2d": (("bias", _conv_zero_bias, "weight", "nir allows a convolution without bias (None)", "zeros"),),
}


def _conv_read(values: dict[str, Any]) -> dict[str, Any]:
    padding = values.get("padding")
    if isinstance(padding, str):
        values = {k: v for k, v in values.items() if k != "padding"}
        values["padding_mode"] = padding
    return values


def _conv_write(node: Any, fields: dict[str, Any]) -> dict[str, Any]:
    if node.padding_mode is not None and node.padding is None:
        fields["padding"] = node.padding_mode
    return fields


READ_HOOKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "Conv1d": _conv_read,
    "Conv2d": _conv_read,
}
WRITE_HOOKS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    "Conv1d": _conv_write,
    "Conv2d": _conv_write,
}
