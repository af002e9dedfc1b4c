"""Grain transforms: grain subclasses updating the record in place; NumPy re-computations with the same
global-RNG draws; LatencyCode equals latency_code packed; the contract's examples (§6.3, §18.6)."""

from __future__ import annotations

import numpy as np
import pytest

import spyx.data as sd
from tests.data.conftest import needs_grain

pytestmark = needs_grain


def test_transforms_are_grain_map_transforms_and_update_the_record_in_place():
    import grain.python as grain

    data = np.array([0.2, 0.9, 0.0], dtype=np.float32)
    for t in (sd.RateCode(5), sd.ShiftAugment(1), sd.LatencyCode(5), sd.AngleCode(4, 0, 1)):
        assert isinstance(t, grain.MapTransform)
        record = {"obs": data.copy(), "labels": 3}
        assert t.map(record) is record and record["labels"] == 3


def test_rate_code_draws_from_numpys_global_rng():
    d = np.linspace(0, 1, 6).reshape(2, 3)
    np.random.seed(5)
    out = sd.RateCode(13, 0.8, input_key="img", output_key="obs").map({"img": d})
    assert out["obs"].shape == (2, 2, 3) and out["obs"].dtype == np.uint8  # ceil(13/8) = 2
    assert "img" in out  # input kept when the keys differ
    np.random.seed(5)
    want = np.random.rand(13, 2, 3) < d * 0.8
    np.testing.assert_array_equal(sd.unpack(out["obs"], 13, axis=0), want)


def test_shift_augment_rolls_with_numpys_global_rng():
    grid = np.arange(20).reshape(4, 5)
    np.random.seed(2)
    got = sd.ShiftAugment(3, axes=(0, 1)).map({"obs": grid})["obs"]
    np.random.seed(2)
    s = np.random.randint(-3, 3, size=2)
    np.testing.assert_array_equal(got, np.roll(np.roll(grid, s[0], axis=0), s[1], axis=1))


def test_latency_code_golden_and_equal_to_the_jax_encoder_packed():
    out = sd.LatencyCode(10).map({"obs": np.array([1.0, 0.5, 0.0])})["obs"]
    assert out.shape == (2, 3) and out.dtype == np.uint8
    spikes = sd.unpack(out, 10, axis=0)
    assert [int(np.argmax(c)) if c.any() else None for c in spikes.T] == [0, 4, None]
    data = np.random.default_rng(1).uniform(-0.2, 1.2, (3, 4)).astype(np.float32)
    got = sd.unpack(sd.LatencyCode(11, 0.1).map({"obs": data})["obs"], 11, axis=0)
    np.testing.assert_array_equal(got, np.asarray(sd.latency_code(11, 0.1)(data)))


def test_angle_code_contract_example_and_numpy_digitize():
    t = sd.AngleCode(8, 0.0, 1.0)
    np.testing.assert_array_equal(t.neurons, np.linspace(0, 1, 8))
    out = t.map({"obs": np.array([0.0, 0.5, 1.0])})["obs"]
    assert out.shape == (3, 8) and out.dtype == np.uint8
    assert out.argmax(-1).tolist() == [0, 3, 7] and out.sum() == 3
    x = np.random.default_rng(2).uniform(-1, 2, 10)
    idx = [min(7, max(0, int((np.linspace(0, 1, 8) <= v).sum()) - 1)) for v in x]
    np.testing.assert_array_equal(t.map({"obs": x})["obs"].argmax(-1), idx)


@pytest.mark.parametrize("name", ["RateCode", "ShiftAugment", "LatencyCode", "AngleCode", "SpyxMapDataset"])
def test_grain_names_are_exported(name):
    assert name in sd.__all__ and name in dir(sd)
    assert getattr(sd, name).__module__.startswith("spyx.data.")
