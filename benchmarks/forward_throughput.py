"""Forward throughput of compiled programs, for both schedules.

Models (inputs are random 0/1 spikes, 20 % density):
  braille  ``braille_noDelay_bias_zero.nir`` (snnTorch RNN, CubaLIF + recurrent Affine), B=256, T=256, dt=1e-4
  cnn      ``cnn_sinabs.nir`` (Sinabs N-MNIST CNN, IF layers), B=64, T=300, dt=1 (Sinabs IF: r dt = 1)
  shd_mlp  built here: Input 128 -> Affine -> LIF 128 -> Affine -> LIF 128 -> Affine -> LI 20,
           B=256, T=256, dt=1e-3

Each (model, schedule) is jit-compiled and run once to warm up (compile time reported separately), then
timed ``--repeats`` times with ``block_until_ready``; the table shows the median. Results go to stdout
and, with ``--out``, to a JSON file written atomically (temp file + rename).

    PYTHONPATH=. python benchmarks/forward_throughput.py --repeats 5 --out bench.json
    python benchmarks/forward_throughput.py --device gpu --repeats 20 --out gpu.json
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

CORPUS = Path(
    os.environ.get("SPYX_NIR_CORPUS") or Path(__file__).resolve().parents[1].parent / "shared" / "nir-corpus"
)


def shd_mlp():
    import numpy as np

    from spyx.ir import LI, LIF, Affine, Graph

    rng = np.random.default_rng(0)
    f = np.float32

    def affine(n_in, n_out):
        return Affine(
            weight=(rng.standard_normal((n_out, n_in)) * 2 / np.sqrt(n_in)).astype(f), bias=np.zeros(n_out, f)
        )

    def lif(n):
        return LIF(
            tau=np.full(n, 10e-3, f),
            r=np.full(n, 10.0, f),
            v_leak=np.zeros(n, f),
            v_threshold=np.ones(n, f),
            v_reset=np.zeros(n, f),
        )

    layers = [
        ("fc1", affine(128, 128)),
        ("lif1", lif(128)),
        ("fc2", affine(128, 128)),
        ("lif2", lif(128)),
        ("fc3", affine(128, 20)),
        ("li", LI(tau=np.full(20, 10e-3, f), r=np.ones(20, f), v_leak=np.zeros(20, f))),
    ]
    return Graph.sequential(layers, input_shape=(128,))


def read_corpus(name: str):
    try:
        from spyx.io import load  # once the io package lands
    except ImportError:
        load = None
    if load is not None:
        return load(CORPUS / name)
    import nir

    from spyx.ir import Graph, kind_class

    def convert(g):
        nodes = {}
        for k, n in g.nodes.items():
            kind = type(n).__name__
            if kind == "NIRGraph":
                nodes[k] = convert(n)
                continue
            cls = kind_class(kind)
            fields = {
                p: __import__("numpy").asarray(getattr(n, p))
                for p in cls.param_names()
                if getattr(n, p, None) is not None and not isinstance(getattr(n, p), str)
            }
            if kind == "Input":
                fields["shape"] = n.input_type["input"]
            if kind == "Output":
                fields["shape"] = n.output_type["output"]
            if kind == "Flatten":
                fields["input_type"] = n.input_type["input"]
            nodes[k] = cls(**fields)
        return Graph(nodes=nodes, edges=tuple(g.edges))

    return convert(nir.read(str(CORPUS / name)))


MODELS = {
    "braille": (lambda: read_corpus("braille_noDelay_bias_zero.nir"), 256, 256, 1e-4),
    "cnn": (lambda: read_corpus("cnn_sinabs.nir"), 64, 300, 1.0),
    "shd_mlp": (shd_mlp, 256, 256, 1e-3),
}


def bench(name, schedule, repeats, batch_scale, precision, unroll=1, parallel_linear=False):
    import jax
    import numpy as np

    import spyx

    make, b, t, dt = MODELS[name]
    b = max(1, int(b * batch_scale))
    prog = spyx.compile(
        make(),
        dt=dt,
        schedule=schedule,
        precision=precision,
        scan_unroll=unroll,
        parallel_linear=parallel_linear,
    )
    rng = np.random.default_rng(0)
    xs = {
        n: jax.device_put((rng.random((t, b, *s)) < 0.2).astype(np.float32))
        for n, s in prog.input_shapes.items()
    }
    run = jax.jit(prog.run)
    start = time.perf_counter()
    jax.block_until_ready(run(prog.params, xs))
    compile_s = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run(prog.params, xs))
        times.append(time.perf_counter() - start)
    med = statistics.median(times)
    return {
        "model": name,
        "schedule": schedule,
        "unroll": prog.plan.unroll,
        "parallel_linear": parallel_linear,
        "B": b,
        "T": t,
        "dt": dt,
        "median_s": med,
        "min_s": min(times),
        "compile_s": compile_s,
        "samples_per_s": b / med,
        "steps_per_s": b * t / med,
        "repeats": repeats,
    }




def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--device", default=None, help="cpu, gpu or tpu (sets JAX_PLATFORMS; default: JAX's choice)"
    )
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument(
        "--models", default=",".join(MODELS), help=f"comma-separated subset of {', '.join(MODELS)}"
    )
    ap.add_argument("--schedules", default="layer,step")
    ap.add_argument(
        "--batch-scale", type=float, default=1.0, help="multiply every batch size (e.g. 0.25 on CPU)"
    )
    ap.add_argument("--precision", default="highest", choices=["highest", "high", "default"])
    ap.add_argument(
        "--unroll", default="auto", help="comma-separated lax.scan unroll factors, or auto (1 CPU, 32 GPU)"
    )
    ap.add_argument(
        "--parallel-linear", default="0", help="comma-separated 0/1: LI/I/CubaLI by associative scan"
    )
    ap.add_argument("--out", type=Path, default=None, help="write results as JSON (atomically)")
    args = ap.parse_args(argv)
    if args.device:
        # "gpu" alone makes recent JAX try ROCm as well; on NVIDIA machines that means CUDA.
        os.environ["JAX_PLATFORMS"] = "cuda" if args.device == "gpu" else args.device
    import jax

    rows = []
    for name in args.models.split(","):
        for schedule in args.schedules.split(","):
            for unroll in (None if u == "auto" else int(u) for u in args.unroll.split(",")):
                for par in (bool(int(v)) for v in args.parallel_linear.split(",")):
                    if par and schedule == "step":
                        continue  # the step schedule has no whole-sequence neurons
                    rows.append(
                        bench(name, schedule, args.repeats, args.batch_scale, args.precision, unroll, par)
                    )
                    r = rows[-1]
                    print(
                        f"  done {name}/{schedule}/u{r['unroll']}/p{int(par)}: {r['median_s'] * 1e3:.1f} ms",
                        file=sys.stderr,
                    )
    device = str(jax.devices()[0])
    print(f"\ndevice: {device}   precision: {args.precision}   repeats: {args.repeats}")
    head = (
        f"{'model':<9} {'schedule':<8} {'unroll':>6} {'par':>3} {'B':>4} {'T':>4} {'median ms':>10} "
        f"{'compile s':>9} {'samples/s':>10} {'sample-steps/s':>14}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['model']:<9} {r['schedule']:<8} {r['unroll']:>6} {int(r['parallel_linear']):>3} "
            f"{r['B']:>4} {r['T']:>4} {r['median_s'] * 1e3:>10.2f} "
            f"{r['compile_s']:>9.2f} {r['samples_per_s']:>10.1f} {r['steps_per_s']:>14.0f}"
        )
    if args.out:
        write_atomic(
            args.out,
            {
                "device": device,
                "platform": platform.platform(),
                "jax": jax.__version__,
                "precision": args.precision,
                "results": rows,
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
