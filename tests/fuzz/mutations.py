"""Seeded mutations of real NIR files: byte level and through h5py.

``make_case(seed, index, corpus, folder)`` writes one mutated copy of a corpus file and says what was done
and what a correct reader must do with it. Case ``(seed, index)`` is always the same file (its generator is
``np.random.default_rng([seed, index])``; h5py walks groups in name order), so any case can be rebuilt
alone from its two numbers.

About 40 % of the cases are byte level (bit flips, overwritten bytes, truncations, zeroed, inserted,
duplicated or deleted ranges), 60 % go through h5py (:data:`H5_MUTATIONS`). ``Case.expect`` is
``"reject"`` when a correct reader must refuse the file (a NaN parameter, a fractional stride, a link
cycle, ...) and ``"any"`` when loading it or refusing it cleanly are both right; :mod:`tests.fuzz.oracle`
checks every accepted file independently as well.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

__all__ = ["Case", "H5_MUTATIONS", "BYTE_MUTATIONS", "corpus_files", "make_case", "STATEFUL_TYPES"]

STR = h5py.string_dtype()

# NIR node types whose output at step t depends on state: a self-loop on one of them is a legal recurrence.
STATEFUL_TYPES = {"LIF", "IF", "LI", "I", "CubaLIF", "CubaLI", "Delay"}
# NIR fields that hold integers (shapes, strides, dims), by their file names.
INTEGER_FIELDS = {
    "shape", "stride", "padding", "dilation", "groups", "input_shape", "kernel_size", "start_dim", "end_dim",
    "input_type",
}


@dataclass
class Case:
    """One fuzz case: the mutated file, how it was made, and what a correct reader must do with it."""

    seed: int
    index: int
    source: str  # corpus file name
    mutation: str  # the mutation's name
    detail: str  # what exactly changed
    expect: str  # "reject" or "any"
    path: Path


def corpus_files(folder: Path) -> list[Path]:
    """The corpus's ``.nir`` files, sorted (so that a seed picks the same file everywhere)."""
    return sorted(folder.glob("*.nir"))


# -- byte level ------------------------------------------------------------------------------------------------


def _flip(rng, b: bytearray) -> str:
    n = int(rng.integers(1, 17))
    for i in rng.integers(0, len(b), size=n):
        b[i] ^= 1 << int(rng.integers(0, 8))
    return f"{n} bit flips"


def _overwrite(rng, b: bytearray) -> str:
    n = int(rng.integers(1, 33))
    for i in rng.integers(0, len(b), size=n):
        b[i] = int(rng.integers(0, 256))
    return f"{n} random bytes"


def _truncate(rng, b: bytearray) -> str:
    at = int(rng.integers(0, len(b)))
    del b[at:]
    return f"truncated at {at}"


def _zero(rng, b: bytearray) -> str:
    at, n = int(rng.integers(0, len(b))), int(rng.integers(1, 512))
    b[at : at + n] = bytes(len(b[at : at + n]))
    return f"zeroed {n} bytes at {at}"


def _insert(rng, b: bytearray) -> str:
    at, n = int(rng.integers(0, len(b))), int(rng.integers(1, 256))
    b[at:at] = rng.integers(0, 256, size=n, dtype=np.uint8).tobytes()
    return f"inserted {n} bytes at {at}"


def _duplicate(rng, b: bytearray) -> str:
    src, n, dst = int(rng.integers(0, len(b))), int(rng.integers(1, 512)), int(rng.integers(0, len(b)))
    chunk = bytes(b[src : src + n])
    if rng.random() < 0.5:
        b[dst:dst] = chunk
        return f"duplicated {len(chunk)} bytes from {src} inserted at {dst}"
    b[dst : dst + len(chunk)] = chunk
    return f"copied {len(chunk)} bytes from {src} over {dst}"


