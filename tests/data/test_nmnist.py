"""NMNIST_loader through the real tonic on an N-MNIST tree of binary event files written here: shapes,
dtypes, labels, the unpacked batches equal to ToFrame's binning recomputed in NumPy, and truncated or
corrupt files raising ReadError naming the file."""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest

import spyx.data as sd
from spyx.errors import ReadError
from tests.data import files
from tests.data.conftest import NMNIST_T, needs_loaders

pytestmark = needs_loaders
B = 8


def _loader(root, **kw):
    return sd.NMNIST_loader(batch_size=B, sample_T=NMNIST_T, key=3, download_dir=str(root), worker_count=0, **kw)


@pytest.fixture(scope="module")
def loader(nmnist_root):
    return _loader(nmnist_root[0])


def test_attributes(loader):
    assert (loader.batch_size, loader.sample_T, loader.obs_shape, loader.act_shape) == (B, NMNIST_T, (2, 34, 34), (10,))
    assert len(loader._train_dl) == len(loader._test_dl) == 10 * files.NMNIST_FILES_PER_DIGIT // B


def test_test_epoch_starts_with_the_first_files_in_order(loader, nmnist_root):
    frames = nmnist_root[1]
    it = loader.test_epoch()
    for _ in range(2):
        obs, labels = next(it)
        assert obs.dtype == np.uint8 and obs.shape == (B, 2, 2, 34, 34)  # ceil(11 / 8) = 2 bytes of time
        assert labels.tolist() == [0] * B  # Test/0/00000.bin ... come first
        np.testing.assert_array_equal(sd.unpack(obs, NMNIST_T, axis=1), np.stack([frames[0]] * B))
    it.close()


def test_train_epoch_is_shuffled_and_every_frame_matches_its_digit(loader, nmnist_root):
    frames = nmnist_root[1]
    it = loader.train_epoch()
    seen = []
    for _ in range(3):
        obs, labels = next(it)
        unpacked = sd.unpack(obs, NMNIST_T, axis=1)
        for x, label in zip(unpacked, labels.tolist(), strict=True):
            np.testing.assert_array_equal(x, frames[label])
        seen += labels.tolist()
    it.close()
    assert len(set(seen)) > 3  # shuffled across digit folders
    assert frames[9].sum() == 0 and frames[0].sum() > 0  # digit 9's recording is empty


def _copy_with_one_file(nmnist_root, tmp_path, content: bytes):
    """A hard-linked copy of the tree whose first test file is replaced by ``content``."""
    root = tmp_path / "data"
    shutil.copytree(nmnist_root[0], root, copy_function=os.link)
    bad = root / "NMNIST" / "Test" / "0" / "00000.bin"
    bad.unlink()
    bad.write_bytes(content)
    return root, bad


def test_a_truncated_file_raises_read_error_naming_it(nmnist_root, tmp_path):
    good = files.nmnist_bytes([1, 2], [3, 4], [10, 20], [0, 1])
    root, bad = _copy_with_one_file(nmnist_root, tmp_path, good[:-1])  # one byte short: 9 bytes
    message = f"{bad}: an N-MNIST file holds 5-byte events, but this one has 9 bytes"
    with pytest.raises(ReadError, match=re.escape(message)):
        next(_loader(root).test_epoch())


def test_events_off_the_sensor_raise_read_error_naming_the_file(nmnist_root, tmp_path):
    root, bad = _copy_with_one_file(nmnist_root, tmp_path, files.nmnist_bytes([1, 40], [3, 4], [10, 20], [0, 1]))
    message = f"{bad}: cannot read N-MNIST sample 0: events outside the 34 x 34 sensor"
    with pytest.raises(ReadError, match=re.escape(message)):
        next(_loader(root).test_epoch())
