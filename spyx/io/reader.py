"""Read a NIR file (HDF5) into the spyx IR, tolerant of every nir release from 0.1.0 to 1.0.8.

The file is read with h5py directly (``nir.read`` rejects some real files, e.g. ones whose edges name a
renamed node). Layout: ``/version`` (a string; absent before nir 0.2.0) and ``/node``, the top graph: a group
with ``type`` = ``"NIRGraph"``, ``nodes/<name>/...`` and ``edges`` ((N, 2) names). Node groups hold ``type``,
one dataset per field and an optional ``metadata`` group. See ``docs/nir-io.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spyx.errors import FormatError, ReadError, VerifyError
from spyx.io.decode import Decoder, decode_node
from spyx.io.port_repair import drop_port_batch_axes
from spyx.ir.graph import Graph
from spyx.ir.verify import verify as verify_graph

__all__ = ["LoadResult", "read_nir"]


@dataclass(frozen=True)
class LoadResult:
    """What :func:`read_nir` found.

    Attributes:
        graph: the IR graph.
        version: the nir version string stored in the file (``None`` for files written before nir 0.2.0).
        repairs: one line per change made while loading: legacy defaults filled (``"lif1: v_reset missing
            (...), filled with zeros like v_threshold"``), unknown fields moved to metadata, edges repaired.
        path: the file read.
    """

    graph: Graph
    version: str | None
    repairs: tuple[str, ...]
    path: Path


def read_nir(path: str | os.PathLike[str], *, repair: bool = False, verify: bool = False) -> LoadResult:
    """Read the NIR file at ``path``.

    Args:
        path: a ``.nir`` file.
        repair: rename dangling edge endpoints when exactly one node fits (rule in :mod:`spyx.io.repair`)
            and drop leading batch axes of 1 from Input/Output shapes (:mod:`spyx.io.port_repair`);
            every change is listed in :attr:`LoadResult.repairs`.
        verify: also run :func:`spyx.ir.verify` (errors prefixed with the file name). Off by default so that
            tools can read a structurally sound but invalid graph and report every problem
            (:func:`spyx.ir.diagnose`); :func:`spyx.load` turns it on.

    Raises:
        ReadError: the file is missing, not HDF5, or truncated.
        FormatError: no ``node`` group, an unknown node type, a missing or non-numeric field.
        DanglingEdgeError: an edge names a node that does not exist (and ``repair`` could not fix it).
        VerifyError: the graph breaks an invariant (shapes, parameters, cycles), when ``verify`` is true.
    """
    p = Path(path)
    source = str(p)
    raw, version = _read_hdf5(p, source)
    ctx = Decoder(source=source, repair=repair)
    graph = decode_node(raw, "", ctx)
    if not isinstance(graph, Graph):
        raise FormatError(f"{source}: /node is a {graph.kind}, expected a NIRGraph")
    if repair:
        graph, lines = drop_port_batch_axes(graph)
        ctx.repairs.extend(lines)
    if verify:
        try:
            verify_graph(graph)
        except VerifyError as e:
            hint = repair_hint(graph)
            raise type(e)([f"{source}: {e.diagnostics[0]}", *e.diagnostics[1:], *hint]) from None
    return LoadResult(graph=graph, version=version, repairs=tuple(ctx.repairs), path=p)


def repair_hint(graph: Graph) -> list[str]:
    """One line saying ``--repair`` would fix the graph's port shapes, or nothing."""
    if not drop_port_batch_axes(graph)[1]:
        return []
    return [
        "Input/Output shapes carry a leading batch axis of 1 (rockpool writes them so); run with --repair "
        "(spyx.load(path, repair=True)) to drop it"
    ]


def _read_hdf5(p: Path, source: str) -> tuple[dict[str, Any], str | None]:
    import h5py

    if not p.exists():
        raise ReadError(f"{source}: no such file")
    if p.is_dir():
        raise ReadError(f"{source}: is a directory, expected a .nir (HDF5) file")
    try:
        f = h5py.File(p, "r")
    except OSError as e:
        raise ReadError(f"{source}: not an HDF5 file ({e})") from None
    with f:
        try:
            if "node" not in f:
                raise FormatError(
                    f"{source}: no 'node' group (top-level entries: {', '.join(map(_name, f)) or 'none'}); "
                    "a NIR file stores its graph in /node"
                )
            if not isinstance(f["node"], h5py.Group):
                raise FormatError(f"{source}: /node is a dataset, expected the graph group")
            raw = _group(f["node"], source)
            version = _version(f)
        except (OSError, RuntimeError, KeyError) as e:
            raise ReadError(f"{source}: cannot read the file ({e}); is it truncated or corrupt?") from None
    return raw, version


def _version(f) -> str | None:
    if "version" in f:
        v = _value(f["version"][()])
        return v if isinstance(v, str) else str(v)
    v = f.attrs.get("version")
    return None if v is None else str(_value(v))


def _group(group, source: str) -> dict[str, Any]:
    import h5py

    out: dict[str, Any] = {}
    for key in group:
        try:
            item = group[key]
        except (KeyError, OSError, RuntimeError) as e:
            raise ReadError(
                f"{source}: cannot read {group.name}/{key} ({e}); {_link_hint(group, key)}"
            ) from None
        if isinstance(item, h5py.Group):
            out[_name(key)] = _group(item, source)
            continue
        try:
            out[_name(key)] = _value(item[()])
        except (OSError, RuntimeError, TypeError, ValueError) as e:
            raise ReadError(
                f"{source}: cannot read dataset {item.name} ({e}); is the file truncated?"
            ) from None
    return out


def _link_hint(group, key: str) -> str:
    """Why an entry may not open: a link to nothing (said so), else damage."""
    import h5py

    try:
        link = group.get(key, getlink=True)
    except (KeyError, OSError, RuntimeError):
        link = None
    if isinstance(link, h5py.SoftLink):
        return f"it is a soft link to {link.path}, which does not exist in the file"
    if isinstance(link, h5py.ExternalLink):
        return (
            f"it is an external link to {link.path} in {link.filename}, which cannot be opened; "
            "a NIR file should hold its own data"
        )
    return "is the file truncated?"


def _name(key: str | bytes) -> str:
    # h5py hands back bytes for names that are not valid UTF-8 (damaged files)
    return key.decode("utf8", "backslashreplace") if isinstance(key, bytes) else key


def _value(v: Any) -> Any:
    """A dataset's value as stored: numeric arrays and scalars unchanged; strings decoded to ``str``."""
    if isinstance(v, bytes):
        return v.decode("utf8")
    if isinstance(v, np.ndarray) and v.dtype.kind in "OS":
        return np.array(
            [x.decode("utf8") if isinstance(x, bytes) else x for x in v.reshape(-1)], dtype=object
        ).reshape(v.shape)
    return v