def _delete(rng, b: bytearray) -> str:
    at, n = int(rng.integers(0, len(b))), int(rng.integers(1, 256))
    del b[at : at + n]
    return f"deleted {n} bytes at {at}"


BYTE_MUTATIONS: dict[str, Callable] = {
    "byte.flip": _flip,
    "byte.overwrite": _overwrite,
    "byte.truncate": _truncate,
    "byte.zero": _zero,
    "byte.insert": _insert,
    "byte.duplicate": _duplicate,
    "byte.delete": _delete,
}


# -- helpers over an h5py file -----------------------------------------------------------------------------------


def _text(v) -> str:
    return v.decode("utf8", "replace") if isinstance(v, bytes) else str(v)


def node_groups(f: h5py.File) -> list[tuple[str, str]]:
    """(HDF5 path, type) of every node group under /node, nested graphs included (the top graph is '/node')."""
    out = []

    def walk(g, path):
        t = _text(g["type"][()]) if "type" in g else ""
        out.append((path, t))
        if t == "NIRGraph" and "nodes" in g:
            for k in g["nodes"]:
                walk(g["nodes"][k], f"{path}/nodes/{k}")

    walk(f["node"], "/node")
    return out


def graphs(f) -> list[str]:
    return [p for p, t in node_groups(f) if t == "NIRGraph"]


def fields(f, path: str) -> list[str]:
    return [k for k in f[path] if k not in ("type", "metadata", "nodes", "edges")]


def edges(f, graph: str) -> list[tuple[str, str]]:
    return [(_text(a), _text(b)) for a, b in f[graph]["edges"][()].reshape(-1, 2)]


def set_edges(f, graph: str, new: list[tuple[str, str]]) -> None:
    del f[graph]["edges"]
    data = np.array(new, dtype=object).reshape(-1, 2) if new else np.empty((0, 2), dtype=object)
    f[graph].create_dataset("edges", data=data, dtype=STR)


def _pick(rng, items):
    items = list(items)
    return items[int(rng.integers(0, len(items)))] if items else None


def _param_fields(f, want: Callable[[str, str, h5py.Dataset], bool]) -> list[tuple[str, str, str]]:
    """(node path, type, field) of every numeric field that ``want(type, field, dataset)`` selects."""
    out = []
    for path, t in node_groups(f):
        if t in ("NIRGraph", ""):
            continue
        for k in fields(f, path):
            d = f[path][k]
            if isinstance(d, h5py.Dataset) and d.dtype.kind in "iuf" and want(t, k, d):
                out.append((path, t, k))
    return out


def _replace(f, path: str, key: str, **create) -> None:
    del f[path][key]
    f[path].create_dataset(key, **create)


def _mentioned(f, graph: str, name: str) -> bool:
    return any(name in (a, b) or a.startswith(name + ".") or b.startswith(name + ".") for a, b in edges(f, graph))


# -- h5py mutations: each (rng, f) -> (detail, expect) or None when the file has nothing to mutate -----------


def m_delete_dataset(rng, f):
    path, t = _pick(rng, [(p, t) for p, t in node_groups(f) if fields(f, p)])
    key = _pick(rng, fields(f, path))
    del f[path][key]
    return f"deleted {path}/{key} ({t})", "any"


def m_delete_node(rng, f):
    g = _pick(rng, graphs(f))
    name = _pick(rng, f[g]["nodes"])
    if name is None:
        return None
    del f[g]["nodes"][name]
    return f"deleted node {g}/nodes/{name}", "reject" if _mentioned(f, g, name) else "any"


def m_rename_dataset(rng, f):
    path, t = _pick(rng, [(p, t) for p, t in node_groups(f) if fields(f, p)])
    key = _pick(rng, fields(f, path))
    new = key + _pick(rng, ["_x", "2", "_old"])
    f[path].move(key, new)
    return f"renamed {path}/{key} -> {new} ({t})", "any"


