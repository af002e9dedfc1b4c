"""``SHD_loader``: the Spiking Heidelberg Digits through tonic, rasterised, packed, batched by grain.

Per sample (tonic events ``t`` in integer µs, channel ``x`` in ``[0, 700)``):

1. tonic ``Downsample(time_factor = 1e-6 / (1 / sample_T), spatial_factor = channels / 700)``:
   ``t <- trunc(t * sample_T * 1e-6)`` (bins of ``1 / sample_T`` seconds), ``x <- trunc(x * channels / 700)``;
2. :class:`_SHD2Raster`: ``R[t, x] = 1`` for every event with ``t < sample_T`` (binary ``uint8
   (sample_T, channels)``; events after ``sample_T`` bins, i.e. after 1 s, are dropped);
3. :class:`~spyx.data.plumbing.TonicSource`: packed along time, ``uint8 (ceil(sample_T/8), channels)``.

Reading goes through spyx's HSD reader (:mod:`spyx.data.tonic_patch`): non-finite spike times are dropped
and unreadable files raise :class:`spyx.errors.ReadError` naming the file.
"""

from __future__ import annotations

import os

import numpy as np

from spyx.data.deps import require_tonic
from spyx.data.plumbing import GrainLoader, TonicSource, _Chain
from spyx.errors import ReadError

__all__ = ["SHD_loader"]

_SHD_CHANNELS = 700
_SHD_TICK_S = 1e-6  # tonic's HSD events are in microseconds


class _SHD2Raster:
    """Binary raster ``uint8 (sample_T, encoding_dim)`` of downsampled events: ``R[t, x] = 1`` if any event
    has bin ``t < sample_T`` and channel ``x``; an empty sample gives all zeros.

    Same result as counting events into a ``(max t + 1, encoding_dim)`` grid, keeping the first ``sample_T``
    rows, zero-padding to ``sample_T`` rows and clipping counts to 1 (Spyx 1.0's description), without the
    grid of ``max t + 1`` rows (and without Spyx 1.0's ``uint8`` count wrapping to 0 at 256 events in a cell).
    """

    def __init__(self, encoding_dim: int, sample_T: int = 128):
        self.encoding_dim = encoding_dim
        self.sample_T = sample_T

    def __call__(self, events):
        raster = np.zeros((self.sample_T, self.encoding_dim), dtype=np.uint8)
        t = np.asarray(events["t"], dtype=np.int64)
        x = np.asarray(events["x"], dtype=np.int64)
        keep = (t >= 0) & (t < self.sample_T)
        raster[t[keep], x[keep]] = 1
        return raster


def _open_split(datasets, download_dir, train: bool, transform):
    split = "train" if train else "test"
    try:
        return datasets.SHD(download_dir, train=train, transform=transform)
    except (OSError, KeyError) as err:
        path = os.path.join(os.path.expanduser(download_dir), "SHD", f"shd_{split}.h5")
        raise ReadError(f"{path}: cannot open (or download) the SHD {split} split: {err}") from err


class SHD_loader:
    """Spiking Heidelberg Digits: ``State(obs uint8 [B, ceil(T/8), channels], labels [B])`` batches.

    Args:
        batch_size: samples per batch.
        sample_T: time bins per sample (bins of ``1 / sample_T`` s: the first second of each recording).
        channels: input channels; the 700 cochlea channels are merged ``700 / channels`` to one.
        key: seed of the training split's shuffle.
        download_dir: tonic's ``save_to``; the files are ``download_dir/SHD/shd_{train,test}.h5`` (tonic
            downloads them on first use, which needs network access).
        worker_count: grain worker processes (``None``: half the cores in ``[1, 4]``; ``0``: none).

    Attributes ``batch_size``, ``sample_T``, ``obs_shape = (channels,)``, ``act_shape = (20,)``.
    ``train_epoch(epoch=0)`` / ``test_epoch(epoch=0)``: an iterator over one pass of the split (training
    shuffled with ``key``, test in file order), remainder dropped; see :mod:`spyx.data.plumbing` for the
    epoch semantics. ``prestage(split)``: the whole split as device arrays.
    """

    def __init__(self, batch_size=256, sample_T=128, channels=128, key=0, download_dir="./data", worker_count=None):
        tonic = require_tonic("spyx.data.SHD_loader")
        self.batch_size = batch_size
        self.sample_T = sample_T
        self.obs_shape = (channels,)
        self.act_shape = (20,)
        transform = _Chain(
            [
                # 1e-6 / (1 / sample_T), not 1e-6 * sample_T: the same float as Spyx 1.0 at bin edges.
                tonic.transforms.Downsample(
                    time_factor=_SHD_TICK_S / (1 / sample_T), spatial_factor=channels / _SHD_CHANNELS
                ),
                _SHD2Raster(encoding_dim=channels, sample_T=sample_T),
            ]
        )
        self._train_tonic = _open_split(tonic.datasets, download_dir, True, transform)
        self._test_tonic = _open_split(tonic.datasets, download_dir, False, transform)
        self._train_dl = GrainLoader(
            TonicSource(self._train_tonic), batch_size, shuffle=True, seed=key, worker_count=worker_count
        )
        self._test_dl = GrainLoader(
            TonicSource(self._test_tonic), batch_size, shuffle=False, seed=key, worker_count=worker_count
        )

    def train_epoch(self, epoch: int = 0):
        """Iterator over pass ``epoch`` of the shuffled training split (``len // batch_size`` batches)."""
        return self._train_dl.epoch(epoch)

    def test_epoch(self, epoch: int = 0):
        """Iterator over the test split in file order (``len // batch_size`` batches)."""
        return self._test_dl.epoch(epoch)

    def prestage(self, split: str = "train"):
        """The whole split as device arrays, for training from device memory.

        Reads every sample of ``split`` in file order in this process (no shuffle, no workers), packs it
        along time and drops the trailing partial batch. Returns ``(obs, labels)`` as ``jnp`` arrays:
        ``obs uint8 [n_batches, batch_size, ceil(T/8), channels]`` (unpack with
        ``spyx.data.unpack(obs[i], sample_T, axis=1)`` inside the step) and ``labels [n_batches, batch_size]``
        (int64 read, int32 on device without x64), ``n_batches = len(split) // batch_size``.
        """
        import jax.numpy as jnp

        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
        ds = self._train_tonic if split == "train" else self._test_tonic
        n = len(ds)
        n_batches = n // self.batch_size
        kept = n_batches * self.batch_size
        t_packed = -(-self.sample_T // 8)
        obs = np.zeros((kept, t_packed, self.obs_shape[0]), dtype=np.uint8)
        labels = np.zeros((kept,), dtype=np.int64)
        for i in range(kept):
            frame, label = ds[i]
            obs[i] = np.packbits(np.asarray(frame) != 0, axis=0)
            labels[i] = int(label)
        obs = obs.reshape(n_batches, self.batch_size, t_packed, self.obs_shape[0])
        return jnp.asarray(obs), jnp.asarray(labels.reshape(n_batches, self.batch_size))
