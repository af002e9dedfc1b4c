"""Peak memory of long runs against T: one pass, chunked, and checkpointed gradients (issue 14 item 6).

The network is issue 14's: 128 inputs -> Linear -> LIF(128) -> Linear -> LIF(128) -> Linear -> LI(20), batch 16,
as a compiled ``Program`` (``spyx.compile`` of the lowered ``spyx.nn`` model, so both paths share the engine) and
as ``spyx.nn.run`` on the NNX model. For each T (default 1e3, 1e4, 1e5) and each mode:

  run            ``prog.run`` forward, one pass (the layer-wise schedule materialises whole sequences)
  run chunk=K    forward in chunks of K steps carrying the state
  grad           ``jax.grad`` of a loss over the outputs, one pass (BPTT keeps every step's residuals)
  grad ckpt K    gradient with ``chunk=K, checkpoint=True`` (keeps the state entering each chunk)

Memory is XLA's buffer assignment of the compiled function (``memory_analysis()``: temporaries + arguments +
outputs, the bytes the executable needs at its peak), which is exact and deterministic on every backend; on a GPU
the script also runs each function once and reports the allocator's peak (``memory_stats()['peak_bytes_in_use']``
after a reset, when the backend supports it). ``--run-limit-gb`` skips running what XLA says needs more than that.
Prints a table and writes JSON (default ``benchmarks/results/long_sequences_<backend>.json``).

    PYTHONPATH=. python benchmarks/long_sequences.py
    PYTHONPATH=. python benchmarks/long_sequences.py --T 1000,10000,100000 --chunk 1000 --run-limit-gb 4
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write_atomic  # noqa: E402

GB = 1024**3


def build(batch: int, seed: int = 0):
    import jax.numpy as jnp
    from flax import nnx

    import spyx

    rngs = nnx.Rngs(seed)
    model = spyx.nn.Sequential(
        nnx.Linear(128, 128, rngs=rngs), spyx.nn.LIF((128,), rngs=rngs),
        nnx.Linear(128, 128, rngs=rngs), spyx.nn.LIF((128,), rngs=rngs),
        nnx.Linear(128, 20, rngs=rngs), spyx.nn.LI((20,), rngs=rngs),
    )
    prog = spyx.compile(spyx.nn.lower(model, input_shape=(128,)))
    del jnp
    return model, prog


def modes(model, prog, chunk: int):
    """name -> (function of (params, x), params); each function returns arrays only."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    import spyx

    graphdef, nstate = nnx.split(model)

    def prog_loss(p, x, **kw):
        y, _ = prog.run(p, x, **kw)
        return jnp.mean(jnp.sum(y, axis=0) ** 2)

    def nn_loss(s, x, **kw):
        y, _ = spyx.nn.run(nnx.merge(graphdef, s), x, schedule="layer", **kw)
        return jnp.mean(jnp.sum(y, axis=0) ** 2)

    return {
        "program run": (lambda p, x: prog.run(p, x)[0], prog.params),
        f"program run chunk={chunk}": (lambda p, x: prog.run(p, x, chunk=chunk)[0], prog.params),
        "program grad": (jax.grad(prog_loss), prog.params),
        f"program grad ckpt {chunk}": (
            jax.grad(lambda p, x: prog_loss(p, x, chunk=chunk, checkpoint=True)), prog.params),
        "nn run": (lambda s, x: spyx.nn.run(nnx.merge(graphdef, s), x, schedule="layer")[0], nstate),
        f"nn run chunk={chunk}": (
            lambda s, x: spyx.nn.run(nnx.merge(graphdef, s), x, schedule="layer", chunk=chunk)[0], nstate),
        "nn grad": (jax.grad(nn_loss), nstate),
        f"nn grad ckpt {chunk}": (jax.grad(lambda s, x: nn_loss(s, x, chunk=chunk, checkpoint=True)), nstate),
    }


def measure(fn, params, x, run_limit: float, on_gpu: bool) -> dict:
    import jax

    t0 = time.perf_counter()
    compiled = jax.jit(fn).lower(params, x).compile()
    compile_s = time.perf_counter() - t0
    ma = compiled.memory_analysis()
    need = ma.temp_size_in_bytes + ma.argument_size_in_bytes + ma.output_size_in_bytes
    row = {"xla_bytes": int(need), "temp_bytes": int(ma.temp_size_in_bytes), "compile_s": compile_s}
    if need / GB > run_limit:
        row["skipped"] = f"XLA needs {need / GB:.2f} GiB > --run-limit-gb {run_limit}"
        return row
    dev = jax.devices()[0]
    if on_gpu:
        try:
            dev.reset_memory_stats()  # not every jaxlib has it; without it the peak is the process's so far
        except Exception:
            pass
    jax.block_until_ready(compiled(params, x))  # warm-up
    t0 = time.perf_counter()
    jax.block_until_ready(compiled(params, x))
    row["run_s"] = time.perf_counter() - t0
    if on_gpu:
        stats = dev.memory_stats() or {}
        if "peak_bytes_in_use" in stats:
            row["peak_bytes_in_use"] = int(stats["peak_bytes_in_use"])
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", default="1000,10000,100000")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--chunk", type=int, default=1000)
    ap.add_argument("--run-limit-gb", type=float, default=3.0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    import jax
    import jax.numpy as jnp
    import numpy as np

    backend = jax.default_backend()
    on_gpu = backend == "gpu"
    model, prog = build(args.batch)
    rows = []
    for T in (int(t) for t in args.T.split(",")):
        x = jnp.asarray(np.random.default_rng(0).random((T, args.batch, 128)) < 0.05, jnp.float32)
        for name, (fn, params) in modes(model, prog, args.chunk).items():
            r = measure(fn, params, x, args.run_limit_gb, on_gpu)
            rows.append({"T": T, "mode": name, **r})
            print(f"T={T:>7} {name:<24} xla {r['xla_bytes'] / GB:7.3f} GiB"
                  + (f"  run {r['run_s'] * 1e3:9.1f} ms" if "run_s" in r else f"  ({r.get('skipped', '')})")
                  + (f"  peak {r['peak_bytes_in_use'] / GB:.3f} GiB" if "peak_bytes_in_use" in r else ""),
                  flush=True)
    print()
    print(table(rows))
    out = args.out or ROOT / "benchmarks" / "results" / f"long_sequences_{backend}.json"
    write_atomic(out, {
        "device": str(jax.devices()[0]), "backend": backend, "jax": jax.__version__,
        "python": platform.python_version(), "batch": args.batch, "chunk": args.chunk,
        "network": "128 -> Linear -> LIF128 -> Linear -> LIF128 -> Linear -> LI20", "rows": rows,
    })
    print(f"wrote {out}")
    return 0


def table(rows) -> str:
    """Modes down, T across: XLA's peak bytes in GiB."""
    Ts = sorted({r["T"] for r in rows})
    names = list(dict.fromkeys(r["mode"] for r in rows))
    by = {(r["mode"], r["T"]): r for r in rows}
    head = "| mode | " + " | ".join(f"T={t:,}" for t in Ts) + " |"
    lines = [head, "|---" * (len(Ts) + 1) + "|"]
    for n in names:
        cells = []
        for t in Ts:
            r = by.get((n, t))
            cells.append("" if r is None else f"{r['xla_bytes'] / GB:.3f} GiB")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
