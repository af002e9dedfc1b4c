r"""Bit-packing of spike trains and low-bit activations, and dense layers whose backward pass keeps only the packed
bits (``../shared/spyx-api.md`` §13.2, §14.2).

Backpropagation through time keeps every layer's input for the backward pass. For spikes (values in ``{0, 1}``) a
float32 residual spends 32 bits on one bit of information; :func:`packed_spike_dense` saves the spikes bit-packed
(``T * B * N / 8`` bytes) and unpacks them in the backward pass, a 32x smaller residual with the same gradients.
:func:`packed_quant_dense` does the same for graded activations on a uniform ``bits``-bit grid, and
:func:`sparse_quant_pack` stores only the nonzeros of a sparse tensor (a bit mask plus their codes).

Packing is NumPy's ``packbits``: 8 consecutive values along ``axis`` form one ``uint8``, element 0 of a group the
most significant bit; a nonzero value is a 1; the last byte is zero-padded on its low bits. An ``n``-bit code is
stored as ``n`` such bit planes (plane ``b`` holds bit ``b``, least significant first), so a 1-bit code is exactly
:func:`pack_spikes`.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from spyx.errors import ArgumentError

__all__ = [
    "pack_spikes",
    "unpack_spikes",
    "packed_spike_dense",
    "pack_nbit",
    "unpack_nbit",
    "packed_quant_dense",
    "sparse_quant_pack",
    "sparse_quant_unpack",
    "packing_footprint",
]


def pack_spikes(x, axis: int = -1):
    """``uint8`` bits of ``x`` along ``axis`` (``ceil(n / 8)`` bytes per ``n`` values; nonzero is 1)."""
    return jnp.packbits(jnp.asarray(x).astype(jnp.uint8), axis=axis)


def unpack_spikes(packed, length: int, axis: int = -1):
    """The ``uint8`` ``{0, 1}`` values packed by :func:`pack_spikes`, ``length`` of them along ``axis``."""
    return jnp.unpackbits(jnp.asarray(packed, jnp.uint8), axis=axis, count=int(length))


def _flat2(x):
    return x.reshape(-1, x.shape[-1])


def _check_dense(acts, weight, what: str) -> None:
    if weight.ndim != 2 or acts.ndim < 1 or acts.shape[-1] != weight.shape[0]:
        raise ArgumentError(
            f"{what}: acts [..., in] and weight [in, out] must agree on in; got acts {tuple(acts.shape)}, weight "
            f"{tuple(weight.shape)}"
        )


# -- spikes ------------------------------------------------------------------------------------------------------


@jax.custom_vjp
def _spike_dense(spikes, weight):
    return (_flat2(spikes) @ weight).reshape(*spikes.shape[:-1], weight.shape[1])


def _spike_dense_fwd(spikes, weight):
    out = _spike_dense(spikes, weight)
    # The residual: the spikes bit-packed along the feature axis (plus the weight, which is kept anyway).
    # (an empty array carries the spikes' dtype; their shape is the cotangent's with ``in`` last)
    return out, (pack_spikes(_flat2(spikes), axis=-1), weight, jnp.zeros((0,), spikes.dtype))


def _spike_dense_bwd(res, g):
    packed, weight, dtype_of = res
    shape = (*g.shape[:-1], weight.shape[0])
    g2 = g.reshape(-1, weight.shape[1])
    s = unpack_spikes(packed, shape[-1], axis=-1).astype(g.dtype)
    dspikes = (g2 @ weight.T).reshape(shape).astype(dtype_of.dtype)
    return dspikes, (s.T @ g2).astype(weight.dtype)


_spike_dense.defvjp(_spike_dense_fwd, _spike_dense_bwd)


def packed_spike_dense(spikes, weight):
    """``spikes [..., in] @ weight [in, out] -> [..., out]`` whose backward pass keeps the spikes bit-packed.

    Forward: the plain matmul (on the 2-D flattening of the leading axes). Backward: the packed spikes are unpacked
    (cast to the cotangent's dtype): ``d spikes = g weight^T``, ``d weight = S^T g``. Both gradients equal the plain
    matmul's for ``{0, 1}`` spikes; for other inputs ``d weight`` sees ``1`` where ``uint8(x) != 0`` (fractions
    below 1 count as 0). First-order derivatives only (a ``jax.custom_vjp``).
    """
    spikes, weight = jnp.asarray(spikes), jnp.asarray(weight)
    _check_dense(spikes, weight, "packed_spike_dense")
    return _spike_dense(spikes, weight)


# -- n-bit codes -------------------------------------------------------------------------------------------------


def pack_nbit(codes, bits: int, axis: int = -1):
    """``uint8 [bits, ...]``: plane ``b`` is ``packbits((codes >> b) & 1, axis)`` (least significant bit first) of
    integer ``codes`` in ``[0, 2^bits)`` (cast to uint32)."""
    bits = _bits(bits, "pack_nbit")
    c = jnp.asarray(codes).astype(jnp.uint32)
    return jnp.stack([jnp.packbits(((c >> b) & 1).astype(jnp.uint8), axis=axis) for b in range(bits)])


def unpack_nbit(packed, bits: int, length: int, axis: int = -1):
    """The ``uint32`` codes packed by :func:`pack_nbit`: ``OR_b unpackbits(packed[b], axis, count=length) << b``."""
    bits = _bits(bits, "unpack_nbit")
    # ``axis`` refers to one plane (the array without the leading plane axis).
    planes = [jnp.unpackbits(jnp.asarray(packed[b], jnp.uint8), axis=axis, count=int(length)).astype(jnp.uint32)
              for b in range(bits)]
    out = planes[0]
    for b in range(1, bits):
        out = out | (planes[b] << b)
    return out


def _bits(bits, what: str) -> int:
    if int(bits) != bits or not 1 <= int(bits) <= 32:
        raise ArgumentError(f"{what}: bits must be an integer in [1, 32], got {bits!r}")
    return int(bits)


def _codes(x, bits: int, step: float):
    """``clip(round(x / step) + 2^(bits-1), 0, 2^bits - 1)`` as uint32: a signed grid of ``2^bits`` levels."""
    offset = 2 ** (bits - 1)
    return jnp.clip(jnp.round(x / step) + offset, 0, 2**bits - 1).astype(jnp.uint32)


def _decode(codes, bits: int, step: float, dtype=jnp.float32):
    return (codes.astype(jnp.int32) - 2 ** (bits - 1)).astype(dtype) * jnp.asarray(step, dtype)


def _quant_dense_impl(acts, weight):
    return (_flat2(acts) @ weight).reshape(*acts.shape[:-1], weight.shape[1])


def _quant_dense_core(bits, step, acts, weight):
    return _quant_dense_impl(acts, weight)


_quant_dense = jax.custom_vjp(_quant_dense_core, nondiff_argnums=(0, 1))


def _quant_dense_fwd(bits, step, acts, weight):
    codes = _codes(_flat2(acts), bits, step)
    # The residual: the activations' codes, bit-packed; ``acts`` itself is not kept.
    return _quant_dense_impl(acts, weight), (pack_nbit(codes, bits, axis=-1), weight, jnp.zeros((0,), acts.dtype))


def _quant_dense_bwd(bits, step, res, g):
    packed, weight, dtype_of = res
    shape = (*g.shape[:-1], weight.shape[0])
    g2 = g.reshape(-1, weight.shape[1])
    a = _decode(unpack_nbit(packed, bits, shape[-1], axis=-1), bits, step, g.dtype)
    return (g2 @ weight.T).reshape(shape).astype(dtype_of.dtype), (a.T @ g2).astype(weight.dtype)


_quant_dense.defvjp(_quant_dense_fwd, _quant_dense_bwd)


def packed_quant_dense(acts, weight, bits: int, step: float):
    """``acts [..., in] @ weight [in, out]`` whose backward pass keeps ``acts`` as packed ``bits``-bit codes.

    Forward: the plain matmul. The residual is ``codes = clip(round(acts / step) + 2^(bits-1), 0, 2^bits - 1)``
    packed by :func:`pack_nbit`; the backward pass rebuilds ``acts = (codes - 2^(bits-1)) * step`` and returns
    ``(g weight^T, acts^T g)`` (no gradient for ``bits`` or ``step``, which are Python numbers). Exact iff
    ``acts`` lie on that grid.
    """
    acts, weight = jnp.asarray(acts), jnp.asarray(weight)
    _check_dense(acts, weight, "packed_quant_dense")
    return _quant_dense(_bits(bits, "packed_quant_dense"), float(step), acts, weight)


# -- sparse tensors ----------------------------------------------------------------------------------------------


def sparse_quant_pack(x, bits: int, step: float):
    """``(mask_packed, codes_packed, meta)`` of a sparse tensor: ``mask_packed = packbits(flatten(x) != 0)``, the
    nonzeros' codes (the rule of :func:`packed_quant_dense`, row-major order) packed by :func:`pack_nbit`, and
    ``meta = {"shape", "bits", "step", "nnz"}``. Eager only (the number of nonzeros is data-dependent)."""
    bits = _bits(bits, "sparse_quant_pack")
    flat = np.asarray(x).reshape(-1)
    mask = flat != 0
    values = jnp.asarray(flat[mask])
    codes = _codes(values, bits, float(step))
    meta = {"shape": tuple(int(s) for s in np.shape(x)), "bits": bits, "step": float(step), "nnz": int(mask.sum())}
    return jnp.packbits(jnp.asarray(mask, jnp.uint8)), pack_nbit(codes, bits), meta


def sparse_quant_unpack(mask_packed, codes_packed, meta):
    """The float32 tensor of ``meta["shape"]`` rebuilt from :func:`sparse_quant_pack`: ``(code - 2^(bits-1)) *
    step`` at the mask's positions (row-major), zeros elsewhere."""
    shape, bits, nnz = tuple(meta["shape"]), int(meta["bits"]), int(meta["nnz"])
    n = math.prod(shape)
    mask = np.asarray(jnp.unpackbits(jnp.asarray(mask_packed, jnp.uint8), count=n)).astype(bool)
    codes = unpack_nbit(codes_packed, bits, nnz)
    out = np.zeros(n, np.float32)
    out[mask] = np.asarray(_decode(codes, bits, float(meta["step"])))
    return jnp.asarray(out.reshape(shape))


def packing_footprint(n_elements: int, bits: int, density: float) -> dict:
    """Bytes to store ``n_elements`` values of which a fraction ``density`` are nonzero: ``"fp32"`` (``4 n``),
    ``"dense_<bits>bit"`` (``ceil(n bits / 8)``), ``"sparse_mask+<bits>bit"`` (``ceil(n / 8) + ceil(nnz bits /
    8)``, ``nnz = round(density n)``), ``"best"`` (the smallest, first on ties) and ``"crossover_density"``
    (``(bits - 1) / bits``: above it the dense codes are smaller than mask + codes)."""
    n, bits = int(n_elements), int(bits)
    nnz = int(round(density * n))
    sizes = {
        "fp32": 4 * n,
        f"dense_{bits}bit": math.ceil(n * bits / 8),
        f"sparse_mask+{bits}bit": math.ceil(n / 8) + math.ceil(nnz * bits / 8),
    }
    best = min(sizes, key=sizes.__getitem__)
    return {**sizes, "best": best, "crossover_density": (bits - 1) / bits}
