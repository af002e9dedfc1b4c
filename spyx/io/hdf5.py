"""The HDF5 side of reading a NIR file, bounded: look at the whole tree first, read data only if it fits.

:func:`read_tree` works in two passes over ``/node`` and ``/version``:

1. **scan** (no data read, except the small ``type`` strings): every link must be a hard link (soft and
   external links are refused, so nothing outside the tree is followed), every group must be reached once
   (a group seen again is a link cycle or a shared group, refused before it is entered), groups nest at most
   :data:`MAX_GROUP_DEPTH` deep, and every dataset's declared size (shape x item size; 64 bytes per string)
   is added up. A dataset, or all of them together, above ``max_bytes`` is refused (:class:`SizeError` with
   the bytes); so are datasets whose HDF5 type is not a number or a string (compound, opaque, reference,
   variable-length sequences), and datasets larger than :data:`CHECK_ABOVE` bytes whose shape disagrees
   with what their node's other fields say (a LIF's ``tau`` of 2^26 values beside ``r`` of 38).
2. **read**: the datasets, now known to fit, into the plain dict tree :mod:`spyx.io.decode` takes (strings
   decoded as UTF-8; text that is not UTF-8 is a :class:`FormatError` naming the dataset).

Every error names the file and the HDF5 path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from spyx.errors import FormatError, ReadError, SizeError
from spyx.ir.traits import WeightLayer
from spyx.limits import MAX_DEPTH, MAX_STRINGS

__all__ = ["read_file", "read_tree", "MAX_GROUP_DEPTH", "CHECK_ABOVE", "STRING_BYTES"]

MAX_GROUP_DEPTH = 2 * MAX_DEPTH + 40
"""HDF5 groups nest at most this deep (a nested NIR graph takes two levels: its group and ``nodes``)."""

CHECK_ABOVE = 1 << 16
"""Datasets declaring more bytes than this are checked against their node's other fields before reading."""

STRING_BYTES = 64
"""Bytes a string element is counted as in the budget (a Python ``str`` and its pointer)."""

_INTEGER_FIELDS = {"shape", "input_type", "output_type", "stride", "padding", "dilation", "groups",
                   "input_shape", "kernel_size", "start_dim", "end_dim"}
_MAX_INTEGER_VALUES = 16  # a shape, or one value per spatial axis


@dataclass
class _Dataset:
    """A dataset seen by the scan and not yet read."""

    path: str
    dsid: Any
    shape: tuple[int, ...] | None
    dtype: np.dtype
    nbytes: int
    text: bool


def read_file(p, source: str, max_bytes: int) -> tuple[dict[str, Any], str | None]:
    """Open the file at ``p`` and :func:`read_tree` it; every failure a spyx error naming ``source``."""
    import h5py

    if not p.exists():
        raise ReadError(f"{source}: no such file")
    if p.is_dir():
        raise ReadError(f"{source}: is a directory, expected a .nir (HDF5) file")
    if not p.is_file():  # a FIFO or device: opening it could block, or never end
        raise ReadError(f"{source}: is not a regular file, expected a .nir (HDF5) file")
    try:
        f = h5py.File(p, "r")
    except OSError as e:
        raise ReadError(f"{source}: not an HDF5 file ({e})") from None
    except (RuntimeError, ValueError, KeyError, TypeError) as e:
        raise ReadError(f"{source}: cannot open the file ({e}); is it truncated or corrupt?") from None
    with f:
        try:
            return read_tree(f, source, max_bytes)
        except (OSError, RuntimeError, KeyError) as e:
            raise ReadError(f"{source}: cannot read the file ({e}); is it truncated or corrupt?") from None


def read_tree(f, source: str, max_bytes: int) -> tuple[dict[str, Any], str | None]:
    """The ``/node`` tree of the open h5py file ``f`` as plain dicts, and the ``/version`` string."""
    import h5py

    scan = _Scan(h5py, source, max_bytes)
    root = f.id
    node = scan.entry(root, "node", "/node", depth=1)
    if node is None:
        raise FormatError(
            f"{source}: no 'node' group (top-level entries: {', '.join(_names(root)) or 'none'}); "
            "a NIR file stores its graph in /node"
        )
    if isinstance(node, _Dataset):
        raise FormatError(f"{source}: /node is a dataset, expected the graph group")
    version = scan.entry(root, "version", "/version", depth=1)
    scan.check_total()
    _check_nodes(node, "", source)
    tree = _read(node, source)
    if version is None:
        return tree, _version_attribute(f, source)
    return tree, _version(version, source)


