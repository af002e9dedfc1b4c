"""A safer reader for tonic's Heidelberg spiking data sets (SHD, SSC): ``HSD.__getitem__`` replaced.

Some SHD/SSC files carry NaN or inf in ``spikes/times``. tonic's own reader multiplies them by ``1e6`` and
casts them into the integer ``t`` field of its event array, where they become ``INT_MIN`` (with NumPy cast
warnings) and wreck the sample downstream. The replacement reader, for sample ``index`` of
``location_on_system/data_filename``:

1. reads ``spikes/times[index]`` as **float64** and ``spikes/units[index]``;
2. drops every non-finite time together with its unit;
3. builds tonic's structured events ``(t, x, p)`` with ``t = trunc(times * 1e6)`` (seconds to integer
   microseconds), ``x = units``, ``p = 1``;
4. reads ``labels[index]`` as ``int`` and applies ``transform`` / ``target_transform`` as tonic does.

A sample with times ``[0.1, nan, inf, 0.3]`` thus yields two events at ``t = 100000`` and ``300000`` µs. The
file is opened per sample and closed again (tonic's reader leaves it open). A file that cannot be read (not
HDF5, truncated, missing datasets), times and units of different lengths, negative or out-of-range times,
or units outside ``[0, sensor_size[0])`` raise :class:`spyx.errors.ReadError` naming the file and the
sample; an index past the end still raises ``IndexError`` (it ends iteration over the data set).

The replacement carries the marker ``HSD.__getitem__._spyx_patched = True`` and is installed at most once.
``import spyx.data`` installs it without importing tonic: at once when ``tonic.datasets.hsd`` is already
imported, otherwise by a one-shot import hook that patches the module right after it is first imported.
"""

from __future__ import annotations

import importlib.abc
import os
import sys

import numpy as np

from spyx.errors import ReadError

__all__ = ["install", "patch_tonic_hsd"]

_MODULE = "tonic.datasets.hsd"
_MAX_SECONDS = 9.2e12  # int64 microseconds hold up to ~9.22e12 s


def _hsd_getitem(self, index):
    import h5py
    from tonic.io import make_structured_array

    path = os.path.join(self.location_on_system, self.data_filename)
    try:
        with h5py.File(path, "r") as f:
            n = len(f["labels"])
            index = int(index) + n if int(index) < 0 else int(index)
            if not 0 <= index < n:
                raise IndexError(f"sample {index} is out of range for {n} samples in {path}")
            times = np.asarray(f["spikes/times"][index], dtype=np.float64)
            units = np.asarray(f["spikes/units"][index])
            label = np.asarray(f["labels"][index])
    except IndexError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as err:
        raise ReadError(f"{path}: cannot read SHD/SSC sample {index}: {err}") from err
    if times.shape != units.shape or times.ndim != 1:
        raise ReadError(
            f"{path}: sample {index} has spikes/times of shape {times.shape} but spikes/units of shape "
            f"{units.shape}; they must be 1-D and of equal length"
        )
    finite = np.isfinite(times)
    times, units = times[finite], units[finite]
    if times.size and (times.min() < 0 or times.max() >= _MAX_SECONDS):
        raise ReadError(
            f"{path}: sample {index} has spike times outside [0, {_MAX_SECONDS:g}) s "
            f"(min {times.min()!r}, max {times.max()!r})"
        )
    n_units = self.sensor_size[0]
    if units.size and (units.min() < 0 or units.max() >= n_units):
        raise ReadError(
            f"{path}: sample {index} has spike units outside [0, {n_units}) (min {units.min()}, max {units.max()})"
        )
    events = make_structured_array(times * 1e6, units, 1, dtype=self.dtype)
    target = label.astype(int)
    if self.transform is not None:
        events = self.transform(events)
    if self.target_transform is not None:
        target = self.target_transform(target)
    return events, target


_hsd_getitem._spyx_patched = True


def patch_tonic_hsd() -> bool:
    """Replace ``tonic.datasets.hsd.HSD.__getitem__`` (imports tonic). True if this call patched it."""
    module = sys.modules.get(_MODULE)
    if module is None:
        import tonic.datasets.hsd as module
    return _patch_module(module)


def _patch_module(module) -> bool:
    hsd = getattr(module, "HSD", None)
    if hsd is None or getattr(hsd.__getitem__, "_spyx_patched", False):
        return False
    hsd.__getitem__ = _hsd_getitem
    return True


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader of ``tonic.datasets.hsd``, then patches the fresh module."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _patch_module(module)

    def __getattr__(self, name):  # get_source, get_filename, ... for inspect and tracebacks
        return getattr(self._loader, name)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds ``tonic.datasets.hsd`` with the other finders and wraps its loader; removes itself once used."""

    def find_spec(self, fullname, path, target=None):
        if fullname != _MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                break
        else:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec.loader = _PatchingLoader(spec.loader)
        return spec


def install(tonic_installed: bool) -> None:
    """Patch now if tonic's HSD module is loaded, else arm the one-shot import hook (if tonic is installed)."""
    module = sys.modules.get(_MODULE)
    if module is not None:
        _patch_module(module)
        return
    if tonic_installed and not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
