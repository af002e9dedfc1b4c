"""NIR input and output: :func:`load` / :func:`save` for files, converters for ``nir`` objects, atomic writes,
NIRData traces (:func:`read_traces` / :func:`write_traces`).

See ``docs/nir-io.md`` for what is read (every nir release 0.1.0 .. 1.0.8), the legacy spellings, the edge
repair rule, and what is written.
"""

from __future__ import annotations

import os

from spyx.io.atomic import atomic_path, atomic_save_npy, atomic_save_npz, atomic_write, atomic_write_json
from spyx.io.encode import ENCODERS
from spyx.io.nirdata import read_traces, write_traces
from spyx.io.nirgraph import from_nir_graph, is_nir_graph, to_nir_graph
from spyx.io.reader import LoadResult, read_nir
from spyx.io.spellings import EXTRA_PREFIX, NIR_VERSION
from spyx.io.writer import write_nir
from spyx.ir.graph import Graph
from spyx.limits import MAX_BYTES

__all__ = [
    "ENCODERS",
    "EXTRA_PREFIX",
    "LoadResult",
    "NIR_VERSION",
    "atomic_path",
    "atomic_save_npy",
    "atomic_save_npz",
    "atomic_write",
    "atomic_write_json",
    "from_nir_graph",
    "is_nir_graph",
    "load",
    "read_nir",
    "read_traces",
    "save",
    "to_nir_graph",
    "write_nir",
    "write_traces",
]


def load(
    path: str | os.PathLike[str],
    *,
    repair: bool = False,
    max_bytes: int = MAX_BYTES,
    isolate: str | None = None,
) -> Graph:
    """The graph in the NIR file at ``path``, verified (:func:`spyx.ir.verify`).

    ``max_bytes`` is the memory budget (default 2 GiB): a dataset, or all datasets together, declaring more
    is refused before anything is read, and so is a graph whose signals or population state (per sample,
    float32) would exceed it (:class:`SizeError`, with the number of bytes; ``docs/nir-io.md``, Limits).
    ``isolate`` (``"auto"``, ``"always"``, ``"never"``) says whether the HDF5 library reads the file in a
    separate process with a time limit (:func:`read_nir`); by default only files that look damaged.

    This is NIR as written. ``spyx.load(path, profile=...)`` (:mod:`spyx.tools.files`) reads a file with a
    peer framework's conventions. Use :func:`read_nir` for the stored version and the list of repairs.
    Raises :class:`ReadError`, :class:`FormatError`, :class:`DanglingEdgeError` or a :class:`VerifyError` kind
    (:class:`SizeError` included), each naming the file.
    """
    return read_nir(path, repair=repair, verify=True, max_bytes=max_bytes, isolate=isolate).graph


def save(graph: Graph, path: str | os.PathLike[str]) -> None:
    """Write ``graph`` to ``path`` as NIR, atomically (see :func:`write_nir`). ``spyx.save``
    (:mod:`spyx.tools.files`) also writes spyx NNX models and re-encodes for a peer's importer."""
    write_nir(graph, path)
