"""NIR input and output: :func:`load` / :func:`save` for files, converters for ``nir`` objects, atomic writes.

See ``docs/nir-io.md`` for what is read (every nir release 0.1.0 .. 1.0.8), the legacy spellings, the edge
repair rule, and what is written.
"""

from __future__ import annotations

import os

from spyx.errors import VerifyError
from spyx.io.atomic import atomic_path, atomic_save_npy, atomic_save_npz, atomic_write, atomic_write_json
from spyx.io.encode import ENCODERS
from spyx.io.nirgraph import from_nir_graph, to_nir_graph
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
    "load",
    "read_nir",
    "save",
    "to_nir_graph",
    "write_nir",
]


def load(
    path: str | os.PathLike[str],
    *,
    repair: bool = False,
    profile: str | None = None,
    max_bytes: int = MAX_BYTES,
    isolate: str | None = None,
) -> Graph:
    """The graph in the NIR file at ``path``, verified (:func:`spyx.ir.verify`).

    ``max_bytes`` is the memory budget (default 2 GiB): a dataset, or all datasets together, declaring more
    is refused before anything is read, and so is a graph whose signals or population state (per sample,
    float32) would exceed it (:class:`SizeError`, with the number of bytes; ``docs/nir-io.md``, Limits).
    ``isolate`` (``"auto"``, ``"always"``, ``"never"``) says whether the HDF5 library reads the file in a
    separate process with a time limit (:func:`read_nir`); by default only files that look damaged.

    ``profile`` (a name, spec or ``"auto"``, see :mod:`spyx.profiles`) says which framework's semantics the
    file is to be run with: it is recorded in the graph's metadata (``spyx.profile``), where
    :func:`spyx.compile` picks it up, and the exporter's known file slips that are not semantics (the
    sample's batch axis in Input/Output types) are fixed before verification. ``"auto"`` records the
    detected exporter (:func:`spyx.profiles.detect`) and raises :class:`OptionError` if the file is ambiguous.

    Use :func:`read_nir` for the stored version and the list of repairs. Raises :class:`ReadError`,
    :class:`FormatError`, :class:`DanglingEdgeError` or a :class:`VerifyError` kind (:class:`SizeError`
    included), each naming the file.
    """
    if profile is None:
        return read_nir(path, repair=repair, verify=True, max_bytes=max_bytes, isolate=isolate).graph
    from spyx.ir.verify import verify
    from spyx.profiles import PROFILE_KEY, resolve_profile
    from spyx.profiles.base import _each_graph
    from spyx.profiles.common import drop_batch_axis

    graph = read_nir(path, repair=repair, max_bytes=max_bytes, isolate=isolate).graph
    chosen, _ = resolve_profile(graph, profile)
    if chosen.name != "nir":
        graph, _ = _each_graph(graph, drop_batch_axis)
    meta = {**graph.metadata, PROFILE_KEY: chosen.spec()}
    graph = Graph(nodes=graph.nodes, edges=graph.edges, metadata=meta)
    try:
        return verify(graph, max_bytes=max_bytes)
    except VerifyError as e:
        raise type(e)([f"{os.fspath(path)}: {e.diagnostics[0]}", *e.diagnostics[1:]]) from None


def save(
    graph,
    path: str | os.PathLike[str],
    *,
    input_shape=None,
    dt: float | None = None,
    encoding: str = "faithful",
    profile: str | None = None,
) -> None:
    """Write ``graph`` to ``path`` as NIR, atomically (see :func:`write_nir`).

    ``graph`` may also be a spyx NNX model (``spyx.nn`` layers, ``Sequential``): it is exported first with
    :func:`spyx.nn.export` (``input_shape`` per sample in the model's layout, ``dt`` in seconds and the
    ``encoding``, ``"faithful"`` or ``"native"``, are then required/used).

    ``profile``: write the neuron parameters the way that framework's NIR importer reads them
    (:func:`spyx.profiles.encode_for`, at ``dt``), so that the peer runs what spyx runs for ``graph``.
    """
    if not isinstance(graph, Graph):
        graph = _export_model(graph, input_shape, dt, encoding)
    if profile is not None:
        from spyx.profiles import encode_for

        graph, _ = encode_for(graph, profile, dt=dt)
    write_nir(graph, path)


def _export_model(model, input_shape, dt, encoding) -> Graph:
    from flax import nnx

    from spyx.errors import ExportError

    if not isinstance(model, nnx.Module):
        raise ExportError(f"spyx.save expects a spyx Graph or a spyx NNX model, got {type(model).__name__}")
    if input_shape is None:
        raise ExportError(
            f"spyx.save of an NNX model ({type(model).__name__}) needs input_shape=(per-sample shape) and dt="
        )
    from spyx.nn.export import export

    return export(model, input_shape, dt=dt, encoding=encoding)
