"""An independent check of a file a reader accepted: what no correct NIR reader may accept.

Written from the NIR format itself with h5py (not from spyx's reader), so that a spyx bug that accepts a
broken file is not repeated here. Run only on files spyx accepted; returns one line per defect found.
"""

from __future__ import annotations

import math

import h5py
import numpy as np

__all__ = ["defects", "NIR_FIELDS"]

_NEURON = {
    "I": ("r",),
    "IF": ("r", "v_threshold", "v_reset"),
    "LI": ("tau", "r", "v_leak"),
    "LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak", "w_in"),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
}
_CONV = ("weight", "bias", "stride", "padding", "dilation", "groups", "input_shape")
NIR_FIELDS: dict[str, tuple[str, ...]] = {
    **_NEURON,
    "Input": ("shape", "input_type"),
    "Output": ("shape", "output_type"),
    "Affine": ("weight", "bias"),
    "Linear": ("weight",),
    "Scale": ("scale",),
    "Threshold": ("threshold",),
    "Delay": ("delay",),
    "Conv1d": _CONV,
    "Conv2d": _CONV,
    "SumPool2d": ("kernel_size", "stride", "padding"),
    "AvgPool2d": ("kernel_size", "stride", "padding"),
    "Flatten": ("start_dim", "end_dim", "input_type"),
}
INTEGER = {"shape", "input_type", "output_type", "stride", "padding", "dilation", "groups", "input_shape",
           "kernel_size", "start_dim", "end_dim"}
POSITIVE = {"tau", "tau_mem", "tau_syn"}
AT_LEAST_ONE = {"stride", "dilation", "groups", "kernel_size", "shape", "input_type", "output_type"}
NON_NEGATIVE = {"padding", "delay"}
STATEFUL = set(_NEURON) | {"Delay"}


def _text(v) -> str | None:
    if isinstance(v, bytes):
        try:
            return v.decode("utf8")
        except UnicodeDecodeError:
            return None
    return v if isinstance(v, str) else None


def defects(path, *, budget: int = 2 * 2**30) -> list[str]:
    """Defects of the NIR file at ``path`` (empty: nothing a correct reader must refuse)."""
    found: list[str] = []
    seen: set[int] = set()
    with h5py.File(path, "r") as f:
        if "node" not in f:
            return ["no /node"]
        _graph(f, "/node", found, seen, budget)
    return found


def _links_ok(group, found: list[str]) -> bool:
    ok = True
    for k in group:
        link = group.get(k, getlink=True)
        if not isinstance(link, h5py.HardLink):
            found.append(f"{group.name}/{k} is a {type(link).__name__}")
            ok = False
    return ok


def _graph(f, path: str, found: list[str], seen: set[int], budget: int) -> None:
    g = f[path]
    addr = h5py.h5o.get_info(g.id).addr
    if addr in seen:
        found.append(f"{path}: a group reached twice (link cycle or shared group)")
        return
    seen.add(addr)
    if not _links_ok(g, found) or "nodes" not in g or not _links_ok(g["nodes"], found):
        return
    nodes: dict[str, str] = {}
    subs: dict[str, tuple[set[str], set[str]]] = {}
    for name in g["nodes"]:
        child = g["nodes"][name]
        if not isinstance(child, h5py.Group):
            found.append(f"{path}/nodes/{name} is not a group")
            continue
        t = _text(child["type"][()]) if "type" in child and isinstance(child["type"], h5py.Dataset) else None
        if t is None:
            found.append(f"{child.name}: no type string")
            continue
        nodes[name if isinstance(name, str) else name.decode("utf8", "replace")] = t
        if t in ("NIRGraph", "Graph"):
            _graph(f, child.name, found, seen, budget)
            kinds = {
                k: _text(child["nodes"][k]["type"][()]) for k in child.get("nodes", {})
                if isinstance(child["nodes"][k], h5py.Group) and "type" in child["nodes"][k]
            }
            subs[name] = ({k for k, v in kinds.items() if v == "Input"}, {k for k, v in kinds.items() if v == "Output"})
        else:
            _node(child, t, found, budget)
    if "Input" not in nodes.values() or "Output" not in nodes.values():
        found.append(f"{path}: no Input or no Output node")
    if "edges" not in g or not isinstance(g["edges"], h5py.Dataset):
        found.append(f"{path}: no edges dataset")
        return
    e = g["edges"][()]
    if e.size == 0:
        found.append(f"{path}: no edges")
        return
    if e.ndim != 2 or e.shape[1] != 2:
        found.append(f"{path}: edges of shape {e.shape}")
        return
    for a, b in e:
        a, b = _text(a), _text(b)
        if a is None or b is None:
            found.append(f"{path}: an edge endpoint is not a UTF-8 string")
            continue
        src, dst = _end(a, nodes, subs, 1), _end(b, nodes, subs, 0)
        if src is None or dst is None:
            found.append(f"{path}: edge {a} -> {b} names no node")
            continue
        if nodes[dst] == "Input" or nodes[src] == "Output":
            found.append(f"{path}: edge {a} -> {b} into an Input or out of an Output")
        if src == dst and nodes[src] not in STATEFUL and nodes[src] not in ("NIRGraph", "Graph"):
            found.append(f"{path}: self-loop on stateless {src} ({nodes[src]})")


def _end(name: str, nodes: dict[str, str], subs, side: int) -> str | None:
    if name in nodes:
        return name
    head, _, port = name.rpartition(".")
    if head in subs and port in subs[head][side ^ 1]:
        return head
    return None


def _node(g, t: str, found: list[str], budget: int) -> None:
    known = NIR_FIELDS.get(t)
    if known is None:
        found.append(f"{g.name}: unknown type {t!r}")
        return
    for key in g:
        if key not in known:
            continue  # a reader may keep unknown fields as metadata
        item = g[key]
        where = f"{g.name}/{key}"
        if isinstance(item, h5py.Group):
            if t in ("Input", "Output", "Flatten") and list(item) in (["input"], ["output"]):
                item = item[next(iter(item))]
            else:
                found.append(f"{where} is a group")
                continue
        size = math.prod(item.shape) if item.shape is not None else 0
        if size * item.dtype.itemsize > budget:
            found.append(f"{where} declares {size} elements")
            continue
        value = item[()]
        if t.startswith("Conv") and key == "padding" and item.dtype.kind in "OS":
            if _text(value) not in ("same", "valid"):
                found.append(f"{where} = {value!r}")
            continue
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf":
            found.append(f"{where} has dtype {arr.dtype}")
            continue
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            found.append(f"{where} is not finite")
            continue
        if key in INTEGER and arr.dtype.kind == "f" and np.any(arr != np.round(arr)):
            found.append(f"{where} holds fractional values in an integer field")
        if key in POSITIVE and np.any(arr <= 0):
            found.append(f"{where} must be > 0")
        if key in AT_LEAST_ONE and (arr.size == 0 or np.any(arr < 1)):
            found.append(f"{where} must be >= 1")
        if key in NON_NEGATIVE and np.any(arr < 0):
            found.append(f"{where} must be >= 0")
        if key in ("shape", "input_type", "output_type") and math.prod(int(x) for x in arr.reshape(-1)) * 4 > budget:
            found.append(f"{where}: a signal of {arr.reshape(-1).tolist()} float32 exceeds the budget")
