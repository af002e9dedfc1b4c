"""Write a spyx IR graph as a NIR file (HDF5) that ``nir.read`` (nir 1.0.8) accepts.

The graph is verified first (:func:`spyx.ir.verify`), encoded (:mod:`spyx.io.encode`), and written through
:func:`spyx.io.atomic.atomic_write`: an error leaves any existing file untouched. Every parameter is written
with its own dtype and shape (no casting; 0-d scalars stay scalars); strings as UTF-8 variable-length
strings; ``edges`` as an (N, 2) string dataset; groups track creation order, so nodes read back in
the graph's order; metadata as a group of datasets (nested dicts as groups).
Arrays with at least 64 elements are gzip-compressed (lossless, as ``nir.write`` does).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from spyx.errors import ExportError
from spyx.io.atomic import atomic_write
from spyx.io.encode import encode_node
from spyx.io.spellings import NIR_VERSION
from spyx.ir.graph import Graph
from spyx.ir.verify import verify

__all__ = ["write_nir"]

_COMPRESS_MIN = 64


def write_nir(graph: Graph, path: str | os.PathLike[str]) -> Path:
    """Verify ``graph`` and write it to ``path`` as NIR (version :data:`~spyx.io.spellings.NIR_VERSION`).

    Raises:
        VerifyError: the graph is invalid (nothing is written).
        ExportError: the graph holds a kind with no NIR form (``spyx.Neuron``, ``spyx.Shift``) or a metadata
            value HDF5 cannot store (nothing is written).
    """
    if not isinstance(graph, Graph):
        raise ExportError(f"write_nir needs a spyx.ir.Graph, got {type(graph).__name__}")
    verify(graph)
    tree = encode_node(graph)
    target = Path(path)

    def write(tmp: Path) -> None:
        import h5py

        with h5py.File(tmp, "w") as f:
            f.create_dataset("version", data=NIR_VERSION, dtype=h5py.string_dtype())
            _write_group(f.create_group("node", track_order=True), tree, "node")

    atomic_write(target, write)
    return target


def _write_group(group, tree: Mapping[str, Any], where: str) -> None:
    import h5py

    for key, value in tree.items():
        name = f"{where}/{key}"
        if isinstance(value, Mapping):
            _write_group(group.create_group(str(key), track_order=True), value, name)
        elif key == "edges" and isinstance(value, list):
            data = np.array(value, dtype=object).reshape(-1, 2) if value else np.empty((0, 2), dtype=object)
            group.create_dataset(key, data=data, dtype=h5py.string_dtype())
        else:
            _write_dataset(group, str(key), value, name)


def _write_dataset(group, key: str, value: Any, where: str) -> None:
    import h5py

    if isinstance(value, str):
        group.create_dataset(key, data=value, dtype=h5py.string_dtype())
        return
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        group.create_dataset(key, data=np.array(value, dtype=object), dtype=h5py.string_dtype())
        return
    arr = np.asarray(value)
    if arr.dtype.kind in "OUS" and all(isinstance(x, str | bytes) for x in arr.reshape(-1)):
        group.create_dataset(key, data=arr.astype(object), dtype=h5py.string_dtype())
        return
    if arr.dtype.kind not in "biufc":
        raise ExportError(f"{where}: cannot store {type(value).__name__} {value!r} in a NIR file")
    opts = {"compression": "gzip"} if arr.ndim and arr.size >= _COMPRESS_MIN else {}
    group.create_dataset(key, data=arr, dtype=arr.dtype, **opts)
