"""spyx.data: spike encoders, bit packing, Grain transforms and the SHD / N-MNIST loaders (Spyx 1.0's API).

* Encoders (JAX, jitted): :func:`rate_code`, :func:`latency_code`, :func:`angle_code`, :func:`shift_augment`,
  :func:`shuffler` (:mod:`spyx.data.encode`).
* Bit packing along time (NumPy and JAX): :func:`pack`, :func:`unpack` (:mod:`spyx.data.packing`).
* A synthetic SHD-shaped task that needs no download: :func:`temporal_patterns` (:mod:`spyx.data.synthetic`).
* Batches: :data:`State` ``(obs, labels)``; :class:`TonicSource`, :class:`GrainLoader`, :class:`SpyxMapDataset`
  (:mod:`spyx.data.plumbing`); :class:`SHD_loader`, :class:`NMNIST_loader`.
* Grain transforms: :class:`RateCode`, :class:`LatencyCode`, :class:`AngleCode`, :class:`ShiftAugment`.

grain and tonic are the ``loaders`` extra (``pip install 'spyx[loaders]'``). ``import spyx.data`` imports
neither: the encoders and packing need only NumPy and JAX. The grain subclasses (the transforms and
``SpyxMapDataset``) are imported on first access and raise ``ImportError`` naming the extra when grain is
missing (they are listed in ``__all__`` only when grain is installed, so ``from spyx.data import *`` works
either way); ``GrainLoader`` and the loaders raise it when constructed. :data:`tonic_installed` says whether
tonic is present; when it is, tonic's HSD reader is patched (:mod:`spyx.data.tonic_patch`) as soon as tonic
loads it. See ``docs/data.md``.
"""

from __future__ import annotations

import importlib

from spyx.data import tonic_patch as _tonic_patch
from spyx.data.deps import _findable, tonic_installed
from spyx.data.encode import angle_code, latency_code, rate_code, shift_augment, shuffler
from spyx.data.nmnist import NMNIST_loader
from spyx.data.packing import pack, packed_length, unpack
from spyx.data.plumbing import GrainLoader, State, TonicSource
from spyx.data.shd import SHD_loader, _SHD2Raster  # noqa: F401  (_SHD2Raster: touched by Spyx 1.0's tests)
from spyx.data.synthetic import temporal_patterns

_tonic_patch.install(tonic_installed)

# Names defined by subclassing grain's classes: imported on first access (grain takes over a second to import).
_GRAIN_CLASSES = {
    "AngleCode": "spyx.data.transforms",
    "LatencyCode": "spyx.data.transforms",
    "RateCode": "spyx.data.transforms",
    "ShiftAugment": "spyx.data.transforms",
    "SpyxMapDataset": "spyx.data.mapdataset",
}


def __getattr__(name: str):
    module = _GRAIN_CLASSES.get(name)
    if module is None:
        raise AttributeError(f"module 'spyx.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_GRAIN_CLASSES))


__all__ = [
    "GrainLoader",
    "NMNIST_loader",
    "SHD_loader",
    "State",
    "TonicSource",
    "angle_code",
    "latency_code",
    "pack",
    "packed_length",
    "rate_code",
    "shift_augment",
    "shuffler",
    "temporal_patterns",
    "tonic_installed",
    "unpack",
    *(sorted(_GRAIN_CLASSES) if _findable("grain") else []),
]