def m_rename_node(rng, f):
    g = _pick(rng, graphs(f))
    name = _pick(rng, f[g]["nodes"])
    if name is None:
        return None
    new = name + "_renamed"
    f[g]["nodes"].move(name, new)
    return f"renamed node {g}/nodes/{name} -> {new}", "reject" if _mentioned(f, g, name) else "any"


_DTYPES = ["float16", "float64", "int8", "int32", "uint8", "int64", ">f4", "bool", "complex64", "str"]


def m_dtype(rng, f):
    path, t, key = _pick(rng, _param_fields(f, lambda t, k, d: True))
    d = f[path][key]
    value = d[()]
    new = _pick(rng, _DTYPES)
    if new == "str":
        data = np.asarray(value).astype(str).astype(object)
        _replace(f, path, key, data=data, dtype=STR)
        return f"{path}/{key} as strings", "reject"
    if new == "bool":
        _replace(f, path, key, data=np.asarray(value) != 0)
        return f"{path}/{key} as bool", "reject"
    if new == "complex64":
        _replace(f, path, key, data=np.asarray(value).astype(np.complex64))
        return f"{path}/{key} as complex64", "reject"
    with np.errstate(all="ignore"):
        cast = np.asarray(value).astype(new)
    _replace(f, path, key, data=cast)
    return f"{path}/{key} {d.dtype} -> {new}", "any"


def m_shape(rng, f):
    path, t, key = _pick(rng, _param_fields(f, lambda t, k, d: True))
    value = np.asarray(f[path][key][()])
    how = _pick(rng, ["add_axis", "drop_element", "transpose", "flatten", "scalar", "grow", "empty"])
    if how == "add_axis":
        new = value[None]
    elif how == "drop_element" and value.size > 1:
        new = value.reshape(-1)[:-1]
    elif how == "transpose" and value.ndim >= 2:
        new = value.T
    elif how == "flatten":
        new = value.reshape(-1)
    elif how == "scalar":
        new = value.reshape(-1)[0] if value.size else np.float32(0)
    elif how == "grow":
        new = np.concatenate([value.reshape(-1), value.reshape(-1)]) if value.size else value
    else:
        new = np.zeros((0,) * max(value.ndim, 1), value.dtype)
    _replace(f, path, key, data=np.asarray(new))
    return f"{path}/{key} {value.shape} -> {np.asarray(new).shape} ({how})", "any"


def m_nonfinite(rng, f):
    picked = _pick(rng, _param_fields(f, lambda t, k, d: d.dtype.kind == "f" and d.size > 0))
    if picked is None:
        return None
    path, t, key = picked
    value = np.array(f[path][key][()])
    bad = _pick(rng, [np.nan, np.inf, -np.inf])
    flat = value.reshape(-1)
    flat[int(rng.integers(0, flat.size))] = bad
    _replace(f, path, key, data=flat.reshape(value.shape))
    return f"{path}/{key} holds {bad}", "reject"


def m_huge_declared(rng, f):
    """A dataset that declares 2^26..2^40 elements and stores nothing (chunked, never written)."""
    path, t, key = _pick(rng, _param_fields(f, lambda t, k, d: True))
    k = int(rng.integers(26, 41))
    ndim = int(rng.integers(1, 4))
    dims = [1] * ndim
    for i in range(k):
        dims[i % ndim] *= 2
    dtype = f[path][key].dtype
    del f[path][key]
    f[path].create_dataset(key, shape=tuple(dims), dtype=dtype, chunks=(1,) * ndim)
    return f"{path}/{key} declares shape {tuple(dims)} (2^{k} elements, none stored)", "reject"


def m_fractional_int(rng, f):
    picked = _pick(rng, _param_fields(f, lambda t, k, d: k in INTEGER_FIELDS))
    if picked is None:
        return None
    path, t, key = picked
    value = np.asarray(f[path][key][()], dtype=np.float64)
    frac = value + (0.5 if rng.random() < 0.5 else 0.25)
    _replace(f, path, key, data=frac)
    return f"{path}/{key} = {frac.tolist()} (fractional, an integer field)", "reject"


