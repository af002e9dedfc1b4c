"""Turning a case's results into comparable records, storing them, and comparing two records.

Used on both sides of the Spyx 1.0 parity check: by ``spyx1_reference.py`` (run with the real ``spyx==1.0.0`` in
its own venv) and by the ``test_parity_*`` modules (run with our ``spyx``). It imports only NumPy at module level
(flax is imported lazily to recognise ``nnx.State``), and nothing from ``spyx``, so either side can load it.

A *record* is the flattened result of one case:

* ``leaves``: ``{path: meta}`` for every leaf; ``meta["kind"]`` is one of ``array`` (with ``dtype`` and ``shape``),
  ``float0`` (an integer parameter's gradient), ``none``, ``bool``, ``int``, ``float``, ``str``; ``nnx`` variables
  also carry ``var`` (the variable class name, e.g. ``Param``).
* ``tree``: ``{path: "dict:<sorted keys>" | "list:<n>" | "tuple:<n>" | "state"}`` for every container, so a
  ``list`` returned where Spyx 1.0 returns a ``tuple`` (or a missing key) shows up as a difference.
* ``arrays``: ``{path: numpy array}`` for the ``array`` leaves.
* ``error``: ``None``, or ``{"type", "mro", "message"}`` when the case raised.

Paths join keys with ``/`` (``out``, ``grads/params/layers/1/beta``, ``state/2``).
"""

from __future__ import annotations

import fnmatch
import json
import math
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RTOL = 1e-6
ATOL = 1e-7
# Float leaves whose values are spikes / Heaviside outputs: compared exactly. A case may add patterns.
EXACT_PATTERNS = ("*spikes*", "*fwd*", "*heaviside*")


@dataclass
class Record:
    leaves: dict[str, dict] = field(default_factory=dict)
    tree: dict[str, str] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    error: dict | None = None
    seconds: float = 0.0


# --------------------------------------------------------------------------------------------------- flattening


def _is_nnx_state(obj) -> bool:
    try:
        from flax import nnx
    except ImportError:  # pragma: no cover - both environments have flax
        return False
    return isinstance(obj, nnx.State)


def _is_variable(obj) -> bool:
    try:
        from flax import nnx
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, nnx.Variable)


def _array_leaf(rec: Record, path: str, value, var: str | None = None) -> None:
    arr = np.asarray(value)
    meta: dict[str, Any] = {"kind": "array", "dtype": str(arr.dtype), "shape": list(arr.shape)}
    if arr.dtype.kind == "V":  # jax.dtypes.float0: the gradient of an integer input
        meta = {"kind": "float0", "shape": list(arr.shape)}
    else:
        rec.arrays[path] = arr
    if var is not None:
        meta["var"] = var
    rec.leaves[path] = meta


def flatten(obj, rec: Record | None = None, path: str = "") -> Record:
    """Flatten ``obj`` (nested dict/list/tuple/``nnx.State``/arrays/Python scalars) into ``rec``."""
    rec = Record() if rec is None else rec

    def join(key) -> str:
        return f"{path}/{key}" if path else str(key)

    if _is_nnx_state(obj):
        from flax import nnx

        rec.tree[path] = "state"
        for keys, var in nnx.to_flat_state(obj):
            leaf = join("/".join(str(k) for k in keys))
            if _is_variable(var):
                _array_leaf(rec, leaf, var.get_value(), var=type(var).__name__)
            else:
                _array_leaf(rec, leaf, var)
        return rec
    if _is_variable(obj):
        _array_leaf(rec, path, obj.get_value(), var=type(obj).__name__)
        return rec
    if isinstance(obj, dict):
        keys = [str(k) for k in obj]
        if len(set(keys)) != len(keys):
            raise TypeError(f"record {path!r}: dict keys collide as strings: {list(obj)}")
        rec.tree[path] = "dict:" + ",".join(sorted(keys))
        for k, v in obj.items():
            flatten(v, rec, join(k))
        return rec
    if isinstance(obj, (list, tuple)):
        rec.tree[path] = f"{'list' if isinstance(obj, list) else 'tuple'}:{len(obj)}"
        for i, v in enumerate(obj):
            flatten(v, rec, join(i))
        return rec
    if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":
        obj = obj.item()  # a NumPy scalar (e.g. np.int64 in a shape tuple) compares like the Python number
    if obj is None:
        rec.leaves[path] = {"kind": "none"}
    elif isinstance(obj, bool):
        rec.leaves[path] = {"kind": "bool", "value": obj}
    elif isinstance(obj, int):
        rec.leaves[path] = {"kind": "int", "value": obj}
    elif isinstance(obj, float):
        rec.leaves[path] = {"kind": "float", "value": _json_float(obj)}
    elif isinstance(obj, str):
        rec.leaves[path] = {"kind": "str", "value": obj}
    elif hasattr(obj, "__array__") or isinstance(obj, np.generic):
        _array_leaf(rec, path, obj)
    else:
        raise TypeError(f"record {path!r}: cannot record a {type(obj).__name__}; convert it in the case")
    return rec


