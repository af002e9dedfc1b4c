"""What the benchmark scripts share (each script is run by path, so this folder is on ``sys.path``)."""

from __future__ import annotations

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
