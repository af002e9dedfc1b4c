"""Dataset plumbing: the batch type ``State``, ``TonicSource`` and ``GrainLoader``.

``TonicSource`` turns a tonic data set (``ds[i] -> (frame [T, ...], label)``) into records
``{"obs": uint8 [ceil(T/8), ...], "labels": label}`` packed along time; ``GrainLoader`` batches a record
source with grain and yields ``State(obs [B, ceil(T/8), ...], labels [B])`` as NumPy arrays.

**Epochs.** Each ``iter(loader)`` is exactly one pass over the data: ``len(dataset) // batch_size`` batches,
the last ``len(dataset) % batch_size`` records of the pass dropped, then ``StopIteration``. The order of
the pass is grain's ``IndexSampler`` order for ``seed`` (identity without shuffling), so the batches are
the first ``len // batch_size`` batches Spyx 1.0 yields. (Spyx 1.0 with grain 0.2.18 never ends an
iterator: its sampler repeats forever, batches straddle the epoch boundary, and ``fit`` over
``loader.train_epoch`` would not terminate; spyx follows the documented one-epoch contract.) Every call
starts the same pass 0, as a fresh Spyx 1.0 iterator does; ``loader.epoch(k)`` gives pass ``k`` of grain's
sampler instead (a fresh shuffle for every ``k``, the order Spyx 1.0's endless iterator takes after ``k``
passes), for training loops that want a new order each epoch.
"""

from __future__ import annotations

import os
from collections import namedtuple

import numpy as np

from spyx.data.deps import require_grain

__all__ = ["GrainLoader", "State", "TonicSource"]

#: The batch type every loader yields: a named tuple, so ``obs, labels = batch`` works.
State = namedtuple("State", "obs labels")


