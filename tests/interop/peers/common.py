"""Shared pieces of the peer fixture generator: the case record, seeded inputs, and the writer.

A *case* builds one small model in a peer framework, drives it with seeded random spikes, records the
peer's native outputs, and exports the model with the peer's own NIR exporter. The writer stores, under
``OUTDIR/<peer>/<case>/``:

- ``model.nir``: the peer's export (absent when the export crashed),
- ``input.npy``: time-major input ``(T, B, *shape)``, channels-first as NIR expects,
- ``output.npy``: time-major native output ``(T, B, *shape)`` (spike counts, or membranes of readouts),
- ``meta.json``: peer, versions, case, dt, native options, what the exporter lost, and ``ref``: the
  profile and options that ``numpy_ref`` needs to reproduce ``output.npy`` from ``model.nir``.

Nothing here imports a peer framework; each ``<peer>_cases.py`` does so at the point of use.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PEERS = ("snntorch", "norse", "sinabs", "rockpool", "spikingjelly")


@dataclass
class CaseResult:
    """What one case produced. ``graph`` is None when the exporter crashed (``export_error`` says why)."""

    input: np.ndarray  # (T, B, *shape) float32
    output: np.ndarray  # (T, B, *shape) float32, native
    dt: float  # the dt a user would pass when importing (what the peer simulated with)
    native_options: dict[str, Any]  # options the user set, as the peer names them
    ref: dict[str, Any]  # {"profile": str, "options": {...}, "node_options": {node: {...}}}
    graph: Any = None  # nir.NIRGraph
    export_error: str | None = None
    lost: list[str] = field(default_factory=list)  # what the exporter silently dropped or changed
    output_kind: str = "spikes"  # "spikes" or "membrane"
    notes: str = ""


@dataclass(frozen=True)
class Case:
    """A named fixture: ``build()`` runs the peer and returns a :class:`CaseResult`."""

    name: str
    build: Callable[[], CaseResult]
    description: str = ""


def spikes(rng: np.random.Generator, shape: tuple[int, ...], p: float = 0.3) -> np.ndarray:
    """Bernoulli spike trains as float32 0/1 of ``shape`` (time-major)."""
    return (rng.random(shape) < p).astype(np.float32)


def to_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def try_export(fn: Callable[[], Any]) -> tuple[Any, str | None]:
    """Run an exporter; return (graph, None) or (None, 'ExcType: message')."""
    try:
        return fn(), None
    except Exception as exc:  # the peer's own bug: recorded, not raised
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return None, f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})"


def dropped_nodes(graph, expected: list[str]) -> str | None:
    """Name the modules the exporter silently left out of ``graph`` (None when all are there)."""
    if graph is None:
        return None
    names = set(graph.nodes)
    missing = [e for e in expected if e not in names and not any(n.startswith(e + ".") for n in names)]
    return f"exporter silently dropped nodes: {', '.join(missing)}" if missing else None


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    return x


def write_case(
    outdir: Path, peer: str, version: str, case: Case, extra_meta: dict[str, Any]
) -> dict[str, Any]:
    """Build ``case`` and write its files; never raises for a peer's failure (it lands in meta.json)."""
    import nir

    cdir = outdir / peer / case.name
    cdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    meta: dict[str, Any] = {
        "peer": peer,
        "version": version,
        "case": case.name,
        "description": case.description,
    }
    meta.update(extra_meta)
    try:
        res = case.build()
    except Exception as exc:
        meta["build_error"] = f"{type(exc).__name__}: {exc}"
        meta["traceback"] = traceback.format_exc(limit=4)
        (cdir / "meta.json").write_text(json.dumps(_jsonable(meta), indent=1))
        return meta
    np.save(cdir / "input.npy", np.ascontiguousarray(res.input, dtype=np.float32))
    np.save(cdir / "output.npy", np.ascontiguousarray(res.output, dtype=np.float32))
    export_error = res.export_error
    nir_path = cdir / "model.nir"
    if nir_path.exists():
        nir_path.unlink()
    if res.graph is not None:
        try:
            nir.write(nir_path, res.graph)
        except Exception as exc:
            nir_path.unlink(missing_ok=True)
            bad = [k for k, v in getattr(res.graph, "nodes", {}).items() if v is None]
            export_error = f"nir.write failed: {type(exc).__name__}: {exc}" + (
                f" (the exporter returned None for nodes {bad})" if bad else ""
            )
    meta.update(
        dt=res.dt,
        native_options=res.native_options,
        output_kind=res.output_kind,
        lost_by_exporter=res.lost,
        ref=res.ref,
        input_shape=list(res.input.shape),
        output_shape=list(res.output.shape),
        seconds=round(time.perf_counter() - t0, 3),
    )
    if export_error:
        meta["export_error"] = export_error
    if res.notes:
        meta["notes"] = res.notes
    (cdir / "meta.json").write_text(json.dumps(_jsonable(meta), indent=1))
    return meta
