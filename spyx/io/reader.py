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

from spyx.errors import FormatError, SpyxError, VerifyError
from spyx.io.decode import Decoder, decode_node
from spyx.io.isolate import read_guarded
from spyx.io.port_repair import drop_port_batch_axes
from spyx.ir.graph import Graph
from spyx.ir.ports import Input, Output, shape_of
from spyx.ir.shapes import fmt_shape
from spyx.ir.verify import verify as verify_graph
from spyx.limits import MAX_BYTES

# what the batch-axis rule raises on a graph too broken for it (a dangling edge, shapes that do not fit)
_RULE_ERRORS = (ValueError, ArithmeticError, IndexError, TypeError, SpyxError)

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
        problems: with ``lenient=True``, the decoding errors that a strict read would have raised (nodes
            replaced by :class:`~spyx.io.decode.Undecodable`, dangling edges kept); empty otherwise.
    """

    graph: Graph
    version: str | None
    repairs: tuple[str, ...]
    path: Path
    problems: tuple[str, ...] = ()


def read_nir(
    path: str | os.PathLike[str],
    *,
    repair: bool = False,
    verify: bool = False,
    max_bytes: int = MAX_BYTES,
    isolate: str | None = None,
    lenient: bool = False,
) -> LoadResult:
    """Read the NIR file at ``path``.

    Args:
        path: a ``.nir`` file.
        repair: rename dangling edge endpoints when exactly one node fits (rule in :mod:`spyx.io.repair`)
            and drop leading batch axes of 1 from Input/Output shapes (:mod:`spyx.io.port_repair`);
            every change is listed in :attr:`LoadResult.repairs`. Without it, the batch axes are dropped
            all the same (Rockpool's and Norse's convention, unambiguous: :func:`batch_axis_convention`),
            with one line in :attr:`LoadResult.repairs` for all of them.
        verify: also run :func:`spyx.ir.verify` (errors prefixed with the file name). Off by default so that
            tools can read a structurally sound but invalid graph and report every problem
            (:func:`spyx.ir.diagnose`); :func:`spyx.load` turns it on.
        max_bytes: the memory budget (default 2 GiB): no dataset, and not all of them together, may declare
            more bytes (checked before anything is read); with ``verify``, no signal or population state
            either (per sample, float32). See ``docs/nir-io.md`` (Limits).
        isolate: where the HDF5 library reads the file: ``"auto"`` (the default, or ``$SPYX_READ_ISOLATE``):
            here, unless a look at its bytes finds it damaged, when a separate process reads it with a time
            limit (:mod:`spyx.io.isolate`); ``"always"``; ``"never"``.
        lenient: read as much of a broken file as can be read, for tools that show it (``spyx.draw``): a
            node that cannot be decoded (unknown type, missing field) becomes a
            :class:`~spyx.io.decode.Undecodable` stand-in and dangling edges stay (after ``repair``, if
            given); the errors are in :attr:`LoadResult.problems`. Files that cannot be read at all, or
            whose top graph cannot be decoded, still raise. Not with ``verify``.

    Raises:
        ReadError: the file is missing, not HDF5, truncated, damaged in a way the HDF5 library would loop on,
            or an isolated read gave up after its time limit (the message says so).
        FormatError: no ``node`` group, an unknown node type, a missing or non-numeric field, a link cycle.
        SizeError: a dataset (or all of them) declares more than ``max_bytes``.
        DanglingEdgeError: an edge names a node that does not exist (and ``repair`` could not fix it).
        VerifyError: the graph breaks an invariant (shapes, parameters, cycles), when ``verify`` is true.
    """
    p = Path(path)
    source = str(p)
    raw, version = read_guarded(p, source, max_bytes, isolate=isolate)
    ctx = Decoder(source=source, repair=repair, lenient=lenient and not verify)
    graph = decode_node(raw, "", ctx)
    if not isinstance(graph, Graph):
        raise FormatError(f"{source}: /node is a {graph.kind}, expected a NIRGraph")
    if repair:
        try:
            graph, lines = drop_port_batch_axes(graph)
        except _RULE_ERRORS as e:
            if not ctx.lenient:  # a lenient read shows the graph as it is; diagnose says what is wrong
                raise
            lines = [f"port shapes not repaired: {e}"]
        ctx.repairs.extend(lines)
    else:
        graph, note = batch_axis_convention(graph)
        ctx.repairs.extend(note)
    if verify:
        try:
            verify_graph(graph, max_bytes=max_bytes)
        except VerifyError as e:
            hint = repair_hint(graph)
            raise type(e)([f"{source}: {e.diagnostics[0]}", *e.diagnostics[1:], *hint]) from None
    return LoadResult(graph=graph, version=version, repairs=tuple(ctx.repairs), path=p, problems=tuple(ctx.problems))


def batch_axis_convention(graph: Graph) -> tuple[Graph, list[str]]:
    """Rockpool's (and Norse's) port types, read without ``repair``: ``graph`` with the leading batch axis of
    1 dropped from its Input/Output shapes (the rule of :mod:`spyx.io.port_repair`) and one note naming
    every port changed, or ``graph`` as it is and no note.

    Why this needs no ``--repair``: the rule drops only leading axes of size 1, only where every neighbour
    agrees on the rest, so it changes only files that would otherwise fail verification, and it cannot
    pick between readings (there is one). The other repair, renaming dangling edges, guesses which node was
    meant and stays behind ``repair``; so do port shapes that this rule cannot explain (verification then
    fails, naming ``--repair`` where it would help)."""
    try:
        fixed, lines = drop_port_batch_axes(graph)
    except _RULE_ERRORS:
        return graph, []  # too broken for the rule: verification, or a lenient reader's diagnose, says what is wrong
    if not lines:
        return graph, []
    before = dict(graph.walk())
    changed = [
        f"{path} {fmt_shape(shape_of(before[path].shape))} -> {fmt_shape(shape_of(node.shape))}"
        for path, node in fixed.walk()
        if isinstance(node, Input | Output) and shape_of(node.shape) != shape_of(before[path].shape)
    ]
    return fixed, [
        "Input/Output shapes carry a leading batch axis of 1, as Rockpool and Norse write them; read as "
        "per-sample shapes: " + ", ".join(changed)
    ]


def repair_hint(graph: Graph) -> list[str]:
    """One line saying ``--repair`` would fix the graph's port shapes, or nothing."""
    try:
        fixable = drop_port_batch_axes(graph)[1]
    except (ValueError, ArithmeticError, IndexError, TypeError, OverflowError):
        return []  # the graph is too broken for the repair rule; the diagnostics say why
    if not fixable:
        return []
    return [
        "Input/Output shapes carry a leading batch axis of 1 (rockpool writes them so); run with --repair "
        "(spyx.load(path, repair=True)) to drop it"
    ]