def _default_worker_count() -> int:
    """Half the CPU cores, at least 1 and at most 4 (``os.cpu_count() // 2`` clipped to ``[1, 4]``)."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


class TonicSource:
    """Records ``{"obs": packbits(frame != 0, axis=0), "labels": label}`` from a tonic data set.

    ``ds[i]`` must return ``(frame, label)`` with time on axis 0 of ``frame``. Size-1 axes other than time
    are squeezed (SHD's ``(T, 1, C)``-style frames become ``(T, C)``), counts are binarised (nonzero -> 1)
    and time is bit-packed: ``obs`` is ``uint8 [ceil(T/8), ...]``. (Spyx 1.0 squeezes every size-1 axis,
    time included, which scrambles ``T = 1`` frames; spyx keeps the time axis.)
    """

    def __init__(self, ds):
        self.ds = ds

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i):
        frame, label = self.ds[i]
        frame = np.asarray(frame)
        if frame.ndim > 1:
            size_one = tuple(ax for ax in range(1, frame.ndim) if frame.shape[ax] == 1)
            frame = np.squeeze(frame, axis=size_one)
        return {"obs": np.packbits(frame != 0, axis=0), "labels": label}

    def __repr__(self) -> str:
        return f"TonicSource({self.ds!r})"


class _Chain:
    """Apply ``transforms`` in order, to empty samples too (``tonic.transforms.Compose`` stops at an empty event
    array and returns it unframed, which would break the packing of a sample without events)."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, events):
        for t in self.transforms:
            events = t(events)
        return events

    def __repr__(self) -> str:
        return f"Chain({self.transforms!r})"


class _OnePass:
    """Pass ``epoch`` of a grain ``IndexSampler`` (repeating forever) as a sampler of ``num_records`` indices.

    Index ``j`` of the pass is global index ``epoch * num_records + j`` of the endless sampler (its record
    key and per-record RNG), renumbered from 0 so grain's batching and state handling see a finite epoch.
    """

    def __init__(self, sampler, num_records: int, epoch: int):
        self._sampler = sampler
        self._num_records = num_records
        self._epoch = epoch

    def __len__(self) -> int:
        return self._num_records

    def __getitem__(self, index: int):
        if not 0 <= index < self._num_records:
            raise IndexError(f"index {index} is outside one pass of {self._num_records} records")
        meta = self._sampler[self._epoch * self._num_records + index]
        return type(meta)(index=index, record_key=meta.record_key, rng=meta.rng)

    def __repr__(self) -> str:
        return f"OnePass({self._sampler!r}, epoch={self._epoch})"


def _mark_absl_flags_parsed() -> None:
    """grain's worker processes read an absl flag; outside an absl app that read fails unless flags are parsed.

    Marking them parsed keeps every flag at its default (it is what grain's own tests do). Without this,
    ``worker_count > 0`` raises ``UnparsedFlagAccessError`` in a plain script (as Spyx 1.0 does).
    """
    from absl import flags

    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()


class GrainLoader:
    """Batches of a record source through grain: ``State(obs [batch_size, ...], labels [batch_size])``.

    Args:
        dataset: records ``{"obs": ..., "labels": ...}`` by index (a ``SpyxMapDataset``, a ``TonicSource``
            or any ``len`` + ``getitem`` object; picklable when ``worker_count > 0``).
        batch_size: records per batch (``>= 1``).
        shuffle: shuffle the order with grain's ``IndexSampler`` (a fresh permutation per pass).
        seed: the sampler's seed (a non-negative 32-bit int).
        worker_count: grain worker processes that read and transform records; ``None`` picks half the CPU
            cores in ``[1, 4]``, ``0`` reads in this process (no multiprocessing).

    ``iter(loader)`` is one pass (see the module docstring): ``len(dataset) // batch_size`` batches, the
    remainder dropped. ``loader.epoch(k)`` is pass ``k``. Batch ``j`` of a pass holds records
    ``j*batch_size .. (j+1)*batch_size - 1`` of the pass's order, stacked per key with ``np.stack``, whatever
    ``worker_count`` is. (grain's ``DataLoader`` with a ``Batch`` operation, as Spyx 1.0 builds it, batches
    inside each worker: with ``W`` workers a batch holds every ``W``-th record and each worker drops its own
    remainder. spyx lets grain's workers deliver records in sampler order and batches them here.)
    ``loader.data_loader`` is the ``grain.DataLoader`` of pass 0's records.
    """

    def __init__(self, dataset, batch_size: int, shuffle: bool, seed: int = 0, worker_count: int | None = None):
        grain = require_grain("spyx.data.GrainLoader")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self._grain = grain
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.worker_count = _default_worker_count() if worker_count is None else int(worker_count)
        self._num_records = len(dataset)
        self._sampler = grain.IndexSampler(
            num_records=self._num_records, shuffle=self.shuffle, seed=seed, shard_options=grain.NoSharding()
        )
        self.data_loader = self._loader(0)

    def __len__(self) -> int:
        """Batches per pass: ``len(dataset) // batch_size``."""
        return self._num_records // self.batch_size

    def _loader(self, epoch: int):
        return self._grain.DataLoader(
            data_source=self.dataset,
            sampler=_OnePass(self._sampler, self._num_records, epoch),
            worker_count=self.worker_count,
            shard_options=self._grain.NoSharding(),
        )

    def epoch(self, k: int = 0):
        """An iterator over pass ``k`` (``k >= 0``) of the sampler: ``len(self)`` batches, then it stops."""
        k = int(k)
        if k < 0:
            raise ValueError(f"epoch must be >= 0, got {k}")
        return self._batches(self.data_loader if k == 0 else self._loader(k))

    def __iter__(self):
        return self.epoch(0)

    def _batches(self, data_loader):
        if self.worker_count > 0:
            _mark_absl_flags_parsed()
        it = iter(data_loader)
        try:
            for _ in range(len(self)):
                records = [next(it) for _ in range(self.batch_size)]
                yield State(
                    obs=np.stack([np.asarray(r["obs"]) for r in records]),
                    labels=np.stack([np.asarray(r["labels"]) for r in records]),
                )
        finally:
            # Stop grain's prefetch threads and worker processes now, not at garbage collection (which may
            # come at interpreter exit, when grain's cleanup fails noisily).
            close = getattr(getattr(it, "_iterator", None), "close", None)
            if close is not None:
                close()
