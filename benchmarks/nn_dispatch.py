"""How much of a ``spyx.nn`` train step and inference is the per-call cost of the transform around it.

The SHD-shape model of ``train_throughput.py`` (128 -> LIF 128 -> LIF 128 -> LI 20, Adam, cross-entropy on the
time-summed readout) is called three ways, in one process, at the full size (T = B = 256) and at a tiny one
(T = 2, B = 1, where the device has almost nothing to do, so the time is the call's own overhead):

* ``nnx.jit``: what a Spyx user writes (``nnx.jit`` of a function of the module and ``nnx.Optimizer``): flax walks
  the module graph on every call, in and out;
* ``nnx.jit(graph=False)``: flax's tree mode, the modules flattened as pytrees (same numbers: the losses of the
  three ways are compared below);
* ``jax.jit``: ``nnx.split`` once, then a pure function of the parameter and optimizer pytrees.

Median of ``--iters`` blocked calls after ``--warmup``; the full-size ``nnx.jit`` calls are also traced with
``jax.profiler`` and reduced to device time per call, so wall minus device is what the host adds. Prints a table;
writes JSON (atomically).

    python benchmarks/nn_dispatch.py --out benchmarks/results/nn_dispatch.json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import optax
from common import kernel_times, write_atomic
from flax import nnx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import spyx  # noqa: E402

snn = spyx.nn


def model(hidden: int):
    r = nnx.Rngs(0)
    return snn.Sequential(nnx.Linear(128, hidden, rngs=r), snn.LIF((hidden,), rngs=r),
                          nnx.Linear(hidden, hidden, rngs=r), snn.LIF((hidden,), rngs=r),
                          nnx.Linear(hidden, 20, rngs=r), snn.LI((20,), rngs=r))


def ce(out, y):
    return optax.softmax_cross_entropy_with_integer_labels(out.sum(0), y).mean()


def ways(hidden: int, x, y):
    """name -> (train step thunk, inference thunk), each way on its own fresh model and optimizer."""
    out = {}
    for name, kw in (("nnx.jit", {}), ("nnx.jit(graph=False)", {"graph": False})):
        m = model(hidden)
        opt = nnx.Optimizer(m, optax.adam(1e-3), wrt=nnx.Param)

        def step(m, opt, x, y):
            loss, g = nnx.value_and_grad(lambda mm: ce(snn.run(mm, x)[0], y))(m)
            opt.update(m, g)
            return loss

        train = nnx.jit(step, **kw)
        infer = nnx.jit(lambda m, x: snn.run(m, x)[0], **kw)
        out[name] = (lambda m=m, opt=opt, f=train: f(m, opt, x, y), lambda m=m, f=infer: f(m, x))
    gd, params, rest = nnx.split(model(hidden), nnx.Param, ...)
    tx = optax.adam(1e-3)
    state = [params, tx.init(params)]

    @jax.jit
    def pstep(p, o, x, y):
        loss, g = jax.value_and_grad(lambda p: ce(snn.run(nnx.merge(gd, p, rest), x)[0], y))(p)
        upd, o = tx.update(g, o, p)
        return optax.apply_updates(p, upd), o, loss

    def ptrain():
        state[0], state[1], loss = pstep(state[0], state[1], x, y)
        return loss

    pinfer = jax.jit(lambda p, x: snn.run(nnx.merge(gd, p, rest), x)[0])
    out["jax.jit"] = (ptrain, lambda: pinfer(state[0], x))
    return out


def timed(fn, warmup: int, iters: int) -> dict:
    t0 = time.perf_counter()
    first = jax.block_until_ready(fn())
    r = {"first_s": time.perf_counter() - t0}
    for _ in range(warmup):
        jax.block_until_ready(fn())
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        ts.append(time.perf_counter() - t0)
    ts.sort()
    r["ms"] = 1e3 * ts[len(ts) // 2]
    r["first_loss"] = float(first) if jnp.ndim(first) == 0 else None
    return r


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="T = B = 16 for the full size (a CPU smoke run)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/nn_dispatch.json"))
    args = ap.parse_args(argv)
    full = 16 if args.quick else 256
    res: dict = {"device": str(jax.devices()[0]), "jax": jax.__version__, "hidden": args.hidden, "rows": []}
    key = jax.random.PRNGKey(0)
    for size, (t_len, b) in (("full", (full, full)), ("tiny", (2, 1))):
        x = (jax.random.uniform(key, (t_len, b, 128)) < 0.1).astype(jnp.float32)
        y = jax.random.randint(key, (b,), 0, 20)
        for name, (train, infer) in ways(args.hidden, x, y).items():
            for what, fn in (("train", train), ("infer", infer)):
                row = {"size": size, "T": t_len, "B": b, "way": name, "what": what, **timed(fn, args.warmup,
                                                                                             args.iters)}
                if size == "full" and name == "nnx.jit" and jax.default_backend() == "gpu":
                    with tempfile.TemporaryDirectory() as d:
                        with jax.profiler.trace(d, create_perfetto_trace=True):
                            for _ in range(3):
                                jax.block_until_ready(fn())
                        row["device_ms"] = kernel_times(d, 3).get("device_ms_per_call")
                res["rows"].append(row)
                print(f"{size:5s} {what:5s} {name:22s} {row['ms']:8.3f} ms  first {row['first_s']:6.2f} s"
                      + (f"  device {row['device_ms']:.3f} ms" if row.get("device_ms") else ""), flush=True)
                write_atomic(args.out, res)
    # the three ways compute the same first training loss (same initial parameters, same data)
    losses = {r["way"]: r["first_loss"] for r in res["rows"] if r["what"] == "train" and r["size"] == "full"}
    res["same_first_loss"] = len({round(v, 5) for v in losses.values()}) == 1
    write_atomic(args.out, res)
    print("first training losses:", losses)


if __name__ == "__main__":
    main()
