"""``NMNIST_loader``: Neuromorphic MNIST through tonic, framed, packed, batched by grain.

Per sample: tonic ``NMNIST`` events ``(x, y, t µs, p)`` -> tonic ``ToFrame(sensor_size=(34, 34, 2),
n_time_bins=sample_T)`` (event counts ``(sample_T, 2, 34, 34)`` indexed ``[t, p, y, x]``; bin width
``(t_last - t_first) // sample_T`` µs, from the first event on) ->
:class:`~spyx.data.plumbing.TonicSource` (binarised, packed along time: ``uint8 (ceil(T/8), 2, 34, 34)``).

Each N-MNIST file is a sequence of 5-byte events; a file whose length is not a multiple of 5, or whose
events fall outside the 34 x 34 sensor, raises :class:`spyx.errors.ReadError` naming the file.
"""

from __future__ import annotations

import os

from spyx.data.deps import require_tonic
from spyx.data.plumbing import GrainLoader, TonicSource, _Chain
from spyx.errors import ReadError

__all__ = ["NMNIST_loader"]

_SENSOR = (34, 34, 2)
_EVENT_BYTES = 5


class _CheckedFiles:
    """tonic's NMNIST data set, reading each sample only after checking its file; errors name the file."""

    def __init__(self, ds):
        self.ds = ds

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i):
        path = self.ds.data[i]
        try:
            size = os.path.getsize(path)
        except OSError as err:
            raise ReadError(f"{path}: cannot read N-MNIST sample {i}: {err}") from err
        if size % _EVENT_BYTES:
            raise ReadError(
                f"{path}: an N-MNIST file holds 5-byte events, but this one has {size} bytes (truncated or not "
                "an N-MNIST file)"
            )
        try:
            return self.ds[i]
        except (ValueError, IndexError, OSError) as err:
            raise ReadError(f"{path}: cannot read N-MNIST sample {i}: {err}") from err

    def __repr__(self) -> str:
        return f"NMNIST({self.ds.location_on_system!r}, {len(self.ds)} files)"


def _events_in_sensor(events):
    """tonic's ToFrame, after checking the events lie on the sensor (it would index out of range or wrap)."""
    x, y = events["x"], events["y"]
    if len(events) and (x.max() >= _SENSOR[0] or y.max() >= _SENSOR[1] or x.min() < 0 or y.min() < 0):
        raise ValueError(f"events outside the {_SENSOR[0]} x {_SENSOR[1]} sensor (x max {x.max()}, y max {y.max()})")
    return events


def _open_split(datasets, download_dir, train: bool, transform):
    try:
        return datasets.NMNIST(download_dir, train=train, transform=transform)
    except OSError as err:
        folder = os.path.join(os.path.expanduser(download_dir), "NMNIST", "Train" if train else "Test")
        split = "train" if train else "test"
        raise ReadError(f"{folder}: cannot open (or download) the N-MNIST {split} split: {err}") from err


class NMNIST_loader:
    """Neuromorphic MNIST: ``State(obs uint8 [B, ceil(T/8), 2, 34, 34], labels [B])`` batches.

    Args:
        batch_size: samples per batch.
        sample_T: frames per sample (``ToFrame(n_time_bins=sample_T)``).
        key: seed of the training split's shuffle.
        download_dir: tonic's ``save_to``; the files are ``download_dir/NMNIST/{Train,Test}/<digit>/*.bin``
            (tonic downloads them on first use, which needs network access).
        worker_count: grain worker processes (``None``: half the cores in ``[1, 4]``; ``0``: none).

    Attributes ``batch_size``, ``sample_T``, ``obs_shape = (2, 34, 34)``, ``act_shape = (10,)``.
    ``train_epoch(epoch=0)`` / ``test_epoch(epoch=0)``: an iterator over one pass of the split (training
    shuffled with ``key``, test in file order), remainder dropped (see :mod:`spyx.data.plumbing`).
    """

    def __init__(self, batch_size=32, sample_T=40, key=0, download_dir="./data", worker_count=None):
        tonic = require_tonic("spyx.data.NMNIST_loader")
        self.batch_size = batch_size
        self.sample_T = sample_T
        self.obs_shape = (2, 34, 34)
        self.act_shape = (10,)
        transform = _Chain([_events_in_sensor, tonic.transforms.ToFrame(sensor_size=_SENSOR, n_time_bins=sample_T)])
        train = _CheckedFiles(_open_split(tonic.datasets, download_dir, True, transform))
        test = _CheckedFiles(_open_split(tonic.datasets, download_dir, False, transform))
        self._train_dl = GrainLoader(TonicSource(train), batch_size, shuffle=True, seed=key, worker_count=worker_count)
        self._test_dl = GrainLoader(TonicSource(test), batch_size, shuffle=False, seed=key, worker_count=worker_count)

    def train_epoch(self, epoch: int = 0):
        """Iterator over pass ``epoch`` of the shuffled training split (``len // batch_size`` batches)."""
        return self._train_dl.epoch(epoch)

    def test_epoch(self, epoch: int = 0):
        """Iterator over the test split in file order (``len // batch_size`` batches)."""
        return self._test_dl.epoch(epoch)