def m_bool(rng, f):
    path, t, key = _pick(rng, _param_fields(f, lambda t, k, d: True))
    value = np.asarray(f[path][key][()])
    _replace(f, path, key, data=np.ones(value.shape, bool) if rng.random() < 0.5 else np.bool_(True))
    return f"{path}/{key} as bool", "reject"


def m_string(rng, f):
    path, t, key = _pick(rng, _param_fields(f, lambda t, k, d: True))
    text = _pick(rng, ["abc", "1.0", "", "same" if key != "padding" else "nope", "0.5 0.5"])
    if rng.random() < 0.5:
        _replace(f, path, key, data=text, dtype=STR)
    else:
        _replace(f, path, key, data=np.array([text, text], dtype=object), dtype=STR)
    return f"{path}/{key} = string {text!r}", "reject"


def m_group_for_array(rng, f):
    path, t, key = _pick(rng, _param_fields(f, lambda t, k, d: True))
    del f[path][key]
    g = f[path].create_group(key)
    if rng.random() < 0.5:
        g.create_dataset("g0", data=np.ones(3, np.float32))
    return f"{path}/{key} is a group", "reject"


def m_edges_malformed(rng, f):
    g = _pick(rng, graphs(f))
    e = edges(f, g)
    how = _pick(rng, ["three_columns", "one_d", "numeric", "empty_names", "scalar", "non_utf8", "float"])
    del f[g]["edges"]
    if how == "three_columns":
        f[g].create_dataset("edges", data=np.array([(a, b, a) for a, b in e], dtype=object), dtype=STR)
    elif how == "one_d":
        f[g].create_dataset("edges", data=np.array([a for a, _ in e], dtype=object), dtype=STR)
    elif how == "numeric":
        f[g].create_dataset("edges", data=np.arange(2 * len(e)).reshape(-1, 2))
    elif how == "empty_names":
        f[g].create_dataset("edges", data=np.array([("", "")] * len(e), dtype=object), dtype=STR)
    elif how == "scalar":
        f[g].create_dataset("edges", data="input", dtype=STR)
    elif how == "non_utf8":
        bad = np.array([(a.encode() + b"\xff", b.encode()) for a, b in e], dtype="S")
        f[g].create_dataset("edges", data=bad)
    else:
        f[g].create_dataset("edges", data=np.full((len(e), 2), 0.5))
    return f"{g}/edges {how}", "reject"


def m_edges_dangling(rng, f):
    g = _pick(rng, graphs(f))
    e = edges(f, g)
    if not e:
        return None
    i = int(rng.integers(0, len(e)))
    a, b = e[i]
    e[i] = (a, "ghost") if rng.random() < 0.5 else ("ghost", b)
    set_edges(f, g, e)
    return f"{g}: edge {i} {a} -> {b} now {e[i][0]} -> {e[i][1]}", "reject"


def m_self_loop(rng, f):
    g = _pick(rng, graphs(f))
    name = _pick(rng, f[g]["nodes"])
    if name is None:
        return None
    node = f[g]["nodes"][name]
    t = _text(node["type"][()]) if "type" in node else ""
    set_edges(f, g, [*edges(f, g), (name, name)])
    return f"{g}: self-loop {name} -> {name} ({t})", "any" if t in STATEFUL_TYPES else "reject"


def m_empty_graph(rng, f):
    g = _pick(rng, graphs(f))
    for k in list(f[g]["nodes"]):
        del f[g]["nodes"][k]
    set_edges(f, g, [])
    return f"{g}: no nodes, no edges", "reject"


