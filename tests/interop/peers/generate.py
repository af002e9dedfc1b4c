"""Generate the peer interop fixtures.

Usage (from the repository root, with a Python that has the peers installed)::

    python -m tests.interop.peers.generate OUTDIR [--peer snntorch] [--case leaky_zero_delay]

Writes OUTDIR/<peer>/<case>/{model.nir,input.npy,output.npy,meta.json} and OUTDIR/summary.json.
A peer that cannot be imported is reported and skipped; a peer's exporter crash lands in meta.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

from .common import PEERS, write_case


def generate(outdir: Path, peers=PEERS, case_filter: str | None = None) -> dict:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import nir

    try:  # the spyx1 venv has no torch
        import torch

        torch.set_num_threads(1)
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    summary: dict = {}
    for peer in peers:
        t0 = time.perf_counter()
        try:
            mod = importlib.import_module(f"{__package__}.{peer}_cases")
            ver = mod.version()
        except Exception as exc:  # peer not installed
            summary[peer] = {"skipped": f"{type(exc).__name__}: {exc}"}
            print(f"[{peer}] skipped: {exc}", file=sys.stderr)
            continue
        extra = {"torch_version": torch_version, "nir_version": getattr(nir, "__version__", "?")}
        rows = {}
        for case in mod.CASES:
            if case_filter and case.name != case_filter:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                meta = write_case(outdir, peer, ver, case, extra)
            rows[case.name] = {k: meta[k] for k in ("export_error", "build_error", "seconds") if k in meta}
            status = (
                "BUILD ERROR"
                if "build_error" in meta
                else ("export error" if "export_error" in meta else "ok")
            )
            print(f"[{peer}] {case.name}: {status}", file=sys.stderr)
        summary[peer] = {"version": ver, "seconds": round(time.perf_counter() - t0, 2), "cases": rows}
        print(f"[{peer}] {len(rows)} cases in {summary[peer]['seconds']} s", file=sys.stderr)
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", type=Path)
    ap.add_argument(
        "--peer",
        choices=PEERS + ("spyx1",),
        action="append",
        help="repeatable; default: the torch peers (spyx1 needs its own venv)",
    )
    ap.add_argument("--case", help="only the case of this name")
    args = ap.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    summary = generate(args.outdir, tuple(args.peer or PEERS), args.case)
    path = args.outdir / "summary.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    old.update(summary)
    path.write_text(json.dumps(old, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
