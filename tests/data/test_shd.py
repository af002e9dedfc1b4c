"""SHD_loader through the real tonic on SHD-format HDF5 files written here: shapes, dtypes, labels, the
unpacked batches equal to the raster computed in NumPy from the written events, NaN/inf dropped (§6.6, §6.7),
and unreadable files raising ReadError naming the file."""

from __future__ import annotations

import re
import shutil
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spyx.data as sd
from spyx.errors import ReadError
from tests.data import files
from tests.data.conftest import SHD_C, SHD_T, needs_loaders

pytestmark = needs_loaders
B = 3


def _references(splits, split):
    times, units, labels = splits[split]
    rasters = np.stack([files.shd_raster_reference(t, u, SHD_T, SHD_C) for t, u in zip(times, units, strict=True)])
    return rasters, np.asarray(labels)


@pytest.fixture(scope="module")
def loader(shd_root):
    root, _ = shd_root
    return sd.SHD_loader(batch_size=B, sample_T=SHD_T, channels=SHD_C, key=4, download_dir=str(root), worker_count=0)


def test_attributes_and_the_patched_reader(loader):
    from tonic.datasets.hsd import HSD

    assert (loader.batch_size, loader.sample_T, loader.obs_shape, loader.act_shape) == (B, SHD_T, (SHD_C,), (20,))
    assert HSD.__getitem__._spyx_patched is True


def test_non_finite_times_are_dropped(shd_root):
    """Sample 3 was written with times [0.1, nan, inf, 0.3, -inf, 0.55] s and units [5, 6, 7, 8, 9, 699]."""
    import tonic

    root, _ = shd_root
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy cast warnings either
        events, label = tonic.datasets.SHD(str(root), train=True)[3]
    assert events["t"].tolist() == [100000, 300000, 550000]
    assert events["x"].tolist() == [5, 8, 699]
    assert int(label) == int(shd_root[1]["train"][2][3])


def test_test_epoch_is_the_files_in_order(loader, shd_root):
    rasters, labels = _references(shd_root[1], "test")
    batches = list(loader.test_epoch())
    assert len(batches) == 7 // B  # the seventh sample is the dropped remainder
    for j, (obs, lab) in enumerate(batches):
        assert obs.dtype == np.uint8 and obs.shape == (B, 2, SHD_C)  # ceil(13 / 8) = 2 bytes of time
        np.testing.assert_array_equal(sd.unpack(obs, SHD_T, axis=1), rasters[j * B : (j + 1) * B])
        np.testing.assert_array_equal(lab, labels[j * B : (j + 1) * B])


def test_train_epoch_is_one_shuffled_pass(loader, shd_root):
    rasters, labels = _references(shd_root[1], "train")
    order_loader = sd.GrainLoader(_Index(11), B, shuffle=True, seed=4, worker_count=0)  # the same sampler
    for k in (0, 1):
        order = np.concatenate([b.labels for b in order_loader.epoch(k)])
        got = list(loader.train_epoch(k))
        assert len(got) == 11 // B
        obs = np.concatenate([b.obs for b in got])
        np.testing.assert_array_equal(sd.unpack(obs, SHD_T, axis=1), rasters[order])
        np.testing.assert_array_equal(np.concatenate([b.labels for b in got]), labels[order])
    assert rasters[3].sum() == 3  # the NaN sample keeps its three finite events


class _Index:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"obs": np.zeros(1, np.uint8), "labels": i}


def test_prestage_and_unpacking_inside_a_jitted_step(loader, shd_root):
    rasters, labels = _references(shd_root[1], "train")
    obs, lab = loader.prestage("train")
    assert isinstance(obs, jax.Array) and obs.dtype == jnp.uint8 and obs.shape == (3, B, 2, SHD_C)
    assert lab.shape == (3, B) and lab.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(lab), labels[:9].reshape(3, B))

    @jax.jit
    def step(packed_batch):  # [B, ceil(T/8), C] -> [B, T, C] float32, on device
        return sd.unpack(packed_batch, SHD_T, axis=1, dtype=jnp.float32)

    for i in range(3):
        np.testing.assert_array_equal(np.asarray(step(obs[i])), rasters[i * B : (i + 1) * B].astype(np.float32))
    test_obs, test_lab = loader.prestage("test")
    assert test_obs.shape == (2, B, 2, SHD_C) and test_lab.shape == (2, B)
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        loader.prestage("valid")


def _copy(shd_root, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(shd_root[0], root)
    return root


def test_a_file_that_is_not_hdf5_raises_read_error_naming_it(shd_root, tmp_path):
    root = _copy(shd_root, tmp_path)
    bad = root / "SHD" / "shd_train.h5"
    bad.write_bytes(b"this is not an HDF5 file" * 10)
    with pytest.raises(ReadError, match=re.escape(str(bad))):
        sd.SHD_loader(batch_size=B, sample_T=SHD_T, channels=SHD_C, download_dir=str(root), worker_count=0)


def test_a_truncated_file_raises_read_error_naming_it(shd_root, tmp_path):
    root = _copy(shd_root, tmp_path)
    bad = root / "SHD" / "shd_test.h5"
    content = bad.read_bytes()
    bad.write_bytes(content[: len(content) // 2])
    with pytest.raises(ReadError, match=re.escape(str(bad))):
        loader = sd.SHD_loader(batch_size=B, sample_T=SHD_T, channels=SHD_C, download_dir=str(root), worker_count=0)
        loader.prestage("test")


@pytest.mark.slow
def test_a_corrupt_sample_raises_read_error_through_grain_workers(shd_root, tmp_path):
    """times and units of different lengths in one sample; read in a grain worker process (must not hang)."""
    root = _copy(shd_root, tmp_path)
    bad = root / "SHD" / "shd_test.h5"
    files.write_shd(bad, [np.array([0.1, 0.2]), np.array([0.3])], [np.array([1, 2]), np.array([3, 4])], [0, 1])
    loader = sd.SHD_loader(batch_size=2, sample_T=SHD_T, channels=SHD_C, download_dir=str(root), worker_count=1)
    with pytest.raises(ReadError, match=re.escape(f"{bad}: sample 1 has spikes/times of shape")):
        list(loader.test_epoch())
    with pytest.raises(ReadError, match=re.escape(str(bad))):
        loader.prestage("test")