def _json_float(x: float):
    return x if math.isfinite(x) else repr(x)  # "inf", "-inf", "nan" survive JSON


def _py_float(v) -> float:
    return float(v) if isinstance(v, str) else v


def error_record(exc: BaseException) -> dict:
    return {
        "type": type(exc).__name__,
        "mro": [c.__name__ for c in type(exc).__mro__],
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:],
    }


# --------------------------------------------------------------------------------------------------- storage


def save(rec: Record, folder: Path, name: str) -> None:
    """``folder/name.npz`` then ``folder/name.json``, each written under a temporary name and renamed, so a reader
    that sees the JSON can read both."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {path: f"a{i}" for i, path in enumerate(rec.arrays)}
    tmp = folder / f".{name}.tmp.npz"
    np.savez(tmp, **{names[p]: a for p, a in rec.arrays.items()})
    tmp.replace(folder / f"{name}.npz")
    meta = {"leaves": rec.leaves, "tree": rec.tree, "error": rec.error, "seconds": rec.seconds, "files": names}
    write_json(folder / f"{name}.json", meta)


def write_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True))
    tmp.replace(path)


def load(folder: Path, name: str) -> Record:
    meta = json.loads((folder / f"{name}.json").read_text())
    with np.load(folder / f"{name}.npz", allow_pickle=False) as z:
        arrays = {path: z[f] for path, f in meta["files"].items()}
    return Record(meta["leaves"], meta["tree"], arrays, meta["error"], meta["seconds"])


# --------------------------------------------------------------------------------------------------- comparison


def _exact(path: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def _compare_arrays(path: str, ref: np.ndarray, ours: np.ndarray, exact: bool) -> str | None:
    if ref.dtype != ours.dtype:
        return f"{path}: dtype {ours.dtype} != reference {ref.dtype}"
    if ref.shape != ours.shape:
        return f"{path}: shape {ours.shape} != reference {ref.shape}"
    if ref.dtype.kind not in "fc" or exact:
        same = ref == ours
        if ref.dtype.kind in "fc":
            same = same | (np.isnan(ref) & np.isnan(ours))
        if not np.all(same):
            bad = np.argwhere(~np.asarray(same))
            i = tuple(bad[0]) if ref.ndim else ()
            return (f"{path}: {len(bad) if ref.ndim else 1} of {ref.size} elements differ (exact comparison); "
                    f"first at {list(i)}: ours {ours[i]!r} vs reference {ref[i]!r}")
        return None
    wide = np.complex128 if ref.dtype.kind == "c" else np.float64
    r64, o64 = ref.astype(wide), ours.astype(wide)
    with np.errstate(invalid="ignore"):  # inf - inf where both are infinite: decided by r64 == o64 below
        diff = np.abs(o64 - r64)
    same_nonfinite = (np.isnan(r64) == np.isnan(o64)) & (np.isinf(r64) == np.isinf(o64))
    finite = np.isfinite(r64) & np.isfinite(o64)
    close = np.where(finite, diff <= ATOL + RTOL * np.abs(r64), r64 == o64) | (
        np.isnan(r64) & np.isnan(o64))
    ok = close & same_nonfinite
    if not ok.all():
        bad = np.argwhere(~ok)
        i = tuple(bad[0]) if ref.ndim else ()
        err = diff[finite]
        worst = float(err.max()) if err.size else float("nan")
        return (f"{path}: {len(bad)} of {ref.size} elements outside rtol {RTOL}, atol {ATOL} (max abs diff "
                f"{worst:.3g}); first at {list(i)}: ours {ours[i]!r} vs reference {ref[i]!r}")
    return None


def _compare_scalar(path: str, kind: str, ref, ours) -> str | None:
    if kind == "float":
        r, o = _py_float(ref), _py_float(ours)
        if math.isnan(r) and math.isnan(o):
            return None
        if r == o or (math.isfinite(r) and abs(o - r) <= ATOL + RTOL * abs(r)):
            return None
        return f"{path}: {o!r} != reference {r!r}"
    if ref != ours:
        return f"{path}: {ours!r} != reference {ref!r}"
    return None


def compare(ref: Record, ours: Record, exact_patterns=()) -> list[str]:
    """Every difference between ``ours`` and the reference, one sentence each (empty when they agree)."""
    patterns = tuple(EXACT_PATTERNS) + tuple(exact_patterns)
    problems = []
    for path in sorted(set(ref.tree) | set(ours.tree)):
        r, o = ref.tree.get(path), ours.tree.get(path)
        if r != o:
            problems.append(f"{path or '<top>'}: container {o or 'missing'} != reference {r or 'missing'}")
    for path in sorted(set(ref.leaves) | set(ours.leaves)):
        if path not in ours.leaves:
            problems.append(f"{path}: missing in ours (reference has {ref.leaves[path]['kind']})")
            continue
        if path not in ref.leaves:
            problems.append(f"{path}: ours has {ours.leaves[path]['kind']}, the reference has no such leaf")
            continue
        rm, om = ref.leaves[path], ours.leaves[path]
        if rm["kind"] != om["kind"]:
            problems.append(f"{path}: ours is {om['kind']} ({om}), the reference {rm['kind']} ({rm})")
            continue
        if rm.get("var") != om.get("var"):
            problems.append(f"{path}: variable type {om.get('var')} != reference {rm.get('var')}")
        if rm["kind"] == "array":
            msg = _compare_arrays(path, ref.arrays[path], ours.arrays[path], _exact(path, patterns))
        elif rm["kind"] == "float0":
            msg = None if rm["shape"] == om["shape"] else f"{path}: float0 shape {om['shape']} != {rm['shape']}"
        elif rm["kind"] == "none":
            msg = None
        else:
            msg = _compare_scalar(path, rm["kind"], rm["value"], om["value"])
        if msg:
            problems.append(msg)
    return problems


def compare_error(ref: Record, ours: Record, fragment: str | None) -> list[str]:
    """An error case: ours must raise the reference's exception type (or a subclass of it), and both messages must
    contain the contract's key ``fragment``."""
    if ref.error is None:
        return ["the reference raised nothing (the case or the contract is wrong)"]
    problems = []
    if fragment is not None and fragment.lower() not in ref.error["message"].lower():
        problems.append(f"the reference message {ref.error['message']!r} lacks the fragment {fragment!r}")
    if ours.error is None:
        return problems + [f"ours raised nothing; the reference raises {ref.error['type']}: {ref.error['message']}"]
    if ref.error["type"] not in ours.error["mro"]:
        problems.append(
            f"ours raises {ours.error['type']} ({ours.error['message']!r}), which is not a {ref.error['type']}; "
            f"the reference: {ref.error['message']!r}\n{ours.error['traceback']}"
        )
    elif fragment is not None and fragment.lower() not in ours.error["message"].lower():
        problems.append(f"our message {ours.error['message']!r} lacks {fragment!r} (reference: "
                        f"{ref.error['message']!r})")
    return problems
