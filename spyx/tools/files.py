"""``spyx.load`` / ``spyx.save``: NIR files with a profile, and spyx NNX models, over :mod:`spyx.io`.

:mod:`spyx.io` reads and writes NIR files and nothing else; this layer adds what needs the layers above it:
``load(path, profile=...)`` runs the first stage of the lowering pipeline (the profile's fixups,
:func:`spyx.profiles.pipeline.prepare`) and records the profile for the compile that follows; ``save`` of an
NNX model exports it (:func:`spyx.nn.export`) and ``save(profile=...)`` re-encodes the neurons for a peer's
importer (:func:`spyx.profiles.encode_for`).
"""

from __future__ import annotations

import os
import warnings

from spyx.errors import ArgumentError, AssumptionWarning, ExportError, VerifyError
from spyx.io import read_nir, write_nir
from spyx.io.nirgraph import from_nir_graph, is_nir_graph
from spyx.ir.graph import Graph
from spyx.ir.verify import verify
from spyx.limits import MAX_BYTES
from spyx.profiles.api import encode_for
from spyx.profiles.pipeline import prepare

__all__ = ["load", "save"]


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
    separate process with a time limit (:func:`spyx.io.read_nir`); by default only files that look damaged.

    ``profile`` (a name, spec or ``"auto"``, see :mod:`spyx.profiles`) says which framework's semantics the
    file is to be run with: it is recorded in the graph's metadata (``spyx.profile``), where
    :func:`spyx.compile` picks it up, and the exporter's known file slips that are not semantics (the
    sample's batch axis in Input/Output types) are fixed before verification (the profile's fixups, the
    first stage of the lowering pipeline). ``"auto"`` records the detected exporter
    (:func:`spyx.profiles.detect`) and raises :class:`OptionError` if the file is ambiguous.

    Use :func:`spyx.io.read_nir` for the stored version and the list of repairs. Raises :class:`ReadError`,
    :class:`FormatError`, :class:`DanglingEdgeError` or a :class:`VerifyError` kind (:class:`SizeError`
    included), each naming the file.
    """
    if profile is None:
        return read_nir(path, repair=repair, verify=True, max_bytes=max_bytes, isolate=isolate).graph
    graph = read_nir(path, repair=repair, max_bytes=max_bytes, isolate=isolate).graph
    graph, _, notes = prepare(graph, profile)
    for line in notes:  # what profile="auto" assumed (spyx.profiles.resolve): said, never silent
        if line.startswith(("note: ", "warning: ")):
            warnings.warn(line.partition(": ")[2], AssumptionWarning, stacklevel=2)
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
    params=None,
) -> None:
    """Write ``graph`` to ``path`` as NIR, atomically (see :func:`spyx.io.write_nir`).

    ``graph`` may also be a spyx NNX model (``spyx.nn`` layers, ``Sequential``): it is exported first with
    :func:`spyx.nn.export` (``input_shape`` per sample in the model's layout, ``dt`` in seconds and the
    ``encoding``, ``"faithful"`` or ``"native"``, are then required/used).

    ``profile``: write the neuron parameters the way that framework's NIR importer reads them
    (:func:`spyx.profiles.encode_for`, at ``dt``), so that the peer runs what spyx runs for ``graph``.

    ``graph`` may be a ``nir.NIRGraph`` (``nir.read``, a peer's exporter): it is decoded, verified and written
    through spyx's writer.

    ``graph`` may be a compiled :class:`spyx.Program` or a :class:`spyx.nn.NIRModule` (``spyx.nn.from_nir``):
    its current parameters (a program's ``params``, or ``params=`` given here, e.g. fine-tuned ones; a
    module's own) are written back as the continuous graph that ``spyx.load(path, profile=P)`` then
    ``spyx.compile`` turns into the same program, ``P`` being ``profile`` or, by default, the profile the
    program was compiled with (:meth:`spyx.Program.export`, :mod:`spyx.profiles.invert`). For a program,
    ``profile`` is thus the profile the file is to be *loaded with*, not a peer importer's encoding;
    ``profile="nir"`` writes plain NIR. Raises :class:`ExportError` naming the node whose parameters that
    convention cannot express.
    """
    if isinstance(graph, str | os.PathLike) and not isinstance(path, str | os.PathLike):
        raise ArgumentError(
            f"spyx.save: the arguments are spyx.save(graph, path); got a path first ({os.fspath(graph)!r}) and "
            f"a {type(path).__name__} second"
        )
    program = _program_of(graph)
    if program is not None:
        values = params if params is not None else _module_params(graph)
        write_nir(program.export(values, profile=profile), path)
        return
    if params is not None:
        raise ArgumentError("spyx.save: params= is for a compiled Program (or NIRModule), not for a graph")
    if is_nir_graph(graph):
        graph = from_nir_graph(graph)
    if not isinstance(graph, Graph):
        graph = _export_model(graph, input_shape, dt, encoding)
    if profile is not None:
        graph, _ = encode_for(graph, profile, dt=dt)
    write_nir(graph, path)


def _program_of(obj):
    """The :class:`Program` of a Program or of a ``spyx.nn.NIRModule`` (found by its ``program`` attribute,
    so that this module does not import flax), else None."""
    from spyx.backend.program import Program

    if isinstance(obj, Program):
        return obj
    inner = getattr(obj, "program", None)
    return inner if isinstance(inner, Program) and hasattr(obj, "param_values") else None


def _module_params(obj):
    return obj.param_values() if hasattr(obj, "param_values") else None


def _export_model(model, input_shape, dt, encoding) -> Graph:
    # flax (and spyx.nn) are imported only when a model is saved: `import spyx` stays light
    from flax import nnx

    if not isinstance(model, nnx.Module):
        raise ExportError(
            "spyx.save expects a spyx Graph, a nir.NIRGraph, a Program, a NIRModule or a spyx NNX model, got "
            f"{type(model).__name__}"
        )
    if input_shape is None:
        raise ExportError(
            f"spyx.save of an NNX model ({type(model).__name__}) needs input_shape=(per-sample shape) and dt="
        )
    from spyx.nn.export import export

    return export(model, input_shape, dt=dt, encoding=encoding)