def _names(gid) -> list[str]:
    import h5py

    return [n.decode("utf8", "backslashreplace") for n in _links(h5py, gid)]


def _links(h5py, gid) -> list[bytes]:
    """Link names of a group in creation order when the group tracks it (files spyx writes), else by name,
    as h5py iterates."""
    names: list[bytes] = []
    try:
        flags = gid.get_create_plist().get_link_creation_order()
    except (OSError, RuntimeError, ValueError):
        flags = 0
    if flags & h5py.h5p.CRT_ORDER_INDEXED:
        try:
            gid.links.iterate(names.append, idx_type=h5py.h5.INDEX_CRT_ORDER)
            return names
        except (KeyError, OSError, RuntimeError, ValueError):
            names = []
    gid.links.iterate(names.append)
    return names


class _Scan:
    def __init__(self, h5py, source: str, max_bytes: int) -> None:
        self.h5py = h5py
        self.source = source
        self.max_bytes = max_bytes
        self.total = 0
        self.seen: dict[int, str] = {}
        self.biggest: tuple[int, str] = (0, "")

    def entry(self, gid, name: str | bytes, path: str, depth: int, *, listed: bool = False):
        """The group (dict) or dataset (_Dataset) ``name`` of group ``gid``; None when there is none.
        ``listed``: the name comes from iterating ``gid`` (it exists; a lookup that fails is damage)."""
        h5py, source = self.h5py, self.source
        key = name.encode("utf8", "surrogateescape") if isinstance(name, str) else name
        try:
            if not listed and not gid.links.exists(key):
                return None
            info = gid.links.get_info(key)
        except (KeyError, OSError, RuntimeError, ValueError) as e:
            raise ReadError(f"{source}: cannot read {path} ({e}); is the file truncated or corrupt?") from None
        if info.type == h5py.h5l.TYPE_SOFT:
            target = gid.links.get_val(key).decode("utf8", "backslashreplace")
            raise ReadError(
                f"{source}: {path} is a soft link to {target}; spyx does not follow links in NIR files "
                "(a NIR file is a tree of its own groups and datasets, and links can form cycles)"
            )
        if info.type != h5py.h5l.TYPE_HARD:
            what = "an external link" if info.type == h5py.h5l.TYPE_EXTERNAL else "a user-defined link"
            target = ""
            if info.type == h5py.h5l.TYPE_EXTERNAL:
                try:
                    filename, obj = (x.decode("utf8", "backslashreplace") for x in gid.links.get_val(key))
                    target = f" to {obj} in {filename}"
                except (KeyError, OSError, RuntimeError, ValueError, TypeError):
                    pass
            raise ReadError(
                f"{source}: {path} is {what}{target}; spyx does not follow links in NIR files "
                "(a NIR file holds its own data)"
            )
        try:
            obj = h5py.h5o.open(gid, key)
            # the address identifies a group reached twice (cycles); datasets cannot lead anywhere
            addr = h5py.h5o.get_info(obj).addr if isinstance(obj, h5py.h5g.GroupID) else None
        except (KeyError, OSError, RuntimeError, ValueError) as e:
            raise ReadError(f"{source}: cannot read {path} ({e}); is the file truncated or corrupt?") from None
        if isinstance(obj, h5py.h5g.GroupID):
            return self.group(obj, path, depth, addr)
        if isinstance(obj, h5py.h5d.DatasetID):
            return self.dataset(obj, path)
        raise FormatError(f"{source}: {path} is a committed HDF5 datatype, expected a group or a dataset")

    def group(self, gid, path: str, depth: int, addr: int) -> dict[str, Any]:
        source = self.source
        if addr in self.seen:
            first = self.seen[addr]
            why = "a link cycle" if path.startswith(first + "/") else "hard-linked twice"
            raise FormatError(
                f"{source}: {path} is the group {first} again ({why}); a NIR file is a tree of groups, "
                "so spyx does not follow it"
            )
        self.seen[addr] = path
        if depth > MAX_GROUP_DEPTH:
            where = path if len(path) <= 100 else f"{path[:60]}...{path[-40:]}"
            raise FormatError(
                f"{source}: groups nested {depth} groups deep; spyx reads at most {MAX_GROUP_DEPTH} (graphs nest "
                f"at most {MAX_DEPTH} levels, spyx.limits.MAX_DEPTH); at {where}"
            )
        try:
            names = _links(self.h5py, gid)
        except (KeyError, OSError, RuntimeError, ValueError) as e:
            raise ReadError(f"{source}: cannot list {path} ({e}); is the file truncated or corrupt?") from None
        out: dict[str, Any] = {}
        for key in names:
            try:
                name = key.decode("utf8")
            except UnicodeDecodeError:
                raise FormatError(
                    f"{source}: {path} holds an entry named {key!r}, which is not UTF-8 text; NIR names are text"
                ) from None
            item = self.entry(gid, key, f"{path}/{name}", depth + 1, listed=True)
            if item is None:
                raise ReadError(
                    f"{source}: {path} lists {name!r}, which cannot be found; is the file truncated or corrupt?"
                )
            out[name] = item
        return out

    def dataset(self, dsid, path: str) -> _Dataset:
        h5py, source = self.h5py, self.source
        try:
            space = dsid.get_space()
            null = space.get_simple_extent_type() == h5py.h5s.NULL
            shape = None if null else tuple(int(d) for d in space.shape)
            dtype = dsid.dtype
        except (KeyError, OSError, RuntimeError, ValueError, TypeError) as e:
            raise ReadError(f"{source}: cannot read dataset {path} ({e}); is the file truncated?") from None
        # A dataset stored contiguously in this file has an offset in it and cannot keep its data elsewhere
        # (the cheap test first; chunked, compact, external and virtual datasets have none).
        storage = _foreign_storage(h5py, dsid) if shape and dsid.get_offset() is None else None
        if storage:
            # External raw files and virtual datasets make libhdf5 open other files by name: a NIR file keeps its
            # data inside itself, and following those names would read whatever lies at them.
            raise FormatError(
                f"{source}: dataset {path} keeps its data in {storage}; a NIR file stores its data inside itself; "
                "not read"
            )
        text = h5py.check_string_dtype(dtype) is not None
        if not text and (dtype.kind not in "biufc" or dtype.subdtype is not None or dtype.fields):
            raise FormatError(
                f"{source}: dataset {path} has HDF5 type {_describe_dtype(h5py, dtype)}; a NIR file stores "
                "numbers, numeric arrays and strings"
            )
        count = 0 if shape is None else math.prod(shape)
        if text and count > MAX_STRINGS:
            raise SizeError(
                f"{source}: dataset {path} declares {fmt_dims(shape)} = {count} strings; spyx reads at most "
                f"{MAX_STRINGS} strings per dataset (spyx.limits.MAX_STRINGS); not read"
            )
        per = STRING_BYTES if (text and dtype.kind == "O") else dtype.itemsize + (STRING_BYTES if text else 0)
        nbytes = count * per
        if nbytes > self.max_bytes:
            raise SizeError(
                f"{source}: dataset {path} declares {fmt_dims(shape)} = {count} elements, {nbytes} bytes, more "
                f"than the memory budget of {self.max_bytes} bytes (spyx.load(..., max_bytes=)); not read"
            )
        self.total += nbytes
        self.biggest = max(self.biggest, (nbytes, path))
        return _Dataset(path, dsid, shape, dtype, nbytes, text)

    def check_total(self) -> None:
        if self.total > self.max_bytes:
            raise SizeError(
                f"{self.source}: the file's datasets declare {self.total} bytes together (the largest, "
                f"{self.biggest[1]}, {self.biggest[0]}), more than the memory budget of {self.max_bytes} bytes "
                "(spyx.load(..., max_bytes=)); not read"
            )


