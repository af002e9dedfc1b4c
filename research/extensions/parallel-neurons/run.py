"""Parallel-in-time neurons vs the LIF step loop: speed against T (spyx.bench) and accuracy on a synthetic temporal
task (spyx.data.temporal_patterns).

Neurons: LIF (step loop, spyx.nn.run), PSU_LIF and AssociativeLIF (reset-free, one associative scan), ParallelResetLIF
(LIF's reset recovered by K fixed-point iterations of associative scans; K = 3 and K = T). Every run is recorded,
including the ones that fail (the exception is the row's result).

    python research/extensions/parallel-neurons/run.py            # CPU size: hidden 64, batch 8, T 32..512
    python research/extensions/parallel-neurons/run.py --gpu      # larger sizes for an accelerator
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # this checkout's spyx, not an installed one

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import spyx
from spyx import bench, data
from spyx import experimental as E
from spyx import nn as snn


def neuron(kind: str, n: int, rngs, T: int):
    if kind == "LIF":
        return snn.LIF((n,), rngs=rngs)
    if kind == "PSU_LIF":
        return snn.PSU_LIF((n,), rngs=rngs)
    if kind == "AssociativeLIF":
        return snn.AssociativeLIF((n,), rngs=rngs)
    layer = E.ParallelResetLIF((n,), rngs=rngs)
    layer.K = int(kind.split("K=")[1].rstrip(")"))
    return layer


def drive(layer, z):
    """The layer over a whole time-major sequence: its parallel path where it has one, else the step loop."""
    if isinstance(layer, E.ParallelResetLIF):
        return layer.parallel(z, K=layer.K)
    if hasattr(layer, "parallel"):
        return layer.parallel(z)
    return snn.run(layer, z)[0]


class Net(nnx.Module):
    """Linear -> neuron -> Linear -> LI readout, the linear layers applied to all T x B rows at once."""

    def __init__(self, kind, channels, hidden, classes, T, *, rngs):
        self.fc1 = nnx.Linear(channels, hidden, rngs=rngs)
        self.neuron = neuron(kind, hidden, rngs, T)
        self.fc2 = nnx.Linear(hidden, classes, rngs=rngs)
        self.readout = snn.LI((classes,), rngs=rngs)

    def __call__(self, x):  # x [T, B, C] -> readout traces [T, B, classes]
        s = drive(self.neuron, self.fc1(x))
        return snn.run(self.readout, self.fc2(s))[0]


KINDS = ("LIF", "PSU_LIF", "AssociativeLIF", "ParallelResetLIF(K=3)", "ParallelResetLIF(K=8)")
# K = T (exact) unrolls T iterations of two scans into the program: at T = 32 its train step took 32 ms (vs 0.07 ms
# for LIF) and at T = 128 it had not compiled after 60 s on the CPU, so it is measured at the shortest T only.
EXACT_MAX_T = 32


def speed(args) -> list[dict]:
    rows = []
    for T in args.seq_lens:
        for kind in KINDS + ((f"ParallelResetLIF(K={T})",) if T <= EXACT_MAX_T else ()):
            try:
                r = bench.benchmark(lambda kind=kind, T=T: neuron(kind, args.hidden, nnx.Rngs(0), T), (args.hidden,),
                                    seq_len=T, batch=args.batch, n_warmup=2, n_iters=args.iters, name=kind,
                                    run_fn=drive)
                rows.append(r.as_dict())
            except Exception as e:  # noqa: BLE001  (a failing run is a result)
                rows.append({"name": kind, "seq_len": T, "error": f"{type(e).__name__}: {str(e)[:200]}"})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def accuracy(args) -> list[dict]:
    T, C, K = args.task_T, args.task_channels, args.task_classes
    obs, labels = data.temporal_patterns(args.task_samples, T=T, channels=C, n_classes=K, seed=0)
    x = jnp.asarray(obs, jnp.float32).swapaxes(0, 1)  # [T, N, C]
    y = jnp.asarray(labels)
    n_train = int(0.8 * len(labels))
    ce = spyx.fn.integral_crossentropy(time_axis=0)
    acc = spyx.fn.integral_accuracy(time_axis=0)
    rows = []
    for kind in KINDS:
        for seed in args.seeds:
            t0 = time.perf_counter()
            try:
                model = Net(kind, C, args.task_hidden, K, T, rngs=nnx.Rngs(seed))
                opt = nnx.Optimizer(model, optax.adam(args.lr), wrt=nnx.Param)

                @nnx.jit
                def step(model, opt, xb, yb):
                    loss, g = nnx.value_and_grad(lambda m: ce(m(xb), yb))(model)
                    opt.update(model, g)
                    return loss

                rng = np.random.default_rng(seed)
                for _ in range(args.epochs):
                    order = rng.permutation(n_train)
                    for i in range(0, n_train - args.task_batch + 1, args.task_batch):
                        idx = order[i: i + args.task_batch]
                        loss = step(model, opt, x[:, idx], y[idx])
                test_acc = float(nnx.jit(lambda m, xx, yy: acc(m(xx), yy)[0])(model, x[:, n_train:], y[n_train:]))
                rows.append({"neuron": kind, "seed": seed, "test_acc": test_acc, "final_loss": float(loss),
                             "seconds": time.perf_counter() - t0})
            except Exception as e:  # noqa: BLE001
                rows.append({"neuron": kind, "seed": seed, "error": f"{type(e).__name__}: {str(e)[:200]}",
                             "trace": traceback.format_exc()[-600:]})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gpu", action="store_true", help="accelerator sizes (hidden 256, batch 64, T up to 8192)")
    p.add_argument("--out", type=Path, default=HERE / "results" / "parallel_neurons.json")
    args = p.parse_args()
    big = args.gpu
    args.hidden, args.batch, args.iters = (256, 64, 20) if big else (64, 8, 7)
    args.seq_lens = (64, 512, 2048, 8192) if big else (32, 128, 512)
    args.task_T, args.task_channels, args.task_classes, args.task_samples = (128, 64, 10, 2000) if big else (
        64, 32, 4, 400)
    args.task_hidden, args.task_batch, args.epochs, args.lr = (128, 64, 20, 2e-3) if big else (32, 32, 8, 5e-3)
    args.seeds = (0, 1, 2) if big else (0, 1)

    meta = {"jax": jax.__version__, "device": f"{jax.devices()[0].platform}:{jax.devices()[0].device_kind}",
            "python": platform.python_version(), "commit": _commit(), "args": {k: v for k, v in vars(args).items()
                                                                             if k != "out"}}
    result = {"meta": meta, "speed": speed(args), "accuracy": accuracy(args)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    print(bench.format_table([bench.BenchResult(**r) for r in result["speed"] if "error" not in r]))


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE,
                              check=True).stdout.strip()
    except Exception:  # noqa: BLE001
        return "unknown"


if __name__ == "__main__":
    main()
