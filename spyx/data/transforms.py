"""Grain transforms: the encoders of :mod:`spyx.data.encode` as per-record ``grain.MapTransform``\\ s in NumPy.

Each ``map(record)`` reads ``record[input_key]``, writes its result to ``record[output_key]`` (the same dict,
updated in place) and returns the record, so they chain in a grain pipeline. ``RateCode`` and
``LatencyCode`` put a new leading time axis on the sample and bit-pack it (:mod:`spyx.data.packing`,
``axis=0``): ``uint8 [ceil(T/8), *sample_shape]``.

Randomness: ``RateCode`` and ``ShiftAugment`` draw from **NumPy's global RNG** (``np.random.rand`` /
``np.random.randint``), as in Spyx 1.0; they are not seeded per record or per worker, so ``np.random.seed``
in the process that runs them fixes their draws.

This module needs grain (the ``loaders`` extra); ``spyx.data`` imports it on first use of these names.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spyx.data.deps import require_grain

grain = require_grain("spyx.data's Grain transforms (RateCode, ShiftAugment, LatencyCode, AngleCode)")

__all__ = ["AngleCode", "LatencyCode", "RateCode", "ShiftAugment"]


def _pack_time(spikes: np.ndarray) -> np.ndarray:
    return np.packbits(spikes != 0, axis=0)


class RateCode(grain.MapTransform):
    """Bernoulli rate code with a new, packed leading time axis.

    ``d = record[input_key]`` (values in ``[0, 1]``); ``S = U(0, 1)^(sample_T, *d.shape) < d * max_r`` with
    one ``np.random.rand(sample_T, *d.shape)`` draw from NumPy's global RNG;
    ``record[output_key] = packbits(S, axis=0)`` -> ``uint8 [ceil(sample_T/8), *d.shape]``.
    """

    def __init__(self, sample_T: int, max_r: float = 0.75, input_key: str = "obs", output_key: str = "obs"):
        self.sample_T = sample_T
        self.max_r = max_r
        self.input_key = input_key
        self.output_key = output_key

    def map(self, record):
        d = np.asarray(record[self.input_key])
        spikes = np.random.rand(self.sample_T, *d.shape) < d * self.max_r
        record[self.output_key] = _pack_time(spikes)
        return record


class ShiftAugment(grain.MapTransform):
    """Random circular shift of one record, written back to ``input_key`` (there is no ``output_key``).

    ``s = np.random.randint(-max_shift, max_shift, size=len(axes))`` (global NumPy RNG, upper bound
    exclusive), then ``np.roll(record[input_key], s, axis=axes)``.
    """

    def __init__(self, max_shift: int = 10, axes: int | Sequence[int] = (-1,), input_key: str = "obs"):
        self.max_shift = max_shift
        self.axes = (axes,) if isinstance(axes, int) else tuple(axes)
        self.input_key = input_key

    def map(self, record):
        shifts = np.random.randint(-self.max_shift, self.max_shift, size=len(self.axes))
        record[self.input_key] = np.roll(record[self.input_key], shifts, axis=self.axes)
        return record


class LatencyCode(grain.MapTransform):
    """Time-to-first-spike code of one record (as :func:`spyx.data.latency_code`), packed along time.

    ``u = clip(float32(record[input_key]), 0, 1)``; ``t* = round((1 - u)(sample_T - 1))`` (half to even); one
    spike at ``t*`` for units with ``u > threshold``, none otherwise;
    ``record[output_key] = packbits(S, axis=0)`` -> ``uint8 [ceil(sample_T/8), *shape]``.
    """

    def __init__(self, sample_T: int, threshold: float = 0.01, input_key: str = "obs", output_key: str = "obs"):
        self.sample_T = sample_T
        self.threshold = threshold
        self.input_key = input_key
        self.output_key = output_key

    def map(self, record):
        u = np.clip(np.asarray(record[self.input_key], dtype=np.float32), 0.0, 1.0)
        t_star = np.round((1.0 - u) * (self.sample_T - 1)).astype(np.int64)
        steps = np.arange(self.sample_T).reshape((self.sample_T,) + (1,) * u.ndim)
        spikes = (steps == t_star[None]) & (u > self.threshold)[None]
        record[self.output_key] = _pack_time(spikes)
        return record


class AngleCode(grain.MapTransform):
    """One-hot bin code of one record (as :func:`spyx.data.angle_code`), as ``uint8``; not packed.

    ``neurons = linspace(min_val, max_val, neuron_count)`` (float64);
    ``i = clip(digitize(x, neurons) - 1, 0, neuron_count - 1)``; ``record[output_key]`` is the one-hot of
    ``i`` on a new last axis (``(3,) -> (3, neuron_count)``).
    """

    def __init__(
        self, neuron_count: int, min_val: float, max_val: float, input_key: str = "obs", output_key: str = "obs"
    ):
        self.neuron_count = neuron_count
        self.min_val = min_val
        self.max_val = max_val
        self.input_key = input_key
        self.output_key = output_key
        self.neurons = np.linspace(min_val, max_val, neuron_count)

    def map(self, record):
        idx = np.clip(np.digitize(record[self.input_key], self.neurons) - 1, 0, self.neuron_count - 1)
        record[self.output_key] = np.eye(self.neuron_count, dtype=np.uint8)[idx]
        return record
