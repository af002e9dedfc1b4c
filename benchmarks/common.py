"""What the benchmark scripts share (each script is run by path, so this folder is on ``sys.path``)."""

from __future__ import annotations

import collections
import glob
import gzip
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

# The NIR graph forwards of issue 11: corpus file, T, B, dt, input shape
CORPUS_FORWARDS = {
    "braille": ("braille_noDelay_bias_zero.nir", 256, 256, 1e-4, (12,)),
    "cnn_sinabs": ("cnn_sinabs.nir", 300, 64, 1.0, (2, 34, 34)),
}


def blocked_median_ms(f, *a, n: int = 20) -> float:
    """Median of ``n`` calls of ``f(*a)``, each waited for, after one warm-up call; in ms."""
    import jax

    jax.block_until_ready(f(*a))
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        jax.block_until_ready(f(*a))
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)) * 1e3


def write_atomic(path: Path, data) -> None:
    """``data`` as indented JSON at ``path``, written to a temporary file beside it and renamed (never partial)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def kernel_times(trace_dir: str, calls: int) -> dict:
    """Device time per call of each kernel name in the perfetto trace (the 12 largest), their sum and count."""
    files = glob.glob(f"{trace_dir}/**/*.json.gz", recursive=True)
    if not files:
        return {}
    ev = json.load(gzip.open(files[0]))
    ev = ev["traceEvents"] if isinstance(ev, dict) else ev
    pids = {e["pid"]: e["args"]["name"] for e in ev if e.get("ph") == "M" and e.get("name") == "process_name"}
    dev = sorted((e for e in ev if e.get("ph") == "X" and "GPU" in pids.get(e["pid"], "")), key=lambda e: e["ts"])
    if not dev:
        return {}
    per = collections.defaultdict(float)
    for e in dev:
        per[e["name"][:100]] += e.get("dur", 0) / calls / 1e3
    return {
        "device_ms_per_call": sum(per.values()),
        "kernels_per_call": len(dev) / calls,
        "top": dict(sorted(per.items(), key=lambda kv: -kv[1])[:12]),
    }
