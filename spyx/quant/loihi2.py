r"""Loihi 2 (Lava) fixed-point parameters of a NIR LIF, as the NIR paper's converter computes them: the one
conversion that the ``lava{fixed_pt=true}`` profile and ``quantize --target loihi2`` share.

Source: neuromorphs/NIR ``paper/nir_to_lava.py`` (``_nir_node_to_lava``, ``ImportConfig(dt=1e-4)``), the
converter that produced the paper's ``paper/01_lif/lif_lava_*.csv``; the Lava side is lava-nc/lava
``src/lava/proc/lif/models.py`` (``PyLifModelBitAcc``) and ``src/lava/proc/dense/models.py``
(``PyDenseModelBitAcc``) with ``src/lava/utils/weightutils.py``. For a LIF of time constant ``tau`` and
threshold ``v_threshold`` at step ``dt``:

* ``dv = int((dt / tau) * 4095)``: the voltage decay, a 12-bit fraction; the step keeps ``(4096 - dv) / 4096``
  of ``v`` (``dm_offset = 0``).
* ``du = int(1.0 * 4095) = 4095``: no current leak; with Lava's ``ds_offset = 1`` the step keeps
  ``(4096 - 4096) / 4096 = 0`` of ``u``, so ``u`` is this step's input.
* ``vth = int(v_threshold * 131071) >> 9``: the threshold mantissa; Lava compares ``v > vth << 6``.
* input weights ``int(w * dt / tau * 256)``: the converter's Dense of ``dt / tau`` ("correction") times 256,
  truncated toward zero by ``astype(int32)``; the bit-accurate Dense then clips them to 8 bits (0..255
  excitatory, -255..0 inhibitory, -256..255 mixed sign, with the lowest bit cleared for mixed sign) and the
  LIF shifts its input left by 6 (``act_shift``).
* no bias (``bias_mant = bias_exp = 0``); ``v_leak``, ``v_reset`` and ``r`` are not read.

Everything is computed in float32 first, as the converter's NumPy code did with the file's float32 arrays
(``dt / tau`` with a Python float ``dt`` and a float32 ``tau`` is float32), then truncated by ``int``.

So one unit of float membrane is about ``256 * 64 = 16384`` integer units (``131071 / 512 ~ 256`` for the
threshold); the truncations make the exact ratio per parameter (``lif_norse.nir``: input 640 for 0.04,
threshold 1600 for 0.1, both 16000).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ACT_SHIFT",
    "DECAY_SHIFT",
    "DECAY_UNITY",
    "DS_OFFSET",
    "DM_OFFSET",
    "FRACTION_FULL",
    "UV_BITS",
    "VTH_SHIFT",
    "WEIGHT_SCALE",
    "LavaLifCodes",
    "decay_tau",
    "dense_weights",
    "lif_codes",
    "threshold_code",
    "voltage_decay_code",
]

F32 = np.float32

FRACTION_FULL = 4095  # du, dv: 12-bit fractions of 4095 (the converter's ``int(d * 4095)``)
DECAY_SHIFT = 12  # Lava: decays act as (4096 - d) / 2**12
DECAY_UNITY = 1 << DECAY_SHIFT
DS_OFFSET = 1  # Lava's 1-bit current-decay offset: du = 4095 gives a full decay of the current
DM_OFFSET = 0  # the voltage decay has none
VTH_SCALE = 131071  # the converter's threshold scale (17 bits) ...
VTH_DROP = 9  # ... then ``>> 9``
VTH_SHIFT = 6  # Lava compares ``v > vth << 6``
ACT_SHIFT = 6  # Lava shifts the Dense output left by 6 into u
WEIGHT_SCALE = 256  # the converter's ``(w * 256).astype(np.int32)``
WEIGHT_BITS = 8  # PyDenseModelBitAcc: clip_weights(num_bits=8), truncate_weights(num_weight_bits=8)
UV_BITS = 24  # u and v are 24-bit registers


@dataclass(frozen=True)
class LavaLifCodes:
    """The integer parameters of one Lava LIF population (int64 arrays of the population's shape) and the
    float32 input gain ``dt / tau`` (the converter's "correction") that the input weights carry."""

    du: np.ndarray
    dv: np.ndarray
    vth: np.ndarray
    gain: np.ndarray


def input_gain(tau, dt: float) -> np.ndarray:
    """``dt / tau`` in float32 (the converter's ``dv`` and its weight correction)."""
    return (F32(dt) / np.asarray(tau, F32)).astype(F32)


def voltage_decay_code(tau, dt: float) -> np.ndarray:
    """``dv = int(dt / tau * 4095)`` (float32 product, truncated toward zero)."""
    return np.trunc(input_gain(tau, dt) * F32(FRACTION_FULL)).astype(np.int64)


def decay_tau(dv, dt: float) -> np.ndarray:
    """A float32 ``tau`` for each decay code ``dv`` (>= 1) that :func:`voltage_decay_code` maps back to
    ``dv``: ``dt * 4095 / dv`` moved by a few ulps where the converter's truncation would land on ``dv - 1``
    (it does for about half the codes: ``int(0.0999... * 4095)``). What ``quantize --target loihi2`` writes,
    so that converting the quantized graph gives the codes it reported."""
    dv = np.asarray(dv, np.int64)
    tau = np.asarray(np.float64(dt) * FRACTION_FULL / np.maximum(dv, 1), F32)
    for _ in range(16):  # each step is one ulp; the error of the division is a few ulps at most
        code = voltage_decay_code(tau, dt)
        if np.array_equal(code, dv):
            return tau
        tau = np.where(code < dv, np.nextafter(tau, F32(0)), np.where(code > dv, np.nextafter(tau, F32(np.inf)), tau))
    raise ValueError(f"no float32 tau gives decay codes {dv.tolist()} at dt={dt}")  # not reached for 1..4095


def threshold_code(v_threshold) -> np.ndarray:
    """``vth = int(v_threshold * 131071) >> 9`` (float32 product, truncated, then an arithmetic shift)."""
    return np.right_shift(np.trunc(np.asarray(v_threshold, F32) * F32(VTH_SCALE)).astype(np.int64), VTH_DROP)


def lif_codes(tau, v_threshold, dt: float) -> LavaLifCodes:
    """All the integer parameters of a NIR LIF (``tau``, ``v_threshold`` broadcast to one shape)."""
    tau, thr = np.broadcast_arrays(np.asarray(tau, F32), np.asarray(v_threshold, F32))
    gain = input_gain(tau, dt)
    return LavaLifCodes(
        du=np.full(tau.shape, FRACTION_FULL, np.int64),  # int(1.0 * 4095): no current leak
        dv=voltage_decay_code(tau, dt),
        vth=threshold_code(thr),
        gain=gain,
    )


def dense_weights(weight, gain=None) -> np.ndarray:
    """The int64 weights Lava's bit-accurate Dense uses for float ``weight`` (outputs first) feeding a LIF
    of input gain ``gain`` (per output, from :func:`lif_codes`; None: 1): ``int(w * gain * 256)``, then the
    Dense's 8-bit clip and, for a mixed-sign matrix, the lowest bit cleared (``weightutils.clip_weights``,
    ``truncate_weights`` with ``num_weight_bits = 8``). The sign mode is the whole matrix's, as Lava decides
    it (``determine_sign_mode``)."""
    w = np.asarray(weight, np.float64)
    if gain is not None:
        w = w * np.asarray(gain, np.float64).reshape((-1,) + (1,) * (w.ndim - 1))
    q = np.trunc(w * WEIGHT_SCALE).astype(np.int64)
    if q.size == 0 or q.min() >= 0:  # excitatory
        return np.clip(q, 0, (1 << WEIGHT_BITS) - 1)
    if q.max() <= 0:  # inhibitory
        return np.clip(q, -((1 << WEIGHT_BITS) - 1), 0)
    q = np.clip(q, -(1 << WEIGHT_BITS), (1 << WEIGHT_BITS) - 1)  # mixed: 7 bits and a sign
    return np.left_shift(np.right_shift(q, 1), 1)
