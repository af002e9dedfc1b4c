"""NIRData traces: recorded signals of a graph's nodes in nir 1.0.8's data format (``nir.read_data`` /
``nir.write_data``, ``TimeGriddedData`` and ``EventData``), read and written with h5py.

The file layout (nir 1.0.8, ``nir/read.py`` and ``nir/write.py``)::

    /                       attrs __type__ = "NIRGraphData"
    /nodes/<node>           attrs __type__ = "NIRNodeData"
    /nodes/<node>/observables/<name>
        TimeGriddedData:    attrs __type__, dt;              dataset data (n_samples, n_time_steps, n_neurons)
        EventData:          attrs __type__, n_neurons, t_max; datasets idx, time (n_samples, n_events),
                            idx -1 / time inf where a sample has fewer events

What spyx writes: ``TimeGriddedData`` only, every dataset gzip-compressed (nir 1.0.8's default), one node per
graph Output (observable ``output``) and, for neuron traces, one per neuron (observables ``v``, ``i``, ``s``,
``a``: what :meth:`spyx.Program.run_traced` records). spyx arrays are time-major ``(T, B, *shape)``; NIRData
is sample-major with the neurons flat, so an observable is stored ``(B, T, prod(shape))`` and the per-sample
shape is kept in the extra attribute ``spyx.shape`` (nir ignores attributes it does not know). ``dt`` is the
program's step in seconds (``1.0``, one step, for a graph that has none). nir releases before 1.0.8 have no
trace format at all; the file is plain HDF5, and h5py reads the gzip datasets without nir.

What spyx reads: ``TimeGriddedData`` (any dtype, made float32), and ``EventData`` binned to the program's
``dt``: an event at time ``t`` counts in step ``floor(t / dt)`` (events in one step add up, so several spikes
of one neuron in a step give that count), ``T = round(t_max / dt)`` steps. ``ValuedEventData``, a
``TimeGriddedData`` whose ``dt`` is not the program's, and events outside ``[0, t_max)`` raise
:class:`InputError` naming the node and observable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from spyx.errors import InputError, ReadError
from spyx.io.atomic import atomic_write

__all__ = ["NIRDATA_SUFFIXES", "is_nirdata_path", "read_traces", "write_traces"]

NIRDATA_SUFFIXES = (".h5", ".hdf5")  # a trace file is told from .npy/.npz by its extension
SHAPE_ATTR = "spyx.shape"


def is_nirdata_path(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in NIRDATA_SUFFIXES


def write_traces(
    path: str | os.PathLike[str], traces: Mapping[str, Mapping[str, np.ndarray]], dt: float | None
) -> None:
    """Write ``traces`` (node -> observable -> ``(T, B, *shape)`` array) to ``path`` as NIRData
    ``TimeGriddedData`` at ``dt`` seconds, atomically (the layout of the module docstring)."""
    import h5py  # a core dependency, imported where used: `import spyx` does not load HDF5
    step = 1.0 if dt is None else float(dt)
    if not (np.isfinite(step) and step > 0):
        raise InputError(f"write_traces: dt must be a positive number of seconds, got {dt!r}")
    checked = {}
    for node, observables in traces.items():
        for name, value in observables.items():
            a = np.asarray(value)
            if a.ndim < 2:
                raise InputError(f"write_traces: {node}/{name} has shape {a.shape}; expected (T, B, *shape)")
            checked[(node, name)] = a

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            f.attrs["__type__"] = "NIRGraphData"
            nodes = f.create_group("nodes")
            for (node, name), a in checked.items():
                group = nodes.require_group(node)
                group.attrs["__type__"] = "NIRNodeData"
                obs = group.require_group("observables").create_group(name)
                obs.attrs["__type__"] = "TimeGriddedData"
                obs.attrs["dt"] = step
                if a.ndim > 2:
                    obs.attrs[SHAPE_ATTR] = np.asarray(a.shape[2:], np.int64)
                flat = np.moveaxis(a, 0, 1).reshape(a.shape[1], a.shape[0], -1)  # (B, T, neurons)
                obs.create_dataset("data", data=flat, compression="gzip")

    atomic_write(path, write)


def read_traces(path: str | os.PathLike[str], *, dt: float | None = None) -> dict[str, dict[str, np.ndarray]]:
    """The observables of a NIRData file: node -> observable -> float32 ``(T, B, *shape)`` (the module
    docstring says what is read). ``dt``: the program's step, needed for ``EventData`` and checked against a
    ``TimeGriddedData``'s own ``dt``. Raises :class:`ReadError` (not a NIRData file) or :class:`InputError`."""
    import h5py  # a core dependency, imported where used: `import spyx` does not load HDF5
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path}: trace file not found")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ReadError(f"{path}: not an HDF5 file ({e})") from None
    with f:
        if f.attrs.get("__type__") != "NIRGraphData" or "nodes" not in f:
            raise ReadError(f"{path}: not a NIRData file (the root's __type__ is not NIRGraphData)")
        out: dict[str, dict[str, np.ndarray]] = {}
        for node, group in f["nodes"].items():
            if group.attrs.get("__type__") != "NIRNodeData" or "observables" not in group:
                raise InputError(f"{path}: node {node} is not NIRNodeData (nested NIRGraphData is not read)")
            out[node] = {
                name: _observable(obs, f"{path}: {node}/{name}", dt) for name, obs in group["observables"].items()
            }
    return out


