"""Run by the real Spyx 1.0 (its own venv, ``python -I``): print its spyx.data outputs as JSON.

The inputs here and in ``test_spyx1_parity.py`` are the same literals; the parity tests compute the same
things with this repository's ``spyx.data`` and compare. Needs spyx==1.0.0 and grain (tonic is not needed).
"""

from __future__ import annotations

import json
import sys

import numpy as np


class _Records:
    """Records ``{"obs": [i, i], "labels": i}``, the source of the GrainLoader cases."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"obs": np.full((2,), i, np.uint8), "labels": i}


def cases():
    import jax
    import jax.numpy as jnp

    import spyx
    import spyx.data as sd

    assert spyx.__version__.startswith("1."), spyx.__file__
    out = {"version": spyx.__version__}
    x = np.linspace(0.0, 1.0, 21, dtype=np.float32).reshape(3, 1, 7)
    out["rate_code"] = np.asarray(sd.rate_code(16, 0.6)(x, jax.random.PRNGKey(3))).tolist()
    out["rate_code_2d"] = np.asarray(sd.rate_code(3)(x[:, 0, :], jax.random.PRNGKey(4))).tolist()
    out["latency_code"] = np.asarray(sd.latency_code(9, 0.05)(x[:, 0, :])).tolist()
    out["angle_code"] = np.asarray(sd.angle_code(6, -1.0, 2.0)(3.0 * x[:, 0, :] - 1.2)).tolist()
    grid = np.arange(20.0).reshape(4, 5)
    out["shift_augment"] = np.asarray(sd.shift_augment(3, axes=(0, 1))(grid, jax.random.PRNGKey(5))).tolist()
    xs, ys = np.arange(30.0).reshape(10, 3), np.arange(10)
    obs, labels = sd.shuffler((jnp.asarray(xs), jnp.asarray(ys)), 4)((jnp.asarray(xs), jnp.asarray(ys)),
                                                                      jax.random.PRNGKey(1))
    out["shuffler"] = [np.asarray(obs).tolist(), np.asarray(labels).tolist()]

    np.random.seed(0)
    out["RateCode"] = sd.RateCode(12, 0.8).map({"obs": x[0, 0]})["obs"].tolist()
    np.random.seed(1)
    out["ShiftAugment"] = sd.ShiftAugment(3, axes=(0, 1)).map({"obs": grid})["obs"].tolist()
    out["LatencyCode"] = sd.LatencyCode(10, 0.05).map({"obs": x[:, 0, :]})["obs"].tolist()
    out["AngleCode"] = sd.AngleCode(6, -1.0, 2.0).map({"obs": 3.0 * x[:, 0, :] - 1.2})["obs"].tolist()

    streams = {}
    for name, (n, batch, shuffle, seed) in {
        "n10_b4": (10, 4, False, 0),
        "n10_b4_shuffled": (10, 4, True, 0),
        "n11_b3_shuffled_seed7": (11, 3, True, 7),
    }.items():
        loader = sd.GrainLoader(sd.SpyxMapDataset(_Records(n)), batch, shuffle=shuffle, seed=seed, worker_count=0)
        it = iter(loader)
        # The endless stream, flattened: enough batches to cover three passes.
        streams[name] = [int(v) for _ in range(-(-3 * n // batch)) for v in next(it).labels]
        del it
    out["grain_streams"] = streams
    return out


if __name__ == "__main__":
    json.dump(cases(), sys.stdout)
