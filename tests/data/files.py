"""Small data sets in the exact on-disk formats tonic reads, and independent NumPy references.

* SHD: ``<root>/SHD/shd_{train,test}.h5`` (HDF5: variable-length ``spikes/times`` in seconds and
  ``spikes/units``, ``labels``, ``extra/keys``, ``extra/speaker``) beside a ``shd_{split}.h5.zip`` file, which
  is all tonic's ``SHD`` checks before deciding not to download.
* N-MNIST: ``<root>/NMNIST/{Train,Test}/<digit>/<n>.bin`` (5 bytes per event: x, y, polarity in bit 7 of byte
  2 with timestamp bits 22-16 below it, timestamp bits 15-8, bits 7-0; microseconds) beside
  ``train.zip`` / ``test.zip``. tonic wants at least 10000 ``.bin`` files per split before it skips the
  download, so the tree holds 10 distinct recordings (one per digit) hard-linked 1000 times each.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

SHD_CHANNELS = 700
NMNIST_FILES_PER_DIGIT = 1000


# --------------------------------------------------------------------------------------------------- SHD
def write_shd(path: Path, times: list[np.ndarray], units: list[np.ndarray], labels, time_dtype=np.float32):
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        t = f.create_dataset("spikes/times", (len(times),), dtype=h5py.vlen_dtype(np.dtype(time_dtype)))
        u = f.create_dataset("spikes/units", (len(units),), dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
        for i, (ti, ui) in enumerate(zip(times, units, strict=True)):
            t[i] = np.asarray(ti, dtype=time_dtype)
            u[i] = np.asarray(ui, dtype=np.uint16)
        f.create_dataset("labels", data=np.asarray(labels, dtype=np.uint16))
        f.create_dataset("extra/keys", data=np.array([f"digit-{k}".encode() for k in range(20)]))
        f.create_dataset("extra/speaker", data=np.zeros(len(labels), dtype=np.uint16))
    (path.parent / (path.name + ".zip")).write_bytes(b"")  # tonic only checks that the archive exists


def random_shd_sample(rng, n_events: int, sample_T: int, channels: int, time_dtype=np.float32, t_max: float = 1.3):
    """Sorted times in [0, t_max) s (stored as ``time_dtype``) and units in [0, 700), avoiding values that land
    exactly on a bin edge (where tonic's float factor and the exact fraction could round apart)."""
    times = np.sort(rng.uniform(0.0, t_max, n_events)).astype(time_dtype)
    units = rng.integers(0, SHD_CHANNELS, n_events)
    t_us = np.trunc(times.astype(np.float64) * 1e6).astype(np.int64)
    ok = ((t_us * sample_T) % 10**6 != 0) & ((units == 0) | ((units * channels) % SHD_CHANNELS != 0))
    return times[ok], units[ok]


def shd_raster_reference(times, units, sample_T: int, channels: int) -> np.ndarray:
    """The SHD_loader raster, from the contract: finite times only; ``t_us = trunc(s * 1e6)``;
    ``bin = floor(t_us * sample_T / 1e6)``; ``x = floor(unit * channels / 700)``; ``R[bin, x] = 1`` for
    ``bin < sample_T``."""
    times = np.asarray(times, dtype=np.float64)
    units = np.asarray(units, dtype=np.int64)
    finite = np.isfinite(times)
    t_us = np.trunc(times[finite] * 1e6).astype(np.int64)
    bins = (t_us * sample_T) // 10**6
    x = (units[finite] * channels) // SHD_CHANNELS
    raster = np.zeros((sample_T, channels), dtype=np.uint8)
    for b, c in zip(bins, x, strict=True):
        if b < sample_T:
            raster[b, c] = 1
    return raster


# ----------------------------------------------------------------------------------------------- N-MNIST
def nmnist_bytes(x, y, ts, p) -> bytes:
    x, y, ts, p = (np.asarray(a, dtype=np.int64) for a in (x, y, ts, p))
    assert ts.max(initial=0) < 2**23
    raw = np.stack([x, y, (p << 7) | (ts >> 16), (ts >> 8) & 0xFF, ts & 0xFF], axis=1)
    return raw.astype(np.uint8).tobytes()


def random_nmnist_events(rng, n_events: int, duration_us: int = 300_000):
    ts = np.sort(rng.integers(0, duration_us, n_events))
    return rng.integers(0, 34, n_events), rng.integers(0, 34, n_events), ts, rng.integers(0, 2, n_events)


def nmnist_frames_reference(x, y, ts, p, sample_T: int) -> np.ndarray:
    """Binary frames ``[T, p, y, x]`` of ``ToFrame(n_time_bins=T)``: bin width ``w = (t_last - t_first) // T``,
    event ``e`` in bin ``(t_e - t_first) // w`` if that is ``< T`` (no event binned when ``w == 0``)."""
    frames = np.zeros((sample_T, 2, 34, 34), dtype=np.uint8)
    if len(ts) == 0:
        return frames
    ts = np.asarray(ts, dtype=np.int64)
    w = (ts[-1] - ts[0]) // sample_T
    if w == 0:
        return frames
    for xe, ye, te, pe in zip(x, y, ts, p, strict=True):
        b = (te - ts[0]) // w
        if b < sample_T:
            frames[b, pe, ye, xe] = 1
    return frames


def write_nmnist_tree(root: Path, recordings: dict[int, bytes]) -> None:
    """``root/NMNIST/{Train,Test}/<digit>/<n>.bin``: every file of digit ``d`` is a hard link to one
    recording ``recordings[d]`` (10 digits x 1000 files per split, the minimum tonic accepts)."""
    base = root / "NMNIST"
    for split, archive in (("Train", "train.zip"), ("Test", "test.zip")):
        for digit, content in recordings.items():
            folder = base / split / str(digit)
            folder.mkdir(parents=True, exist_ok=True)
            first = folder / "00000.bin"
            first.write_bytes(content)
            for n in range(1, NMNIST_FILES_PER_DIGIT):
                os.link(first, folder / f"{n:05d}.bin")
        (base / archive).write_bytes(b"")