def _observable(obs, where: str, dt: float | None) -> np.ndarray:
    kind = obs.attrs.get("__type__")
    if isinstance(kind, bytes):
        kind = kind.decode()
    if kind == "TimeGriddedData":
        data = np.asarray(obs["data"][()])
        if data.ndim != 3:
            raise InputError(f"{where}: TimeGriddedData must be (samples, steps, neurons), got {data.shape}")
        own = float(obs.attrs["dt"])
        if dt is not None and not np.isclose(own, dt, rtol=1e-6, atol=0):
            raise InputError(f"{where}: recorded at dt = {own:g} s, the program steps dt = {dt:g} s; resample it")
        return _time_major(data, obs, where)
    if kind == "EventData":
        return _time_major(_binned(obs, where, dt), obs, where)
    raise InputError(
        f"{where}: {kind} is not read (spyx reads TimeGriddedData and EventData; bin ValuedEventData yourself)"
    )


def _binned(obs, where: str, dt: float | None) -> np.ndarray:
    """EventData as counts per step: (samples, steps, neurons)."""
    if dt is None:
        raise InputError(f"{where}: EventData needs the program's dt to be binned; pass dt (CLI: --dt)")
    idx, time = np.asarray(obs["idx"][()]), np.asarray(obs["time"][()], np.float64)
    n, t_max = int(obs.attrs["n_neurons"]), float(obs.attrs["t_max"])
    steps = int(round(t_max / dt))
    valid = idx >= 0
    t = time[valid]
    if np.any(t < 0) or np.any(t >= t_max) or np.any(idx[valid] >= n):
        raise InputError(f"{where}: an event lies outside [0, t_max = {t_max:g}) or names a neuron >= {n}")
    sample = np.broadcast_to(np.arange(idx.shape[0])[:, None], idx.shape)[valid]
    counts = np.zeros((idx.shape[0], steps, n), np.float32)
    np.add.at(counts, (sample, np.minimum(np.floor(t / dt).astype(np.int64), steps - 1), idx[valid]), 1.0)
    return counts


def _time_major(data: np.ndarray, obs, where: str) -> np.ndarray:
    shape = tuple(int(s) for s in obs.attrs.get(SHAPE_ATTR, (data.shape[2],)))
    if int(np.prod(shape)) != data.shape[2]:
        raise InputError(f"{where}: {SHAPE_ATTR} {shape} does not hold {data.shape[2]} neurons")
    return np.moveaxis(data.astype(np.float32), 1, 0).reshape(data.shape[1], data.shape[0], *shape)
