"""GrainLoader (one pass per iterator, remainder dropped; §15 #17), TonicSource, SpyxMapDataset, State."""

from __future__ import annotations

import os

import numpy as np
import pytest

import spyx.data as sd
from spyx.data.plumbing import _default_worker_count
from tests.data.conftest import needs_grain

pytestmark = needs_grain


class Records:
    """``{"obs": [i, i], "labels": i}``: the labels of a batch say which records it holds."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"obs": np.full((2,), i, np.uint8), "labels": i}


def _labels(it):
    return [b.labels.tolist() for b in it]


def test_one_pass_without_shuffle_drops_the_remainder():
    loader = sd.GrainLoader(sd.SpyxMapDataset(Records(10)), 4, shuffle=False, worker_count=0)
    assert len(loader) == 2
    assert _labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]  # §18.7's first batches; 8, 9 dropped
    assert _labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]  # every iterator is the same, finite pass


def test_shuffled_pass_is_grains_permutation_and_epoch_k_continues_it():
    loader = sd.GrainLoader(sd.SpyxMapDataset(Records(10)), 4, shuffle=True, seed=0, worker_count=0)
    assert _labels(loader) == [[0, 4, 6, 7], [8, 3, 1, 9]]  # §18.7
    # §18.7's endless stream goes on [5, 2, 5, 7], [6, 0, 4, 8]: pass 0 ended with 5, 2; pass 1 starts 5, 7, 6, 0, 4, 8
    first, second = _labels(loader.epoch(1))
    assert first == [5, 7, 6, 0] and second[:2] == [4, 8]
    for k in range(3):  # each pass is a permutation of the records, remainder dropped
        flat = sum(_labels(loader.epoch(k)), [])
        assert len(flat) == 8 and len(set(flat)) == 8
    with pytest.raises(ValueError, match="epoch"):
        loader.epoch(-1)


def test_batches_are_states_of_numpy_arrays():
    batch = next(iter(sd.GrainLoader(Records(5), 2, shuffle=False, worker_count=0)))  # a plain source works too
    assert isinstance(batch, sd.State) and batch._fields == ("obs", "labels")
    obs, labels = batch
    assert isinstance(obs, np.ndarray) and obs.dtype == np.uint8 and obs.shape == (2, 2)
    np.testing.assert_array_equal(obs, [[0, 0], [1, 1]])
    assert labels.tolist() == [0, 1]


def test_fewer_records_than_a_batch_gives_an_empty_pass():
    assert _labels(sd.GrainLoader(Records(3), 4, shuffle=True, seed=1, worker_count=0)) == []


@pytest.mark.slow
def test_worker_processes_give_the_same_batches():
    """Two grain worker processes (spawned; outside an absl app): the same one pass, remainder dropped."""
    in_process = _labels(sd.GrainLoader(Records(11), 3, shuffle=True, seed=2, worker_count=0))
    workers = sd.GrainLoader(sd.SpyxMapDataset(Records(11)), 3, shuffle=True, seed=2, worker_count=2)
    assert len(in_process) == 3 and _labels(workers) == in_process


def test_default_worker_count():
    assert _default_worker_count() == max(1, min(4, (os.cpu_count() or 2) // 2))
    assert sd.GrainLoader(Records(4), 2, shuffle=False).worker_count == _default_worker_count()


def test_tonic_source_binarises_squeezes_and_packs_time():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 3, (11, 1, 6)).astype(np.int16), np.zeros((11, 1, 6))]  # counts; tonic's empty frame
    src = sd.TonicSource([(frames[0], 7), (frames[1], 2)])
    assert len(src) == 2
    rec = src[0]
    assert rec["labels"] == 7 and rec["obs"].dtype == np.uint8 and rec["obs"].shape == (2, 6)
    np.testing.assert_array_equal(sd.unpack(rec["obs"], 11, axis=0), (frames[0][:, 0] > 0).astype(np.uint8))
    np.testing.assert_array_equal(src[1]["obs"], np.zeros((2, 6), np.uint8))
    one_step = sd.TonicSource([(np.ones((1, 1, 3)), 0)])[0]["obs"]  # T = 1 keeps its time axis
    assert one_step.tolist() == [[128, 128, 128]]


def test_spyx_map_dataset():
    import grain.python as grain

    ds = sd.SpyxMapDataset(Records(6))
    assert isinstance(ds, grain.MapDataset) and len(ds) == 6
    assert ds[4]["labels"] == 4
    assert [r["labels"] for r in ds[2:5]] == [2, 3, 4]
