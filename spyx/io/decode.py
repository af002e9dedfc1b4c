"""NIR node dictionaries -> spyx IR nodes.

The input is the file's structure as plain Python: a dict per node with its ``type``, one entry per
dataset (NumPy arrays and scalars exactly as stored, strings decoded), ``metadata`` as a dict and, for graphs,
``nodes`` and ``edges``. :mod:`spyx.io.reader` builds it from HDF5; :mod:`spyx.io.nirgraph` builds it from
``nir`` objects with their own ``to_dict``. Spellings follow :mod:`spyx.io.spellings`.

Arrays are handed to the node kinds unchanged (same dtype, values and shape; scalars stay 0-d).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from spyx.errors import DanglingEdgeError, FormatError
from spyx.io.repair import dangling_endpoints, dangling_message, repair_edges
from spyx.io.spellings import EXTRA_PREFIX, FIELD_ALIASES, LEGACY_FILLS, READ_HOOKS, TYPE_ALIASES
from spyx.ir.graph import Graph
from spyx.ir.node import Node, registered_kinds
from spyx.ir.verify import MAX_DEPTH

__all__ = ["Decoder", "Undecodable", "decode_node", "nir_kinds"]


@dataclasses.dataclass
class Decoder:
    """Decoding context: ``source`` names the file in messages; ``repairs`` collects one line per change.

    ``lenient`` is for tools that show a broken file rather than run it (``spyx.draw``): a node inside a
    graph that cannot be decoded becomes an :class:`Undecodable` stand-in and a dangling edge is kept as it
    is (``spyx.ir.diagnose`` reports it); each such error's message goes to ``problems``, in file order.
    """

    source: str
    repair: bool = False
    repairs: list[str] = dataclasses.field(default_factory=list)
    depth: int = 0  # how many graphs deep the node being decoded is
    lenient: bool = False
    problems: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class Undecodable(Node):
    """What a lenient read puts where a node could not be decoded; ``reason`` is the decoding error.

    Not registered: no file is ever written with it, and ``spyx.load`` never returns one (it is not lenient).
    Its shapes are unknown; it has no parameters of its own to check.
    """

    kind = "spyx.undecodable"
    type_name: str = "?"
    reason: str = ""

    def output_shape(self, input_shape):
        return None


def nir_kinds() -> dict[str, type[Node]]:
    """The registered kinds that are NIR node types (spyx's own ``spyx.*`` kinds are not)."""
    return {k: c for k, c in registered_kinds().items() if not k.startswith("spyx.")}


def decode_node(raw: dict[str, Any], where: str, ctx: Decoder) -> Node:
    """The IR node for one node dict; ``where`` is its dotted path (``""`` for the top graph)."""
    label = where or "<top>"
    if not isinstance(raw, dict):
        raise FormatError(f"{ctx.source}: node {label!r} is a dataset, expected a group with a 'type'")
    type_name = raw.get("type")
    if not isinstance(type_name, str):
        fields = ", ".join(raw) or "none"
        hint = (
            "; the writer may have stopped midway (nir.write fails after creating groups): re-export the file"
            if not where
            else ""
        )
        raise FormatError(f"{ctx.source}: node {label!r} has no 'type' string (fields: {fields}){hint}")
    kinds = nir_kinds()
    kind = TYPE_ALIASES.get(type_name, type_name)
    if kind not in kinds:
        raise FormatError(
            f"{ctx.source}: node {label!r} has unknown type {type_name!r}; "
            f"known types: {', '.join(sorted(kinds))}"
        )
    return _DECODERS.get(kind, _decode_primitive)(kinds[kind], raw, where, ctx)


def _metadata(raw: dict[str, Any], label: str, ctx: Decoder) -> dict[str, Any]:
    meta = raw.get("metadata", {})
    if not isinstance(meta, dict):
        raise FormatError(f"{ctx.source}: node {label!r}: 'metadata' must be a group, got a dataset")
    return dict(meta)


# Fields a third-party writer may store as nir's in-memory port dict, ``{"input": shape}`` (a group).
_PORT_DICTS = {("Input", "shape"): "input", ("Output", "shape"): "output", ("Flatten", "input_type"): "input"}


def _unwrap(kind: str, name: str, value: Any) -> Any:
    key = _PORT_DICTS.get((kind, name))
    if key is not None and isinstance(value, dict) and list(value) == [key]:
        return value[key]
    return value


def _decode_primitive(cls: type[Node], raw: dict[str, Any], where: str, ctx: Decoder) -> Node:
    kind = cls.kind
    # only array parameters come from datasets; options (a Conv's padding_mode) only through READ_HOOKS
    fields = {f.name: f for f in dataclasses.fields(cls) if f.metadata.get("array")}
    aliases = FIELD_ALIASES.get(kind, {})
    values: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("type", "metadata"):
            continue
        name = aliases.get(key, key)
        if name in fields and name not in values:
            values[name] = _unwrap(kind, name, value)
        else:
            extras[key] = value
    values = READ_HOOKS.get(kind, lambda v: v)(values)

    for field, fill, like, why, what in LEGACY_FILLS.get(kind, ()):
        if values.get(field) is not None or values.get(like) is None:
            continue
        values[field] = fill(values)
        ctx.repairs.append(f"{where}: {field} missing ({why}), filled with {what} like {like}")

    missing = [n for n in cls.required_params() if values.get(n) is None]
    if missing:
        raise FormatError(
            f"{ctx.source}: node {where!r} ({kind}) lacks required field {missing[0]!r} "
            f"(fields present: {', '.join(k for k in raw if k != 'type') or 'none'})"
        )
    for name, value in values.items():
        if name not in fields or value is None:
            continue
        if isinstance(value, dict):
            raise FormatError(
                f"{ctx.source}: node {where!r} ({kind}) field {name!r} is a group, expected an integer or "
                "float array"
            )
        if not _is_numeric(value):
            raise FormatError(
                f"{ctx.source}: node {where!r} ({kind}) field {name!r} must be an integer or float array, "
                f"got {_describe(value)}"
            )

    metadata = _metadata(raw, where, ctx)
    for key, value in extras.items():
        metadata[EXTRA_PREFIX + key] = value
        ctx.repairs.append(
            f"{where}: field {key!r} is not a {kind} field; kept as metadata {EXTRA_PREFIX + key!r}"
        )
    try:
        return cls(**values, metadata=metadata)
    except (TypeError, ValueError) as e:
        raise FormatError(f"{ctx.source}: node {where!r} ({kind}) cannot be built: {e}") from None


def _is_numeric(value: Any) -> bool:
    if isinstance(value, str | bytes):
        return False
    dtype = np.asarray(value).dtype
    # bool is not a number, nor is complex; floats of 2, 4 or 8 bytes (no extended precision)
    return dtype.kind in "iu" or (dtype.kind == "f" and dtype.itemsize in (2, 4, 8))


def _describe(value: Any) -> str:
    """A one-line description of a bad field value (an array's repr can run to many lines)."""
    arr = np.asarray(value, dtype=object) if isinstance(value, str | bytes) else np.asarray(value)
    if arr.ndim == 0 and arr.dtype.kind in "OUS":
        text = repr(arr.item())
        return text if len(text) <= 60 else text[:57] + "..."
    note = " (bool is not a number)" if arr.dtype.kind == "b" else ""
    return f"{arr.dtype} array of shape {arr.shape}{note}"


def _edges(raw: Any, label: str, ctx: Decoder) -> tuple[tuple[str, str], ...]:
    if raw is None:
        raise FormatError(f"{ctx.source}: graph {label!r} has no 'edges' dataset")
    arr = np.asarray(raw, dtype=object)
    if arr.size == 0:
        return ()
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise FormatError(
            f"{ctx.source}: graph {label!r}: 'edges' must be (N, 2) node names, got shape {arr.shape}"
        )
    out = []
    for a, b in arr:
        try:
            a = a.decode("utf8") if isinstance(a, bytes) else a
            b = b.decode("utf8") if isinstance(b, bytes) else b
        except UnicodeDecodeError:
            raise FormatError(f"{ctx.source}: graph {label!r}: edge ({a!r}, {b!r}) names are not UTF-8 text") from None
        if not (isinstance(a, str) and isinstance(b, str)):
            raise FormatError(f"{ctx.source}: graph {label!r}: edge ({a!r}, {b!r}) must name two nodes")
        out.append((a, b))
    return tuple(out)


def _decode_graph(cls: type[Node], raw: dict[str, Any], where: str, ctx: Decoder) -> Node:
    label = where or "<top>"
    raw_nodes = raw.get("nodes")
    if not isinstance(raw_nodes, dict):
        raise FormatError(f"{ctx.source}: graph {label!r} has no 'nodes' group")
    if ctx.depth >= MAX_DEPTH:
        raise FormatError(
            f"{ctx.source}: graph {label!r} is nested {ctx.depth + 1} graphs deep; spyx reads at most {MAX_DEPTH} "
            "levels (spyx.ir.verify.MAX_DEPTH)"
        )
    ctx.depth += 1
    try:
        nodes = {
            name: _decode_child(sub, f"{where}.{name}" if where else name, ctx) for name, sub in raw_nodes.items()
        }
    finally:
        ctx.depth -= 1
    edges = _edges(raw.get("edges"), label, ctx)
    dangling = dangling_endpoints(nodes, edges)
    if dangling and ctx.lenient:
        if ctx.repair:  # what the rule can rename it renames; what it cannot stays dangling, for diagnose
            try:
                edges, lines = repair_edges(ctx.source, where, nodes, edges)
                ctx.repairs.extend(lines)
            except DanglingEdgeError as e:
                ctx.problems.append(str(e))
        dangling = []
    if dangling and not ctx.repair:
        edge, missing, _ = dangling[0]
        raise DanglingEdgeError(
            f"{dangling_message(ctx.source, where, nodes, edge, missing)}; run with --repair "
            f"(spyx.load(path, repair=True)) to rename it when exactly one node fits"
        )
    if dangling:
        edges, lines = repair_edges(ctx.source, where, nodes, edges)
        ctx.repairs.extend(lines)
    extras = sorted(set(raw) - {"type", "nodes", "edges", "metadata"})
    metadata = _metadata(raw, label, ctx)
    for key in extras:
        metadata[EXTRA_PREFIX + key] = raw[key]
        ctx.repairs.append(
            f"{label}: field {key!r} is not a NIRGraph field; kept as metadata {EXTRA_PREFIX + key!r}"
        )
    return Graph(nodes=nodes, edges=edges, metadata=metadata)


def _decode_child(raw: Any, where: str, ctx: Decoder) -> Node:
    if not ctx.lenient:
        return decode_node(raw, where, ctx)
    try:
        return decode_node(raw, where, ctx)
    except FormatError as e:
        ctx.problems.append(str(e))
        type_name = raw.get("type") if isinstance(raw, dict) else None
        return Undecodable(type_name=type_name if isinstance(type_name, str) else "?", reason=str(e))


_DECODERS: dict[str, Callable[[type[Node], dict[str, Any], str, Decoder], Node]] = {"NIRGraph": _decode_graph}