def _foreign_storage(h5py, dsid) -> str | None:
    """What names another file in a dataset's storage (external raw files, a virtual dataset), or ``None``."""
    try:
        dcpl = dsid.get_create_plist()
        if dcpl.get_layout() == h5py.h5d.VIRTUAL:
            return "other files (a virtual dataset)"
        if dcpl.get_external_count() > 0:
            return "external raw files"
    except (OSError, RuntimeError, ValueError, KeyError) as e:
        return f"a storage layout HDF5 cannot describe ({e})"
    return None


def fmt_dims(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "no dataspace"
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _describe_dtype(h5py, dtype: np.dtype) -> str:
    if h5py.check_vlen_dtype(dtype) is not None:
        return f"variable-length sequence of {h5py.check_vlen_dtype(dtype)}"
    if h5py.check_ref_dtype(dtype) is not None:
        return "object reference"
    if dtype.fields:
        return f"compound ({', '.join(dtype.fields)})"
    if dtype.subdtype is not None:
        return f"array {dtype.subdtype[0]}{list(dtype.subdtype[1])}"
    return f"{dtype} (opaque)" if dtype.kind == "V" else str(dtype)


# -- checks on node groups, before reading -----------------------------------------------------------------------


def _small_text(item, source: str) -> str | None:
    """The value of a scalar (or one-element) string dataset, read now; None if it is not one."""
    if not isinstance(item, _Dataset) or not item.text or item.shape is None or math.prod(item.shape) != 1:
        return None
    value = _read_dataset(item, source)
    value = value.reshape(-1)[0] if isinstance(value, np.ndarray) else value
    return value if isinstance(value, str) else None


def _check_nodes(group: dict[str, Any], where: str, source: str) -> None:
    """Declared shapes of each node's datasets against the node's own structure (before any is read)."""
    from spyx.io.spellings import TYPE_ALIASES
    from spyx.ir.node import registered_kinds

    stack = [(group, where)]
    kinds = {k: c for k, c in registered_kinds().items() if not k.startswith("spyx.")}
    while stack:
        g, where = stack.pop()
        type_name = _small_text(g.get("type"), source)
        kind = TYPE_ALIASES.get(type_name, type_name)
        if kind == "NIRGraph":
            nodes = g.get("nodes")
            if isinstance(nodes, dict):
                stack.extend((sub, f"{where}.{k}" if where else k) for k, sub in nodes.items() if isinstance(sub, dict))
            continue
        cls = kinds.get(kind) if kind else None
        if cls is None:
            continue  # unknown or missing types are the decoder's to report
        shapes = {k: v.shape for k, v in g.items() if isinstance(v, _Dataset) and not v.text and v.shape is not None}
        for name, shape in shapes.items():
            if name in _INTEGER_FIELDS and (len(shape) > 1 or math.prod(shape) > _MAX_INTEGER_VALUES):
                raise FormatError(
                    f"{source}: node {where!r} ({kind}) field {name!r} declares shape {fmt_dims(shape)}; it holds "
                    f"integers (a shape, or one value per axis: at most {_MAX_INTEGER_VALUES}); not read"
                )
        for name, item in g.items():
            if isinstance(item, _Dataset) and item.nbytes > CHECK_ABOVE and name in shapes:
                why = _disagrees(cls, name, shapes)
                if why:
                    raise SizeError(
                        f"{source}: node {where!r} ({kind}) field {name!r} declares {fmt_dims(shapes[name])} "
                        f"({item.nbytes} bytes), but {why}; not read"
                    )


def _disagrees(cls, name: str, shapes: dict[str, tuple[int, ...]]) -> str | None:
    """Why field ``name``'s declared shape cannot be right given the node's other fields, or None."""
    shape = shapes[name]
    params = set(cls.param_names())
    if hasattr(cls, "_shape_param"):  # a neuron population: parameters share one shape (or are 0-d)
        for other, s in shapes.items():
            if other != name and other in params and len(s) > 0 and s != shape:
                return f"{other} is {fmt_dims(s)} (a population's parameters share one shape)"
        return None
    weight = shapes.get("weight")
    if name == "bias" and weight is not None and len(weight) >= 1 and shape != (weight[0],):
        return f"weight is {fmt_dims(weight)}, so bias has {weight[0]} values"
    bias = shapes.get("bias")
    if name == "weight" and bias is not None and (len(shape) < 1 or (shape[0],) != bias):
        return f"bias is {fmt_dims(bias)}, so weight has {bias[0] if bias else '?'} rows"
    ndim = getattr(cls, "ndim", None)
    if name == "weight" and ndim and len(shape) != ndim + 2:
        return f"a {cls.kind} weight has {ndim + 2} axes (C_out, C_in/groups, *kernel)"
    layer = cls.declared_trait(WeightLayer)
    if layer is not None and name == layer.weight and layer.layout == "dense" and len(shape) != 2:
        return "a weight matrix has 2 axes (out, in)"
    return None


# -- reading -------------------------------------------------------------------------------------------------------


def _read(group: dict[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    stack = [(group, out)]
    while stack:
        g, target = stack.pop()
        for k, v in g.items():
            if isinstance(v, dict):
                target[k] = {}
                stack.append((v, target[k]))
            else:
                target[k] = _read_dataset(v, source)
    return out


def _read_dataset(item: _Dataset, source: str) -> Any:
    import h5py

    if item.shape is None:
        return np.zeros((0,), item.dtype if not item.text else object)
    if not item.text:
        # Numbers straight into an array of the declared shape (h5py's Dataset wrapper costs several times
        # the read itself on the small datasets a NIR file is made of).
        value = _unwritten(item)
        try:
            if value is None:
                value = np.empty(item.shape, item.dtype)
                if value.size:
                    item.dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, value)
        except (OSError, RuntimeError, TypeError, ValueError, KeyError) as e:
            raise ReadError(f"{source}: cannot read dataset {item.path} ({e}); is the file truncated?") from None
        if value.ndim == 0:
            return value[()]  # a NumPy scalar, as h5py gives for a 0-d dataset
        value.flags.writeable = False  # read once, never copied again (spyx.ir.node.freeze_array)
        return value
    try:
        value = h5py.Dataset(item.dsid)[()]
    except (OSError, RuntimeError, TypeError, ValueError, KeyError) as e:
        raise ReadError(f"{source}: cannot read dataset {item.path} ({e}); is the file truncated?") from None
    try:
        return _text(value)
    except UnicodeDecodeError:
        raise FormatError(f"{source}: dataset {item.path} holds bytes that are not UTF-8 text") from None


def _unwritten(item: _Dataset) -> np.ndarray | None:
    """The dataset as its fill value when none of it is stored (a chunked dataset whose chunks were never
    written), else None. HDF5 would produce the same array chunk by chunk: for a declared 2^27 values in chunks
    of 1024 that is 4 s of CPU for 1 GiB of zeros (found by the fuzzer)."""
    try:
        if item.dsid.get_storage_size() != 0:
            return None
        fill = np.zeros((1,), item.dtype)
        item.dsid.get_create_plist().get_fill_value(fill)
    except (OSError, RuntimeError, TypeError, ValueError, KeyError):
        return None  # not answerable: read it the ordinary way (which names the problem)
    if not fill.any():  # zeros from calloc: pages the OS maps when touched, not 1 GiB of writes now
        return np.zeros(item.shape, item.dtype)
    return np.full(item.shape, fill[0], item.dtype)


def _text(v: Any) -> Any:
    """Strings decoded to ``str`` (strictly UTF-8); arrays of them as object arrays of ``str``."""
    if isinstance(v, bytes):
        return v.decode("utf8")
    if isinstance(v, np.ndarray) and v.dtype.kind in "OS":
        return np.array(
            [x.decode("utf8") if isinstance(x, bytes) else x for x in v.reshape(-1)], dtype=object
        ).reshape(v.shape)
    return v


def _version(item, source: str) -> str | None:
    if item is None:
        return None
    if isinstance(item, dict):
        raise FormatError(f"{source}: /version is a group, expected the nir version string")
    try:
        value = _read_dataset(item, source)
    except FormatError:
        raw = h5py_bytes(item)
        return raw.decode("utf8", "backslashreplace") if raw is not None else None
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise FormatError(f"{source}: /version holds {value.size} values, expected one version string")
        value = value.reshape(-1)[0]
    return value if isinstance(value, str) else str(value)


def _version_attribute(f, source: str) -> str | None:
    """A ``version`` attribute on the root group (some writers put it there), or None."""
    try:
        value = f.attrs.get("version")
    except (OSError, RuntimeError, TypeError, ValueError, KeyError) as e:
        raise ReadError(f"{source}: cannot read the root group's version attribute ({e})") from None
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size == 1 else None
    if isinstance(value, bytes):
        return value.decode("utf8", "backslashreplace")
    return None if value is None else str(value)


def h5py_bytes(item: _Dataset) -> bytes | None:
    import h5py

    try:
        value = h5py.Dataset(item.dsid)[()]
    except (OSError, RuntimeError, TypeError, ValueError):
        return None
    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size == 1 else None
    return value if isinstance(value, bytes) else None
