"""Same inputs, same keys, same numbers as the real spyx==1.0.0 (run in its own venv by ``spyx1_reference.py``).

The GrainLoader streams: Spyx 1.0's iterator never ends (§15 #17); spyx's pass ``k`` must be exactly the
records Spyx 1.0's stream yields from position ``k * N`` on, cut to whole batches.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spyx.data as sd
from tests.data.conftest import needs_grain
from tests.data.spyx1_reference import _Records


@pytest.fixture(scope="module")
def ref(spyx1_reference):
    assert spyx1_reference["version"].startswith("1.")
    return spyx1_reference


X = np.linspace(0.0, 1.0, 21, dtype=np.float32).reshape(3, 1, 7)
GRID = np.arange(20.0).reshape(4, 5)


def test_encoders(ref):
    np.testing.assert_array_equal(sd.rate_code(16, 0.6)(X, jax.random.PRNGKey(3)), ref["rate_code"])
    np.testing.assert_array_equal(sd.rate_code(3)(X[:, 0, :], jax.random.PRNGKey(4)), ref["rate_code_2d"])
    np.testing.assert_array_equal(sd.latency_code(9, 0.05)(X[:, 0, :]), ref["latency_code"])
    np.testing.assert_array_equal(sd.angle_code(6, -1.0, 2.0)(3.0 * X[:, 0, :] - 1.2), ref["angle_code"])
    np.testing.assert_array_equal(sd.shift_augment(3, axes=(0, 1))(GRID, jax.random.PRNGKey(5)), ref["shift_augment"])
    xs, ys = jnp.arange(30.0).reshape(10, 3), jnp.arange(10)
    obs, labels = sd.shuffler((xs, ys), 4)((xs, ys), jax.random.PRNGKey(1))
    np.testing.assert_array_equal(obs, ref["shuffler"][0])
    np.testing.assert_array_equal(labels, ref["shuffler"][1])


@needs_grain
def test_grain_transforms(ref):
    np.random.seed(0)
    np.testing.assert_array_equal(sd.RateCode(12, 0.8).map({"obs": X[0, 0]})["obs"], ref["RateCode"])
    np.random.seed(1)
    np.testing.assert_array_equal(sd.ShiftAugment(3, axes=(0, 1)).map({"obs": GRID})["obs"], ref["ShiftAugment"])
    np.testing.assert_array_equal(sd.LatencyCode(10, 0.05).map({"obs": X[:, 0, :]})["obs"], ref["LatencyCode"])
    got = sd.AngleCode(6, -1.0, 2.0).map({"obs": 3.0 * X[:, 0, :] - 1.2})["obs"]
    np.testing.assert_array_equal(got, ref["AngleCode"])


@needs_grain
@pytest.mark.parametrize(
    ("name", "n", "batch", "shuffle", "seed"),
    [("n10_b4", 10, 4, False, 0), ("n10_b4_shuffled", 10, 4, True, 0), ("n11_b3_shuffled_seed7", 11, 3, True, 7)],
)
def test_grain_loader_passes_are_spyx1_stream(ref, name, n, batch, shuffle, seed):
    stream = ref["grain_streams"][name]
    loader = sd.GrainLoader(sd.SpyxMapDataset(_Records(n)), batch, shuffle=shuffle, seed=seed, worker_count=0)
    kept = (n // batch) * batch
    for k in range(3):
        flat = [int(v) for b in loader.epoch(k) for v in b.labels]
        assert flat == stream[k * n : k * n + kept], f"pass {k}"
    assert [int(v) for b in loader for v in b.labels] == stream[:kept]  # iter() is pass 0