def m_deep_nesting(rng, f):
    """Wrap the top graph in ``depth`` graphs ``input -> inner -> output`` (a valid file, only deep)."""
    depth = int(round(2 ** rng.uniform(1, np.log2(1000))))
    top = f["node"]
    ins = [k for k in top["nodes"] if _text(top["nodes"][k]["type"][()]) == "Input"]
    outs = [k for k in top["nodes"] if _text(top["nodes"][k]["type"][()]) == "Output"]
    if len(ins) != 1 or len(outs) != 1 or "shape" not in top["nodes"][outs[0]]:
        return None
    in_shape = top["nodes"][ins[0]]["shape"][()]
    out_shape = top["nodes"][outs[0]]["shape"][()]
    f.move("node", "inner_graph")
    for level in range(depth):
        name = f"/level{level}"
        g = f.create_group(name)
        g.create_dataset("type", data="NIRGraph", dtype=STR)
        nodes = g.create_group("nodes")
        for port, shape in (("input", in_shape), ("output", out_shape)):
            p = nodes.create_group(port)
            p.create_dataset("type", data=port.capitalize(), dtype=STR)
            p.create_dataset("shape", data=shape)
        f.move("/inner_graph" if level == 0 else f"/level{level - 1}", f"{name}/nodes/inner")
        g.create_dataset("edges", data=np.array([("input", "inner"), ("inner", "output")], dtype=object), dtype=STR)
    f.move(f"/level{depth - 1}", "/node")
    return f"top graph nested {depth} levels deep", "any"


def m_link_cycle(rng, f):
    path, _ = _pick(rng, node_groups(f))
    parts = path.strip("/").split("/")
    target = _pick(rng, ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)])
    how = _pick(rng, ["hard_node", "hard_field", "soft", "external"])
    group = f[path]["nodes"] if "nodes" in f[path] else f[path]
    if how == "hard_node":
        group["loop"] = f[target]
    elif how == "hard_field":
        f[path]["loop"] = f[target]
    elif how == "soft":
        group["loop"] = h5py.SoftLink(target)
    else:
        group["loop"] = h5py.ExternalLink(Path(f.filename).name, target)
    return f"{how} link in {group.name} -> {target} (an ancestor)", "reject"


def m_non_utf8_name(rng, f):
    g = _pick(rng, graphs(f))
    name = _pick(rng, f[g]["nodes"])
    if name is None:
        return None
    bad = name.encode() + b"\xff\xfe"
    f[g]["nodes"].move(name, bad)
    if rng.random() < 0.5:
        e = [(a.encode(), b.encode()) for a, b in edges(f, g)]
        e = [(bad if a == name.encode() else a, bad if b == name.encode() else b) for a, b in e]
        del f[g]["edges"]
        f[g].create_dataset("edges", data=np.array(e, dtype="S"))
        return f"{g}/nodes/{name} renamed to non-UTF-8 {bad!r}, edges too", "any"
    return f"{g}/nodes/{name} renamed to non-UTF-8 {bad!r}", "reject" if _mentioned(f, g, name) else "any"


def m_non_utf8_string(rng, f):
    path, t = _pick(rng, [(p, t) for p, t in node_groups(f)] + [("/version", "version")])
    bad = np.bytes_(b"LIF\xff\xfe" if rng.random() < 0.5 else b"\xc3\x28")
    if path == "/version":
        if "version" in f:
            del f["version"]
        f.create_dataset("version", data=bad)
        return "/version holds invalid UTF-8", "any"
    del f[path]["type"]
    f[path].create_dataset("type", data=bad)
    return f"{path}/type holds invalid UTF-8", "reject"


def m_version(rng, f):
    if "version" in f:
        del f["version"]
    how = _pick(rng, ["group", "number", "array", "empty"])
    if how == "group":
        f.create_group("version")
    elif how == "number":
        f.create_dataset("version", data=1.5)
    elif how == "array":
        f.create_dataset("version", data=np.array(["1", "0"], dtype=object), dtype=STR)
    else:
        f.create_dataset("version", data="", dtype=STR)
    return f"/version as {how}", "any"


