"""Throughput against the number of devices: population inference, population training and data-parallel training.

    python benchmarks/scaling.py                                  # every device of this host, full sizes
    python benchmarks/scaling.py --quick                          # small sizes (a CPU smoke test)
    XLA_FLAGS=--xla_force_host_platform_device_count=8 JAX_PLATFORMS=cpu python benchmarks/scaling.py --quick

For each device count N (``--devices``, default 1, 2, 4, ... up to every device), the same code runs on a mesh over
the first N devices (``spyx.optimize.make_mesh(..., devices=jax.devices()[:N])``; N = 1 is a mesh of one device):

* ``population_infer``: ``spyx.run_population`` of ``--population`` SHD-shape networks (``--inputs`` 700 -> LIF
  ``--hidden`` 128 -> LI 20, lowered from ``spyx.nn`` and compiled to a ``Program``; member parameters perturbed by
  5 %) on one shared batch ``(T, B, 700)``, the members split over the mesh's ``population`` axis. Throughput:
  member-samples per second, ``P * B / t``. Time: the median of ``--iters`` calls after ``--warmup``
  (the JSON also keeps every time and the best).
* ``population_train``: ``spyx.optimize.sweep`` of the same population (``spyx.nn`` modules built by ``nnx.vmap``,
  one seed each; Adam; cross-entropy of the time-summed readout) for ``--epochs`` over ``--batches`` staged batches,
  members split over ``population``. Throughput: member-samples per second, ``P * batches * B * epochs / t``.
* ``data_parallel_train``: ``spyx.optimize.compile_fit`` of one such network with the global batch ``--dp-batch``
  split over the mesh's ``data`` axis. Throughput: samples per second.

Every input is placed on its mesh once, before the timed calls (so a call moves no data). The two training rows
call a function that compiles anew on every call, so their time ``t`` is the call's wall
time minus the time JAX spent tracing, lowering and compiling in it (the union of jax.monitoring's time spans of
those events, as they nest); the median of ``--repeats`` calls. ``compile_s`` is that subtracted time of the first.

Scaling is strong: the total work is fixed, so the ideal time at N devices is t(1) / N. Efficiency =
throughput(N) / (N * throughput(1)). On forced host devices (one CPU split into N "devices") the cores are shared
and efficiency falls with N by construction: such a run checks the harness and the sharded code, not the
hardware. Prints a table and writes ``benchmarks/results/scaling.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from common import write_atomic  # benchmarks/common.py (this script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKLOADS = ("population_infer", "population_train", "data_parallel_train")
COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "/jax/core/compile/backend_compile_duration")


def sizes(args) -> dict:
    quick = dict(population=16, T=20, B=8, inputs=700, hidden=64, batches=2, epochs=2, dp_batch=32)
    full = dict(population=1024, T=100, B=32, inputs=700, hidden=128, batches=4, epochs=2, dp_batch=256)
    z = quick if args.quick else full
    for k in z:
        v = getattr(args, k, None)
        if v is not None:
            z[k] = v
    return z


class CompileClock:
    """Seconds JAX spent tracing, lowering and compiling while it is active: the union of those events' spans."""

    def __init__(self):
        self.spans: list[tuple[float, float]] = []

    def __call__(self, event, start, end, **kwargs):
        if event in COMPILE_EVENTS:
            self.spans.append((start, end))

    def __enter__(self):
        import jax

        self.spans.clear()
        jax.monitoring.register_event_time_span_listener(self)
        return self

    def __exit__(self, *exc):
        from jax._src import monitoring  # the public module has no unregister for time spans in jax 0.10

        monitoring.unregister_event_time_span_listener(self)

    def seconds(self) -> float:
        total, end = 0.0, float("-inf")
        for s, e in sorted(self.spans):
            if e > end:
                total += e - max(s, end)
                end = e
        return total


def shd_model(z, rngs):
    from flax import nnx

    import spyx.nn as snn

    return snn.Sequential(nnx.Linear(z["inputs"], z["hidden"], rngs=rngs), snn.LIF((z["hidden"],), rngs=rngs),
                          nnx.Linear(z["hidden"], 20, rngs=rngs), snn.LI((20,), rngs=rngs))


