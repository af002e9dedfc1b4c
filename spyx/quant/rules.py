r"""qwix quantization rules for spiking networks (Spyx 1.0's ``spyx.quant`` rule builders).

Each builder returns a one-element list holding a ``qwix.QuantizationRule``; pass it to
:func:`spyx.quant.quantize`. qwix is imported when a builder is called (``pip install 'spyx[quant]'``), never
at ``import spyx.quant``; :func:`available` says whether it can be.

How the rules select work
    qwix full-matches a rule's ``module_path`` regex against the ``/``-joined NNX attribute path of a module
    (``layers/0``, ``encoder/fc``), which never contains a class name: ``module_path=".*Linear.*"`` would
    match nothing and leave the model unquantized. So every builder matches all modules (``".*"`` unless
    given) and selects the work by **op name**: ``dot_general`` (``nnx.Linear``) and
    ``conv_general_dilated`` (``nnx.Conv``). Neuron updates (``V <- beta V + x``, the threshold, the reset)
    are elementwise and use neither op, so they always stay float. ``einsum`` (recurrent and state-space
    state transitions) is excluded from every builder; ``extra_op_names`` adds it where wanted.

qtypes
    qwix dtype strings: ``"int8"``, ``"int4"``, ``"int2"``, float8 variants, and the microscaled
    ``"nvfp4"``, ``"mxfp4"``, ``"mxfp8"``, which share one scale per tile of the quantized axis and need the
    tile size qwix enforces. When ``tile_size`` is ``None`` the builders fill it in: ``nvfp4 -> 16``,
    ``mxfp4 -> 32``, ``mxfp8 -> 32``, read from ``weight_qtype`` and, in :func:`linear_only_rules` only,
    from ``act_qtype`` when the weight qtype is not microscaled; every other qtype stays untiled
    (``None``). An explicit ``tile_size`` is always used as given.

Why weight-only is lossless on spikes (:func:`binary_activation_error`)
    A spike train holds values in {0, 1}. Symmetric absmax quantization to ``int<N>`` (N >= 2) uses the
    scale ``s = max|x| / (2^(N-1) - 1) = 1 / q``, and ``round(1 / s) * s = q * s = 1``, ``round(0) * s = 0``:
    spikes lie on the integer grid, so an activation quantizer has nothing to round and a weight-only rule
    (:func:`spiking_feedforward_rules`) computes exactly ``spikes @ dequant(quant(W))``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

__all__ = [
    "INSTALL_HINT",
    "MICROSCALED_TILE_SIZES",
    "available",
    "binary_activation_error",
    "bitnet_ternary_rules",
    "linear_only_rules",
    "spiking_feedforward_rules",
    "weights_only_rules",
]

INSTALL_HINT = (
    "spyx.quant.quantize and the qwix rule builders need qwix (Google's JAX quantization library), which is "
    "not installed. Install the extra: pip install 'spyx[quant]', or qwix itself from GitHub: "
    "pip install 'qwix @ git+https://github.com/google/qwix'. "
    "(spyx.quant.quantize_graph, for integer NIR graphs, does not need it.)"
)

# The tile size qwix requires of each microscaled qtype (qwix 0.1.8 rejects any other value).
MICROSCALED_TILE_SIZES: dict[str, int] = {"nvfp4": 16, "mxfp4": 32, "mxfp8": 32}

# The ops of the dense and convolutional feedforward layers (nnx.Linear, nnx.Conv).
_FEEDFORWARD_OPS = ("dot_general", "conv_general_dilated")


def available() -> bool:
    """Whether qwix can be imported here (imports it on the first call; ``import spyx.quant`` does not)."""
    try:
        importlib.import_module("qwix")
    except ImportError:
        return False
    return True


def require_qwix():
    """The ``qwix`` module, or ``ImportError`` saying how to install it."""
    try:
        return importlib.import_module("qwix")
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e


def _tile(tile_size, *qtypes) -> int | float | None:
    """``tile_size`` if given, else the required tile of the first microscaled qtype in ``qtypes``, else None."""
    if tile_size is not None:
        return tile_size
    for qtype in qtypes:
        if isinstance(qtype, str) and qtype in MICROSCALED_TILE_SIZES:
            return MICROSCALED_TILE_SIZES[qtype]
    return None


def _rule(module_path: str, op_names: Sequence[str], weight_qtype, act_qtype, tile_size) -> list[Any]:
    qwix = require_qwix()
    return [
        qwix.QuantizationRule(
            module_path=module_path,
            op_names=tuple(op_names),
            weight_qtype=weight_qtype,
            act_qtype=act_qtype,
            tile_size=tile_size,
        )
    ]


def linear_only_rules(
    weight_qtype: str | None = "int8",
    act_qtype: str | None = "int8",
    extra_op_names: Sequence[str] = (),
    tile_size: int | float | None = None,
) -> list[Any]:
    """Quantize the weights and the input activations of every dense / conv op; neurons stay float.

    Rule: ``module_path=".*"``, ``op_names=("dot_general", "conv_general_dilated", *extra_op_names)``,
    ``weight_qtype``, ``act_qtype`` (``None`` disables either side), ``tile_size`` (filled from
    ``weight_qtype``, else from ``act_qtype``, for microscaled qtypes). This is :func:`spyx.quant.quantize`'s
    default (int8 weights and int8 activations).
    """
    ops = (*_FEEDFORWARD_OPS, *extra_op_names)
    return _rule(".*", ops, weight_qtype, act_qtype, _tile(tile_size, weight_qtype, act_qtype))


def weights_only_rules(
    weight_qtype: str = "int8",
    module_path: str = ".*",
    op_names: Sequence[str] = _FEEDFORWARD_OPS,
    tile_size: int | float | None = None,
) -> list[Any]:
    """Quantize only weights (activations stay float) of ``op_names`` in modules matching ``module_path``.

    Rule: the given ``module_path`` (a regex full-matched against NNX attribute paths), ``tuple(op_names)``,
    ``weight_qtype``, ``act_qtype=None``, ``tile_size`` (filled from ``weight_qtype``).
    """
    return _rule(module_path, op_names, weight_qtype, None, _tile(tile_size, weight_qtype))


def spiking_feedforward_rules(
    weight_qtype: str = "int8",
    *,
    module_path: str = ".*",
    extra_op_names: Sequence[str] = (),
    tile_size: int | float | None = None,
) -> list[Any]:
    """Weight-only quantization of the ``spikes -> Linear/Conv`` feedforward path (the SNN recipe).

    Rule: ``module_path``, ``op_names=("dot_general", "conv_general_dilated", *extra_op_names)``,
    ``weight_qtype``, ``act_qtype=None``, ``tile_size`` (filled from ``weight_qtype``). On {0, 1} spike
    inputs the quantized layer computes exactly ``spikes @ (qvalue * scale)``: only the weights are rounded
    (module docstring). ``einsum`` is not included, so recurrent / SSM state transitions stay float.
    """
    ops = (*_FEEDFORWARD_OPS, *extra_op_names)
    return _rule(module_path, ops, weight_qtype, None, _tile(tile_size, weight_qtype))


def bitnet_ternary_rules(act_qtype: str | None = "int8") -> list[Any]:
    """BitNet-b1.58-style low-bit weights for every dense / conv op, with ``act_qtype`` activations.

    Rule: ``module_path=".*"``, ``("dot_general", "conv_general_dilated")``, ``weight_qtype="int2"``,
    ``act_qtype``, no tile. qwix has no ternary qtype: int2 is symmetric absmax with the levels
    {-2, -1, 0, 1} (clip to the two's-complement range), one more level than ternary {-1, 0, 1}.
    For true ternary weights see :mod:`spyx.quant.qat` (format ``ternary``) or ``quantize_graph(ternary=True)``.
    """
    return _rule(".*", _FEEDFORWARD_OPS, "int2", act_qtype, None)


def _integer_bits(qtype: str) -> int:
    """N of an ``"int<N>"`` qtype (N read as a Python int); ``ValueError`` otherwise or for N < 2."""
    if not isinstance(qtype, str) or not qtype.startswith("int"):
        raise ValueError(
            f"binary_activation_error is defined for integer qtypes ('int8', 'int4', 'int2'); got {qtype!r}"
        )
    try:
        bits = int(qtype[3:])
    except ValueError:
        raise ValueError(
            f"Malformed integer qtype {qtype!r}: expected 'int' followed by a bit count, e.g. 'int8'"
        ) from None
    if bits < 2:
        raise ValueError(f"Need at least 2 bits for symmetric signed quantization; got {qtype!r}")
    return bits


def binary_activation_error(spikes, *, weight_qtype: str = "int8") -> float:
    r"""Largest error of round-tripping ``spikes`` through symmetric absmax ``int<N>`` quantization.

    With ``x = float32(spikes)`` (any shape), ``q = 2^(N-1) - 1``, ``a = max |x|`` and ``s = a / q`` if
    ``a > 0`` else ``1``, in float32 and in this order::

        x_hat = clip(round(x / s), -q, q) * s          (round half to even)
        error = max |x - x_hat|

    returned as a Python float. It is exactly ``0.0`` for {0, 1} spike trains at int8, int4 and int2 (the
    module docstring says why) and positive for graded values. Needs no qwix.

    Raises ``ValueError``: ``weight_qtype`` not ``"int<N>"`` ("integer qtypes"), ``"int"`` followed by
    something other than a number ("Malformed integer qtype"), ``N < 2`` ("Need at least 2 bits").
    """
    import jax.numpy as jnp

    bits = _integer_bits(weight_qtype)
    x = jnp.asarray(spikes, dtype=jnp.float32)
    q = jnp.float32(2 ** (bits - 1) - 1)
    a = jnp.max(jnp.abs(x))
    s = jnp.where(a > 0, a / q, jnp.float32(1.0))
    x_hat = jnp.clip(jnp.round(x / s), -q, q) * s
    return float(jnp.max(jnp.abs(x - x_hat)))