def m_conv_fields(rng, f):
    convs = [(p, t) for p, t in node_groups(f) if t in ("Conv1d", "Conv2d")]
    flats = [(p, t) for p, t in node_groups(f) if t == "Flatten"]
    if not convs:
        return None
    path, t = _pick(rng, convs + flats)
    node = f[path]
    how = _pick(rng, ["no_padding", "input_shape_empty", "input_shape_long", "groups_empty", "padding_mode",
                      "weight_0d", "groups_zero", "stride_zero", "padding_negative", "start_dim_empty",
                      "kernel_too_big"])
    if t == "Flatten":
        key = _pick(rng, ["start_dim", "end_dim"])
        _replace(f, path, key, data=np.zeros((0,), np.int64))
        return f"{path}/{key} = []", "reject"
    if how == "no_padding" and "padding" in node:
        del node["padding"]
        return f"{path}: no padding", "reject"
    if how == "input_shape_empty":
        _replace(f, path, "input_shape", data=np.zeros((0,), np.int64))
        return f"{path}/input_shape = []", "reject"
    if how == "input_shape_long":
        _replace(f, path, "input_shape", data=np.array([8, 8, 8, 8], np.int64))
        return f"{path}/input_shape = [8, 8, 8, 8]", "reject"
    if how == "groups_empty":
        _replace(f, path, "groups", data=np.zeros((0,), np.int64))
        return f"{path}/groups = []", "reject"
    if how == "padding_mode":
        node.create_dataset("padding_mode", data="same", dtype=STR)
        return f"{path}: dataset padding_mode = 'same'", "any"
    if how == "weight_0d":
        _replace(f, path, "weight", data=np.float32(1))
        return f"{path}/weight is 0-d", "reject"
    if how == "groups_zero":
        _replace(f, path, "groups", data=np.int64(0))
        return f"{path}/groups = 0", "reject"
    if how == "stride_zero":
        _replace(f, path, "stride", data=np.zeros(2 if t == "Conv2d" else 1, np.int64))
        return f"{path}/stride = 0", "reject"
    if how == "padding_negative":
        _replace(f, path, "padding", data=-np.ones(2 if t == "Conv2d" else 1, np.int64))
        return f"{path}/padding = -1", "reject"
    if how == "start_dim_empty":
        return None
    w = node["weight"][()]
    _replace(f, path, "weight", data=np.ones((*w.shape[:2], 99, 99), w.dtype))
    return f"{path}/weight kernel 99x99", "reject"


def m_port_shape(rng, f):
    ports = [(p, t) for p, t in node_groups(f) if t in ("Input", "Output") and "shape" in f[p]]
    path, t = _pick(rng, ports)
    value = np.asarray(f[path]["shape"][()]).reshape(-1)
    how = _pick(rng, ["negative", "zero", "huge", "huge2d", "empty", "many_dims"])
    if how == "negative":
        new = -value
    elif how == "zero":
        new = np.zeros_like(value)
    elif how == "huge":
        new = np.array([2 ** int(rng.integers(31, 63))], np.int64)
    elif how == "huge2d":
        new = np.array([2**31, 2**31, 2**31], np.int64)
    elif how == "empty":
        new = np.zeros((0,), np.int64)
    else:
        new = np.ones(int(rng.integers(9, 200)), np.int64)
    _replace(f, path, "shape", data=new)
    return f"{path}/shape = {new.tolist()[:8]}{'...' if new.size > 8 else ''} ({how})", "reject"