def measure(z, args, n: int) -> list[dict]:
    import jax
    import jax.numpy as jnp
    import optax
    from flax import nnx

    import spyx
    import spyx.fn as fn
    import spyx.nn as snn
    import spyx.optimize as so
    from spyx.backend import perturb_params
    from spyx.sharding import place, replicated, shard_batch, shard_population

    devices = jax.devices()[:n]
    P, T, B = z["population"], z["T"], z["B"]
    key = jax.random.PRNGKey(0)
    rows = []

    def row(workload, times, work, unit, compile_s=None):
        t = statistics.median(times)
        rows.append(dict(workload=workload, devices=n, seconds=t, best_s=min(times), times=times,
                         compile_s=compile_s, throughput=work / t, unit=unit))
        print(f"  {workload:20s} N={n:<3d} {t * 1e3:10.2f} ms  {work / t:12.4g} {unit}", flush=True)

    # population inference of a compiled Program
    prog = spyx.compile(snn.lower(shd_model(z, nnx.Rngs(0)), (z["inputs"],)))
    mesh = so.make_mesh(population=n, data=1, devices=devices)
    dp_mesh = so.make_mesh(data=n, devices=devices)
    # inputs are placed once, before timing: a call then finds them on their shardings and moves nothing
    params = shard_population(mesh, perturb_params(prog.params, P, sigma=0.05, key=key))
    x = place((jax.random.uniform(key, (T, B, z["inputs"])) < 0.05).astype(jnp.float32), replicated(mesh))
    times = []
    for i in range(args.warmup + args.iters):
        t0 = time.perf_counter()
        jax.block_until_ready(spyx.run_population(prog, params, x, mesh=mesh))
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    row("population_infer", times, P * B, "member-samples/s")

    # population training (sweep) and data-parallel training (compile_fit)
    ce = fn.integral_crossentropy(time_axis=0)

    def loss_fn(model, x, y):
        return ce(snn.run(model, x)[0], y)

    nb = z["batches"]
    X = (jax.random.uniform(key, (nb, T, B, z["inputs"])) < 0.05).astype(jnp.float32)
    X, Y = place((X, jax.random.randint(key, (nb, B), 0, 20)), replicated(mesh))

    @nnx.vmap(in_axes=0, out_axes=0)
    def population(k):
        return shd_model(z, nnx.Rngs(k))

    pop = population(jax.random.split(key, P))
    nnx.update(pop, shard_population(mesh, nnx.state(pop)))

    def timed(call):
        runs, first_compile = [], None
        for _ in range(args.repeats):
            with CompileClock() as clock:
                t0 = time.perf_counter()
                jax.block_until_ready(call())
                wall = time.perf_counter() - t0
            first_compile = clock.seconds() if first_compile is None else first_compile
            runs.append(wall - clock.seconds())
        return runs, first_compile

    t, c = timed(lambda: so.sweep(pop, optax.adam(1e-3), loss_fn, (X, Y), epochs=z["epochs"], batch_axis=(1, 0),
                                  mesh=mesh)[1])
    row("population_train", t, P * nb * B * z["epochs"], "member-samples/s", c)

    Bd = z["dp_batch"]
    XD = (jax.random.uniform(key, (nb, T, Bd, z["inputs"])) < 0.05).astype(jnp.float32)
    XD, YD = shard_batch(dp_mesh, (XD, jax.random.randint(key, (nb, Bd), 0, 20)), (1, 0), lead=1)
    net = shd_model(z, nnx.Rngs(0))
    nnx.update(net, place(nnx.state(net), replicated(dp_mesh)))
    t, c = timed(lambda: so.compile_fit(net, optax.adam(1e-3), loss_fn, (XD, YD), epochs=z["epochs"],
                                        batch_axis=(1, 0), mesh=dp_mesh)[1])
    row("data_parallel_train", t, nb * Bd * z["epochs"], "samples/s", c)
    return rows


def with_efficiency(rows: list[dict]) -> list[dict]:
    base = {r["workload"]: r["throughput"] for r in rows if r["devices"] == 1}
    for r in rows:
        one = base.get(r["workload"])
        r["efficiency"] = None if one is None else r["throughput"] / (r["devices"] * one)
    return rows


def table(rows: list[dict]) -> str:
    lines = [f"{'workload':20s} {'devices':>7s} {'time ms':>10s} {'compile s':>9s} {'throughput':>12s}  "
             f"{'unit':18s} {'efficiency':>10s}"]
    for w in WORKLOADS:
        for r in (r for r in rows if r["workload"] == w):
            comp = "-" if r["compile_s"] is None else f"{r['compile_s']:.1f}"
            eff = "-" if r["efficiency"] is None else f"{r['efficiency']:.2f}"
            lines.append(f"{w:20s} {r['devices']:7d} {r['seconds'] * 1e3:10.2f} {comp:>9s} {r['throughput']:12.4g}  "
                         f"{r['unit']:18s} {eff:>10s}")
    return "\n".join(lines)


def device_counts(spec: str | None, total: int, z: dict) -> list[int]:
    if spec:
        counts = [int(s) for s in spec.split(",") if s]
    else:
        counts = sorted({*(2**i for i in range(total.bit_length()) if 2**i <= total), total})
    bad = [n for n in counts if n > total or n < 1]
    if bad:
        raise SystemExit(f"--devices {bad}: this host has {total} devices")
    keep = [n for n in counts if z["population"] % n == 0 and z["dp_batch"] % n == 0]
    for n in sorted(set(counts) - set(keep)):
        print(f"skip N={n}: it divides neither --population {z['population']} nor --dp-batch {z['dp_batch']}")
    return keep


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes (population 16, T 20, B 8, hidden 64)")
    p.add_argument("--devices", default=None, help="device counts, e.g. 1,2,4,8 (default: powers of 2 and all)")
    for name in ("population", "T", "B", "inputs", "hidden", "batches", "epochs", "dp-batch"):
        p.add_argument(f"--{name}", dest=name.replace("-", "_"), type=int, default=None)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3, help="calls of each training run (each compiles anew)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scaling.json")
    args = p.parse_args(argv)

    import jax

    z = sizes(args)
    counts = device_counts(args.devices, jax.device_count(), z)
    print(f"{jax.device_count()} {jax.devices()[0].platform} device(s) ({jax.devices()[0].device_kind}); sizes {z}")
    rows = []
    for n in counts:
        rows += measure(z, args, n)
    rows = with_efficiency(rows)
    text = table(rows)
    print(text)
    import spyx

    meta = {"jax": jax.__version__, "spyx": spyx.__version__, "python": platform.python_version(),
            "backend": jax.default_backend(), "device_kind": jax.devices()[0].device_kind,
            "device_count": jax.device_count(), "process_count": jax.process_count(),
            "xla_flags": os.environ.get("XLA_FLAGS", ""), "cpu_count": os.cpu_count(), "sizes": z,
            "warmup": args.warmup, "iters": args.iters, "repeats": args.repeats, "quick": args.quick}
    write_atomic(args.out, {"benchmark": "scaling", "meta": meta, "rows": rows, "table": text})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
