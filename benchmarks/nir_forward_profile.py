"""Where the NIR graph forwards spend their time on GPU, and the row kernel's launch settings.

For braille (B = 256, T = 256) and cnn_sinabs (B = 64, T = 300): ``spyx.compile(fused="off")`` against
``fused="auto"`` (median of 20 blocked calls after one warm-up, first-call time, largest output difference), one
``jax.profiler`` trace of 3 calls of the ``auto`` program reduced to device time per kernel name (the GPU's own
clock, so launch gaps and host dispatch are what the wall time has beyond it), cnn_sinabs again at
``precision="default"``, then braille with :mod:`spyx.backend.row_kernel`'s ``ROWS`` / ``UNROLL`` /
``NUM_WARPS`` set to each of ``--sweep``'s settings. Prints tables; writes JSON (atomically, after each step, so
a run stopped at its time limit keeps what it measured).

    python benchmarks/nir_forward_profile.py --corpus ../shared/nir-corpus --out benchmarks/results/x.json
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from common import CORPUS_FORWARDS as CASES
from common import blocked_median_ms as timeit
from common import write_atomic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import spyx  # noqa: E402
from spyx.backend import row_kernel  # noqa: E402

# the H200 run's settings, in its order
SWEEP = "16,1,4 16,8,1 16,8,2 16,32,4 16,32,1 32,8,4 32,8,2 64,8,4 16,4,4 16,16,2"


def case(corpus: Path, name: str, scale_t: float, **kw):
    fname, t_len, b, dt, cin = CASES[name]
    g = spyx.load(corpus / fname)
    t_len = max(1, int(t_len * scale_t))
    x = jnp.asarray((np.random.default_rng(0).random((t_len, b, *cin)) < 0.2).astype(np.float32))
    prog = spyx.compile(g, dt=dt, **kw)
    run = jax.jit(prog.run)
    t0 = time.perf_counter()
    y, _ = run(prog.params, x)
    jax.block_until_ready(y)
    return prog, run, x, np.asarray(y), time.perf_counter() - t0


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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("../shared/nir-corpus"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/nir_forward_profile.json"))
    ap.add_argument("--sweep", default=SWEEP, help="ROWS,UNROLL,NUM_WARPS settings, space separated")
    ap.add_argument("--scale-t", type=float, default=1.0, help="shorter sequences for a CPU smoke run")
    args = ap.parse_args(argv)
    res: dict = {"device": str(jax.devices()[0]), "jax": jax.__version__}
    ref = {}
    for name in CASES:
        prog, run, x, y, first = case(args.corpus, name, args.scale_t, fused="off")
        ref[name] = y
        res[f"{name}/off"] = {"ms": timeit(run, prog.params, x), "first_s": first}
        prog, run, x, y, first = case(args.corpus, name, args.scale_t, fused="auto")
        res[f"{name}/auto"] = {"ms": timeit(run, prog.params, x), "first_s": first,
                               "diff": float(np.abs(y - ref[name]).max())}
        with tempfile.TemporaryDirectory() as d:
            with jax.profiler.trace(d, create_perfetto_trace=True):
                for _ in range(3):
                    jax.block_until_ready(run(prog.params, x))
            res[f"{name}/auto"]["profile"] = kernel_times(d, 3)
        write_atomic(args.out, res)
    prog, run, x, y, first = case(args.corpus, "cnn_sinabs", args.scale_t, fused="auto", precision="default")
    res["cnn_sinabs/auto/default"] = {"ms": timeit(run, prog.params, x), "first_s": first,
                                      "diff": float(np.abs(y - ref["cnn_sinabs"]).max())}
    write_atomic(args.out, res)
    saved = row_kernel.ROWS, row_kernel.UNROLL, row_kernel.NUM_WARPS
    for setting in args.sweep.split():
        rows, unroll, warps = (int(v) for v in setting.split(","))
        row_kernel.ROWS, row_kernel.UNROLL, row_kernel.NUM_WARPS = rows, unroll, warps
        try:
            prog, run, x, y, first = case(args.corpus, "braille", args.scale_t, fused="auto")
            r = {"ms": timeit(run, prog.params, x), "first_s": first, "diff": float(np.abs(y - ref["braille"]).max())}
        except Exception as e:  # noqa: BLE001  a setting Triton rejects is a result of the sweep, not its end
            r = {"error": f"{type(e).__name__}: {str(e)[:300]}"}
        res[f"braille/rows{rows}_unroll{unroll}_warps{warps}"] = r
        write_atomic(args.out, res)
    row_kernel.ROWS, row_kernel.UNROLL, row_kernel.NUM_WARPS = saved
    print_tables(res)


def print_tables(res: dict) -> None:
    print(f"{'run':40s} {'ms':>8s} {'first s':>8s} {'max diff':>9s}")
    for k, v in res.items():
        if isinstance(v, dict) and "ms" in v:
            print(f"{k:40s} {v['ms']:8.3f} {v['first_s']:8.2f} {v.get('diff', 0.0):9.2g}")
        elif isinstance(v, dict) and "error" in v:
            print(f"{k:40s} {v['error'][:60]}")
    for k, v in res.items():
        prof = v.get("profile") if isinstance(v, dict) else None
        if prof:
            print(f"\n{k}: {prof['device_ms_per_call']:.3f} ms of device time per call in "
                  f"{prof['kernels_per_call']:.0f} kernels (wall {v['ms']:.3f} ms)")
            for kern, ms in prof["top"].items():
                print(f"  {ms:8.3f} ms  {kern[:90]}")


if __name__ == "__main__":
    main()