def m_giant_population(rng, f):
    """input -> population -> output with 0-d (shared) parameters and an Input of 2^30..2^62 neurons."""
    top = f["node"]
    nodes = top["nodes"]
    pops = [k for k in nodes if _text(nodes[k]["type"][()]) in ("LIF", "IF", "LI", "CubaLIF")]
    ins = [k for k in nodes if _text(nodes[k]["type"][()]) == "Input"]
    outs = [k for k in nodes if _text(nodes[k]["type"][()]) == "Output"]
    if not pops or len(ins) != 1 or len(outs) != 1:
        return None
    pop = _pick(rng, pops)
    for k in fields(f, f"/node/nodes/{pop}"):
        v = np.asarray(nodes[pop][k][()]).reshape(-1)
        _replace(f, f"/node/nodes/{pop}", k, data=v[0] if v.size else np.float32(1))
    for k in list(nodes):
        if k not in (pop, ins[0], outs[0]):
            del nodes[k]
    k = int(rng.integers(30, 63))
    ndim = int(rng.integers(1, 3))
    shape = [2 ** (k // ndim)] * (ndim - 1) + [2 ** (k - (k // ndim) * (ndim - 1))]
    for port in (ins[0], outs[0]):
        _replace(f, f"/node/nodes/{port}", "shape", data=np.array(shape, np.int64))
    set_edges(f, "/node", [(ins[0], pop), (pop, outs[0])])
    return f"{pop} with shared parameters and input shape {shape} (2^{k} neurons)", "reject"


def m_huge_int_value(rng, f):
    picked = _pick(rng, _param_fields(f, lambda t, k, d: k in ("stride", "padding", "dilation", "kernel_size")))
    if picked is None:
        return None
    path, t, key = picked
    value = np.asarray(f[path][key][()])
    big = np.full(value.shape, 2 ** int(rng.integers(31, 63)), np.int64)
    _replace(f, path, key, data=big)
    return f"{path}/{key} = {big.tolist()}", "reject" if key in ("padding", "dilation", "kernel_size") else "any"


def m_metadata(rng, f):
    path, t = _pick(rng, node_groups(f))
    if "metadata" in f[path]:
        del f[path]["metadata"]
    how = _pick(rng, ["dataset", "huge", "nested", "nan"])
    if how == "dataset":
        f[path].create_dataset("metadata", data=np.arange(3))
        return f"{path}/metadata is a dataset", "reject"
    m = f[path].create_group("metadata")
    if how == "huge":
        k = int(rng.integers(26, 41))
        m.create_dataset("big", shape=(2**k,), dtype=np.float64, chunks=(1024,))
        return f"{path}/metadata/big declares 2^{k} float64", "reject" if 8 * 2**k > 2 * 2**30 else "any"
    if how == "nested":
        g = m
        for i in range(int(rng.integers(2, 300))):
            g = g.create_group(f"m{i}")
        return f"{path}/metadata nested deep", "any"
    m.create_dataset("x", data=np.nan)
    return f"{path}/metadata/x = nan", "any"


def m_type_field(rng, f):
    path, t = _pick(rng, node_groups(f))
    how = _pick(rng, ["number", "array", "missing", "group", "unknown"])
    if "type" in f[path]:
        del f[path]["type"]
    if how == "number":
        f[path].create_dataset("type", data=3)
    elif how == "array":
        f[path].create_dataset("type", data=np.array([t, t], dtype=object), dtype=STR)
    elif how == "group":
        f[path].create_group("type")
    elif how == "unknown":
        f[path].create_dataset("type", data="Izhikevich", dtype=STR)
    return f"{path}/type {how} (was {t})", "reject"


def m_duplicate_edge(rng, f):
    g = _pick(rng, graphs(f))
    e = edges(f, g)
    if not e:
        return None
    extra = _pick(rng, e)
    set_edges(f, g, [*e, extra])
    return f"{g}: edge {extra[0]} -> {extra[1]} twice", "any"


def m_many_edges(rng, f):
    """A dataset of edges declaring 2^20..2^34 rows that stores nothing."""
    g = _pick(rng, graphs(f))
    k = int(rng.integers(20, 35))
    del f[g]["edges"]
    f[g].create_dataset("edges", shape=(2**k, 2), dtype=STR, chunks=(1024, 2))
    return f"{g}/edges declares 2^{k} rows, none stored", "reject"


def m_foreign_storage(rng, f):
    """A numeric field whose data lives in another file: external raw storage or a virtual dataset."""
    found = _param_fields(f, lambda t, k, d: d.ndim >= 1 and d.dtype.kind in "fiu")
    if not found:
        return None
    path, t, key = _pick(rng, found)
    d = f[path][key]
    shape, dtype = d.shape, d.dtype
    del f[path][key]
    if rng.random() < 0.5:
        f[path].create_dataset(key, shape=shape, dtype=dtype, external=[("raw.bin", 0, d_bytes(shape, dtype))])
        return f"{path}/{key} in an external raw file", "reject"
    layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
    layout[...] = h5py.VirtualSource("other.h5", "x", shape=shape)
    f[path].create_virtual_dataset(key, layout, fillvalue=0)
    return f"{path}/{key} a virtual dataset", "reject"


def d_bytes(shape, dtype) -> int:
    return int(np.prod(shape)) * np.dtype(dtype).itemsize


H5_MUTATIONS: dict[str, Callable] = {
    "h5.delete_dataset": m_delete_dataset,
    "h5.delete_node": m_delete_node,
    "h5.rename_dataset": m_rename_dataset,
    "h5.rename_node": m_rename_node,
    "h5.dtype": m_dtype,
    "h5.shape": m_shape,
    "h5.nonfinite": m_nonfinite,
    "h5.huge_declared": m_huge_declared,
    "h5.fractional_int": m_fractional_int,
    "h5.bool": m_bool,
    "h5.string": m_string,
    "h5.group_for_array": m_group_for_array,
    "h5.edges_malformed": m_edges_malformed,
    "h5.edges_dangling": m_edges_dangling,
    "h5.self_loop": m_self_loop,
    "h5.empty_graph": m_empty_graph,
    "h5.deep_nesting": m_deep_nesting,
    "h5.link_cycle": m_link_cycle,
    "h5.non_utf8_name": m_non_utf8_name,
    "h5.non_utf8_string": m_non_utf8_string,
    "h5.version": m_version,
    "h5.conv_fields": m_conv_fields,
    "h5.port_shape": m_port_shape,
    "h5.giant_population": m_giant_population,
    "h5.huge_int_value": m_huge_int_value,
    "h5.metadata": m_metadata,
    "h5.type_field": m_type_field,
    "h5.duplicate_edge": m_duplicate_edge,
    "h5.many_edges": m_many_edges,
    "h5.foreign_storage": m_foreign_storage,
}


def make_case(seed: int, index: int, corpus: list[Path], folder: Path, *, byte_share: float = 0.4) -> Case:
    """Write case ``(seed, index)`` into ``folder`` (as ``case-<index>.nir``) and describe it."""
    rng = np.random.default_rng([seed, index])
    source = corpus[int(rng.integers(0, len(corpus)))]
    path = folder / f"case-{index}.nir"
    if rng.random() < byte_share:
        name = _pick(rng, sorted(BYTE_MUTATIONS))
        data = bytearray(source.read_bytes())
        detail = BYTE_MUTATIONS[name](rng, data)
        path.write_bytes(bytes(data))
        return Case(seed, index, source.name, name, detail, "any", path)
    names = sorted(H5_MUTATIONS)
    for _ in range(20):  # a mutation that does not apply to this file (no Conv, ...) draws another
        name = _pick(rng, names)
        shutil.copyfile(source, path)
        path.chmod(0o644)
        with h5py.File(path, "r+") as f:
            done = H5_MUTATIONS[name](rng, f)
        if done is not None:
            detail, expect = done
            return Case(seed, index, source.name, name, detail, expect, path)
    raise RuntimeError(f"no mutation applies to {source.name}")
