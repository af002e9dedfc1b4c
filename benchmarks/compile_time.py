"""Compile time of the SHD training step against T (issue 11 item 4: under 3 s, the same at T=256 and T=4096).

The step is the one of ``train_throughput.py`` (128 inputs, LIF 128, LIF 128, LI 20, batch 256, Adam,
cross-entropy on the time-summed readout), for the ``spyx.nn`` path (``spyx.nn.run`` with the backend's default
schedule; ``--schedule`` overrides it) and for the compiled ``Program`` path (grad through ``program.run``).
Each is traced (``jax.jit(...).trace``), lowered and compiled separately, in a fresh function per T, so nothing
is cached between rows; the table gives seconds per phase and the ratio of the largest T to the smallest.
Writes ``benchmarks/results/compile_time_<backend>.json``.

    PYTHONPATH=. python benchmarks/compile_time.py --T 256,4096
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


def steps(T: int, B: int, schedule: str, program_variants=()):
    """name -> (jitted step, its arguments)."""
    import jax
    import jax.numpy as jnp
    import optax
    from flax import nnx

    import spyx

    def model():
        r = nnx.Rngs(0)
        return spyx.nn.Sequential(
            nnx.Linear(128, 128, rngs=r), spyx.nn.LIF((128,), rngs=r), nnx.Linear(128, 128, rngs=r),
            spyx.nn.LIF((128,), rngs=r), nnx.Linear(128, 20, rngs=r), spyx.nn.LI((20,), rngs=r),
        )

    def ce(out, y):
        return optax.softmax_cross_entropy_with_integer_labels(out.sum(0), y).mean()

    x = jax.ShapeDtypeStruct((T, B, 128), jnp.float32)
    y = jax.ShapeDtypeStruct((B,), jnp.int32)
    tx = optax.adam(1e-3)
    m = model()
    graphdef, params, rest = nnx.split(m, nnx.Param, ...)
    kw = {} if schedule == "auto" else {"schedule": schedule}

    def nn_step(params, opt_state, x, y):
        def loss(p):
            return ce(spyx.nn.run(nnx.merge(graphdef, p, rest), x, **kw)[0], y)

        value, g = jax.value_and_grad(loss)(params)
        updates, opt_state = tx.update(g, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    def prog_step_of(prog):
        def prog_step(params, opt_state, x, y):
            value, g = jax.value_and_grad(lambda p: ce(prog.run(p, x)[0], y))(params)
            updates, opt_state = tx.update(g, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, value

        return jax.jit(prog_step), (prog.params, tx.init(prog.params), x, y)

    graph = spyx.nn.lower(model(), (128,))
    out = {"nn": (jax.jit(nn_step), (params, tx.init(params), x, y)), "program": prog_step_of(spyx.compile(graph))}
    for v in program_variants:  # e.g. "fused=off", "scan_unroll=1"
        key, _, val = v.partition("=")
        out[f"program {v}"] = prog_step_of(spyx.compile(graph, **{key: int(val) if val.isdigit() else val}))
    return out


def measure(fn, args) -> dict:
    t0 = time.perf_counter()
    traced = fn.trace(*args)
    t1 = time.perf_counter()
    lowered = traced.lower()
    t2 = time.perf_counter()
    lowered.compile()
    t3 = time.perf_counter()
    return {"trace_s": t1 - t0, "lower_s": t2 - t1, "compile_s": t3 - t2, "total_s": t3 - t0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", default="256,4096")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--schedule", default="auto", choices=("auto", "layer", "step"))
    ap.add_argument("--paths", default="nn,program", help="which of nn, program (and the variants) to measure")
    ap.add_argument("--program-variants", default="", help="comma-separated spyx.compile options, e.g. fused=off")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    import jax

    Ts = [int(t) for t in args.T.split(",")]
    rows = []
    for T in Ts:
        variants = [v for v in args.program_variants.split(",") if v]
        wanted = set(args.paths.split(",")) | {f"program {v}" for v in variants}
        for name, (fn, fargs) in steps(T, args.batch, args.schedule, variants).items():
            if name not in wanted:
                continue
            r = {"path": name, "T": T, **measure(fn, fargs)}
            rows.append(r)
            print(f"{name:<22} T={T:>5}  trace {r['trace_s']:6.2f} s  lower {r['lower_s']:6.2f} s  "
                  f"compile {r['compile_s']:6.2f} s  total {r['total_s']:6.2f} s", flush=True)
    print()
    print("| path | " + " | ".join(f"T={t}" for t in Ts) + f" | T={Ts[-1]} / T={Ts[0]} |")
    print("|---" * (len(Ts) + 2) + "|")
    for name in dict.fromkeys(r["path"] for r in rows):
        tot = [next(r["total_s"] for r in rows if r["path"] == name and r["T"] == t) for t in Ts]
        print(f"| {name} | " + " | ".join(f"{v:.2f} s" for v in tot) + f" | {tot[-1] / tot[0]:.2f} |")
    backend = jax.default_backend()
    out = args.out or ROOT / "benchmarks" / "results" / f"compile_time_{backend}.json"
    write_atomic(out, {"device": str(jax.devices()[0]), "backend": backend, "jax": jax.__version__,
                       "python": platform.python_version(), "batch": args.batch, "schedule": args.schedule,
                       "rows": rows})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
