r"""Weight quantization arithmetic: symmetric integer grids, ternary (BitNet b1.58), decays and thresholds.

Symmetric ``bits``-bit quantization of a weight array ``W`` with a per-output-channel (or per-tensor) scale::

    qmax  = 2**(bits-1) - 1
    s     = absmax(W) / qmax                 (absmax over the channel's weights, or the whole tensor)
    q     = clip(round(W / s), -2**(bits-1), qmax)   (round half to even, as numpy and jax)
    W_fq  = q * s                            (the fake-quantized weight)

The clip range is the full two's-complement range so that scales computed elsewhere (qwix's
``absmax / (qmax + 0.5)``) reproduce the same integers; with the default scale ``-2**(bits-1)`` never occurs.
A channel whose weights are all zero gets ``s = 1`` (its integers are 0), as qwix does.

Ternary (BitNet b1.58, Ma et al. 2024, "The Era of 1-bit LLMs"): ``s = mean(|W|)`` (absmean),
``q = clip(round(W / s), -1, 1)``.

``pow2=True`` rounds each scale *up* to a power of two (no extra clipping). Multiplying or dividing a float by
a power of two is exact, so a graph whose scales are powers of two and whose neurons are rescaled by them
computes bit-for-bit the same spikes as the fake-quantized float graph; with general scales the two agree up
to float rounding (a membrane within a few ulp of its threshold can flip).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spyx.errors import OptionError

__all__ = [
    "QuantizedArray",
    "channel_stat",
    "check_bits",
    "int_range",
    "quantize_with_scale",
    "round_scale",
    "shift_decay",
    "fraction12_decay",
]

MAX_BITS = 16


def check_bits(bits: int, owner: str = "quantize-graph", most: int = MAX_BITS) -> None:
    """:class:`OptionError` unless ``2 <= bits <= most`` (16 for weights)."""
    if not isinstance(bits, int | np.integer) or isinstance(bits, bool) or not 2 <= int(bits) <= most:
        raise OptionError(
            f"{owner}: bits={bits!r} is out of range; use an integer from 2 to {most} "
            "(or ternary=true for "
            "{-1, 0, 1} weights)"
        )


def int_range(bits: int) -> tuple[int, int]:
    """(qmin, qmax) of a signed two's-complement integer of ``bits`` bits."""
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


@dataclass(frozen=True)
class QuantizedArray:
    """Integers ``q`` (stored as floats of the input's dtype), the scale per output channel, and errors.

    ``scale`` has shape (C_out,) for per-channel quantization and () per tensor; ``fake`` is ``q * scale``
    broadcast over the weight, in the input's dtype; ``max_abs_error`` is ``max |W - fake|``.
    """

    q: np.ndarray
    scale: np.ndarray
    fake: np.ndarray
    max_abs_error: float
    clipped: int


def channel_stat(weights: list[np.ndarray], per_channel: bool, ternary: bool) -> np.ndarray:
    """absmax (or absmean for ternary) of one or more weight arrays that feed the same outputs.

    Each array has the output channel first; several arrays (layers feeding one neuron population) are
    pooled channel by channel. Returns shape (C_out,) per channel, () per tensor.
    """
    rows = np.concatenate(
        [np.abs(np.asarray(w, dtype=np.float64)).reshape(w.shape[0], -1) for w in weights], 1
    )
    if per_channel:
        return rows.mean(axis=1) if ternary else rows.max(axis=1)
    return np.asarray(rows.mean() if ternary else rows.max())


def round_scale(stat: np.ndarray, bits: int, ternary: bool, pow2: bool) -> np.ndarray:
    """The scale for a statistic from :func:`channel_stat` (float64; zero statistics give scale 1)."""
    stat = np.asarray(stat, dtype=np.float64)
    scale = stat if ternary else stat / int_range(bits)[1]
    scale = np.where(scale > 0, scale, 1.0)
    if pow2:
        scale = np.exp2(np.ceil(np.log2(scale)))
    return scale


def quantize_with_scale(
    weight: np.ndarray, scale: np.ndarray, bits: int, ternary: bool, integers: np.ndarray | None = None
) -> QuantizedArray:
    """Quantize ``weight`` (output channel first) with ``scale`` of shape (C_out,) or ().

    Arithmetic happens in the weight's own dtype, as a fake-quantizing model computes it (qwix divides the
    array by the scale cast to the array's dtype). ``integers``: the integers a training run computed (XLA's
    float division is not always NumPy's correctly rounded one, so a value at a rounding tie can differ);
    they are used as given and ``fake = integers * scale``.
    """
    w = np.asarray(weight)
    dtype = w.dtype if w.dtype.kind == "f" else np.dtype(np.float32)
    w = w.astype(dtype)
    s = np.asarray(scale, dtype=dtype)
    s_b = s.reshape((-1,) + (1,) * (w.ndim - 1)) if s.ndim == 1 else s
    qmin, qmax = (-1, 1) if ternary else int_range(bits)
    raw = np.round(w / s_b) if integers is None else np.asarray(integers, dtype=dtype)
    q = np.clip(raw, qmin, qmax).astype(dtype) + dtype.type(0)  # + 0 turns -0.0 into 0.0
    fake = (q * s_b).astype(dtype)
    err = float(np.max(np.abs(w.astype(np.float64) - fake.astype(np.float64)))) if w.size else 0.0
    return QuantizedArray(q=q, scale=s, fake=fake, max_abs_error=err, clipped=int(np.count_nonzero(raw != q)))


# -- decays -----------------------------------------------------------------------------------------
def shift_decay(beta: np.ndarray, max_shift: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Xylo bit-shift decay: ``dash = round(-log2(1 - beta))`` (>= 1), ``beta' = 1 - 2**-dash``.

    Returns (dash as int64, beta' as float64). ``beta = 1`` (no leak) maps to ``max_shift`` when given, else
    to the largest shift that float64 distinguishes from 1 (52).
    """
    beta = np.asarray(beta, dtype=np.float64)
    top = 52 if max_shift is None else int(max_shift)
    with np.errstate(divide="ignore"):
        dash = np.round(-np.log2(np.clip(1.0 - beta, 2.0**-top, None)))
    dash = np.clip(dash, 1, top).astype(np.int64)
    return dash, 1.0 - np.exp2(-dash.astype(np.float64))


def fraction12_decay(beta: np.ndarray, full: int = 4095) -> tuple[np.ndarray, np.ndarray]:
    """Loihi 2 (Lava) decay: ``d = round((1 - beta) * 4095)`` in 0..4095, ``beta' = 1 - d / 4095``.

    Returns (d as int64, beta' as float64).
    """
    beta = np.asarray(beta, dtype=np.float64)
    d = np.clip(np.round((1.0 - beta) * full), 0, full).astype(np.int64)
    return d, 1.0 - d / full
