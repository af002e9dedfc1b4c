"""spyx.data.temporal_patterns: shapes, determinism, balance, and that the class lives in the timing."""

from __future__ import annotations

import numpy as np
import pytest

import spyx
from spyx.data import temporal_patterns


def test_shapes_determinism_and_balance():
    obs, labels = temporal_patterns(60, T=50, channels=24, n_classes=6, seed=3)
    assert obs.shape == (60, 50, 24) and obs.dtype == np.uint8 and set(np.unique(obs)) <= {0, 1}
    assert labels.dtype == np.int32 and np.bincount(labels).tolist() == [10] * 6
    again = temporal_patterns(60, T=50, channels=24, n_classes=6, seed=3)
    assert np.array_equal(obs, again[0]) and np.array_equal(labels, again[1])
    other = temporal_patterns(60, T=50, channels=24, n_classes=6, seed=4)
    assert not np.array_equal(obs, other[0])


def test_class_is_carried_by_timing():
    """A nearest-class-mean classifier on the (T, C) raster beats one on time-summed counts: the order matters."""
    kw = dict(T=60, channels=32, n_classes=8, n_events=4, p_noise=0.02)
    xtr, ytr = temporal_patterns(800, seed=1, **kw)
    xte, yte = temporal_patterns(400, seed=2, **kw)

    def nearest_mean(f):
        means = np.stack([f(xtr[ytr == c]).mean(0) for c in range(8)])
        d = ((f(xte)[:, None] - means[None]) ** 2).reshape(len(xte), 8, -1).sum(-1)
        return float(np.mean(d.argmin(1) == yte))

    raster = nearest_mean(lambda x: x.astype(np.float64))
    counts = nearest_mean(lambda x: x.sum(1).astype(np.float64))
    assert raster > 0.9 and raster > counts + 0.05, (raster, counts)


def test_bad_arguments():
    with pytest.raises(spyx.OptionError, match="n_classes"):
        temporal_patterns(4, n_classes=0)
    with pytest.raises(spyx.OptionError, match="p_signal"):
        temporal_patterns(4, p_signal=1.5)
