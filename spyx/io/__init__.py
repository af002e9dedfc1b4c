"""NIR input and output: :func:`load` / :func:`save` for files, converters for ``nir`` objects, atomic writes.

See ``docs/nir-io.md`` for what is read (every nir release 0.1.0 .. 1.0.8), the legacy spellings, the edge
repair rule, and what is written.
"""

from __future__ import annotations

import os

from spyx.io.atomic import atomic_path, atomic_save_npy, atomic_save_npz, atomic_write, atomic_write_json
from spyx.io.encode import ENCODERS
from spyx.io.nirgraph import from_nir_graph, to_nir_graph
from spyx.io.reader import LoadResult, read_nir
from spyx.io.spellings import EXTRA_PREFIX, NIR_VERSION
from spyx.io.writer import write_nir
from spyx.ir.graph import Graph

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
    "load",
    "read_nir",
    "save",
    "to_nir_graph",
    "write_nir",
]


def load(path: str | os.PathLike[str], *, repair: bool = False) -> Graph:
    """The graph in the NIR file at ``path``, verified (:func:`spyx.ir.verify`).

    Use :func:`read_nir` for the stored version and the list of repairs. Raises :class:`ReadError`,
    :class:`FormatError`, :class:`DanglingEdgeError` or a :class:`VerifyError` kind, each naming the file.
    """
    return read_nir(path, repair=repair, verify=True).graph


def save(graph: Graph, path: str | os.PathLike[str]) -> None:
    """Write ``graph`` to ``path`` as NIR, atomically (see :func:`write_nir`)."""
    write_nir(graph, path)
