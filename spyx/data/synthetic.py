"""``temporal_patterns``: a synthetic, SHD-shaped spike classification task that needs no download.

Spiking Heidelberg Digits (SHD) samples are spoken digits as spikes of 700 cochlear channels over about a second;
what tells the classes apart is *which channel bands fire in which order*. This task keeps that structure at any
size, so training examples and tests run offline:

* every class fires the same ``n_events`` events, each a band of ``band`` neighbouring channels that fires for
  ``duration`` steps at the same onsets, but each class visits the bands in its own order (distinct orders while
  ``n_classes <= n_events!``; drawn once from ``template_seed``, so the train and test splits share them);
* a sample of class ``c`` shifts every event of ``c``'s template by an independent integer jitter (normal, sd
  ``jitter`` steps), fires each (step, channel) of an event with probability ``p_signal``, and adds background
  spikes with probability ``p_noise`` everywhere.

Classes share channel bands and onsets, so only the order of the events carries the class: time-summed spike
counts are the same for every class in expectation. Labels are balanced (``i % n_classes``) and shuffled.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["temporal_patterns"]


def _templates(n_classes: int, n_events: int, T: int, channels: int, band: int, duration: int, seed: int):
    """(onset (n_events,), first channel (n_classes, n_events)): every class fires the same ``n_events`` bands at
    the same onsets, each class in its own order (distinct permutations while there are enough)."""
    rng = np.random.default_rng(seed)
    n_bands = max(1, channels // band)
    pool = rng.choice(n_bands, size=n_events, replace=n_events > n_bands) * band
    orders: list[tuple[int, ...]] = []
    limit = math.factorial(n_events)
    while len(orders) < n_classes:
        order = tuple(int(i) for i in rng.permutation(n_events))
        if order not in orders or len(orders) >= limit:
            orders.append(order)
    bands = pool[np.asarray(orders)]
    spacing = max(1, (T - duration) // n_events)
    onsets = np.arange(n_events) * spacing + int(rng.integers(0, max(1, T - duration - spacing * (n_events - 1))))
    return np.minimum(onsets, max(0, T - duration)), bands


def temporal_patterns(
    n_samples: int,
    *,
    T: int = 128,
    channels: int = 128,
    n_classes: int = 20,
    n_events: int = 4,
    band: int | None = None,
    duration: int | None = None,
    jitter: float = 2.0,
    p_signal: float = 0.5,
    p_noise: float = 0.01,
    seed: int = 0,
    template_seed: int = 1234,
):
    """``(obs, labels)``: ``obs`` ``uint8 [n_samples, T, channels]`` spikes (batch-major, unpacked, as the loaders'
    batches after ``spyx.data.unpack``), ``labels`` ``int32 [n_samples]`` in ``[0, n_classes)``.

    ``band`` (channels per event) defaults to ``channels // 8``, ``duration`` (steps per event) to ``T // 10``.
    Same arguments, same arrays (NumPy's ``default_rng(seed)``).
    """
    from spyx.errors import OptionError

    band = max(1, channels // 8) if band is None else int(band)
    duration = max(1, T // 10) if duration is None else int(duration)
    for name, value in (("n_samples", n_samples), ("T", T), ("channels", channels), ("n_classes", n_classes),
                        ("n_events", n_events), ("band", band), ("duration", duration)):
        if int(value) < 1:
            raise OptionError(f"temporal_patterns: {name} must be >= 1, got {value!r}")
    if not (0 <= p_signal <= 1 and 0 <= p_noise <= 1) or jitter < 0:
        raise OptionError(
            f"temporal_patterns: p_signal and p_noise must lie in [0, 1] and jitter >= 0; got {p_signal}, {p_noise}, "
            f"{jitter}"
        )
    onsets, bands = _templates(n_classes, n_events, T, channels, band, duration, template_seed)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n_samples) % n_classes).astype(np.int32)
    obs = (rng.random((n_samples, T, channels)) < p_noise).astype(np.uint8)
    shifts = np.rint(rng.normal(0.0, jitter, size=(n_samples, n_events))).astype(np.int64)
    for i, c in enumerate(labels):
        for e in range(n_events):
            t0 = int(np.clip(onsets[e] + shifts[i, e], 0, T - 1))
            t1 = min(T, t0 + duration)
            c0, c1 = int(bands[c, e]), min(channels, int(bands[c, e]) + band)
            fire = rng.random((t1 - t0, c1 - c0)) < p_signal
            obs[i, t0:t1, c0:c1] |= fire.astype(np.uint8)
    return obs, labels
