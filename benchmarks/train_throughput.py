"""Training and inference throughput, side by side in one run: spyx (the ``spyx.nn`` path a user writes, and the
compiled ``Program`` path), Spyx 1.0 (its PyPI wheel, in a separate process: both packages are named ``spyx``)
and SpikingJelly 2.0 (its CUDA and Triton LIF kernels).

    python benchmarks/train_throughput.py                    # all workloads, every framework found
    python benchmarks/train_throughput.py --quick            # tiny sizes (a CPU smoke test of the harness)
    python benchmarks/train_throughput.py --shd-grid 64,128,256:128,512   # only the SHD train step, per batch x hidden

Each framework runs in its own process, one after another (so memory figures are its own):

* ``--spyx1-path DIR``: a directory holding the Spyx 1.0 wheel's packages (``pip install --target``), put first
  on that process's ``PYTHONPATH``; the worker runs outside this repository so our ``spyx/`` cannot shadow it.
* ``--sj-path DIR``: likewise for SpikingJelly 2.0; it is run once per LIF implementation (``SJ_LIF_CUDA_
  IMPLEMENTATION=cuda`` and ``triton``).
* ``--corpus DIR``: where ``braille_noDelay_bias_zero.nir`` and ``cnn_sinabs.nir`` are (default
  ``../shared/nir-corpus``).

Workloads (float32): ``shd_train``/``shd_infer`` (128 inputs, two LIF layers of 128, 20 LI readouts, T=256,
B=256, Adam, cross-entropy on the time-summed readout), the same with hidden 512, ``braille_fwd`` (B=256, T=256)
and ``cnn_sinabs_fwd`` (B=64, T=300) NIR graphs forward, and ``nmnist_train`` (the Spyx paper's
12C5-MP2-32C5-MP2-800FC10, T=64, B=64). Times are medians of ``--iters`` timed calls after ``--warmup`` calls, each
call waited for (``block_until_ready`` / ``torch.cuda.synchronize``); the first call's time is reported as
``compile_s``. ``peak_mib`` is the device's peak memory right after the SHD train step (the first workload of each
process). Prints a table with ratios to each peer and writes ``benchmarks/results/train_throughput.json``.

``--shd-grid BATCHES:HIDDENS`` (e.g. ``64,128,256:128,512``) runs only the SHD train step, once per batch size and
hidden width (workloads ``shd_train_b<B>_h<H>``, T as above or ``--shd-T``): the Spyx paper's training-time table,
reproduced by ``research/reproductions/spyx-shd-training-time``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import write_atomic  # benchmarks/common.py (this script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ("shd_train", "shd_infer", "shd512_train", "shd512_infer", "braille_fwd", "cnn_sinabs_fwd", "nmnist_train")


def sizes(quick: bool) -> dict:
    if quick:
        return dict(T=16, B=8, C=128, H=32, H2=64, nT=8, nB=4, bT=16, bB=8, cT=8, cB=2)
    return dict(T=256, B=256, C=128, H=128, H2=512, nT=64, nB=64, bT=256, bB=256, cT=300, cB=64)


def shd_grid(spec: str | None) -> list[tuple[int, int]]:
    """``"64,128:128,512"`` -> ``[(64, 128), (64, 512), (128, 128), (128, 512)]`` (batch outer, hidden inner)."""
    if not spec:
        return []
    batches, hiddens = spec.split(":")
    return [(int(b), int(h)) for b in batches.split(",") for h in hiddens.split(",")]


def timeit(fn, warmup: int, iters: int, sync) -> tuple[float, float]:
    """(first call seconds, median seconds of ``iters`` calls after ``warmup``)."""
    t0 = time.perf_counter()
    sync(fn())
    first = time.perf_counter() - t0
    for _ in range(warmup):
        sync(fn())
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        sync(fn())
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times)


# -- JAX workers (spyx and Spyx 1.0 share the Spyx 1.0 API) -------------------------------------------------------
def jax_worker(kind: str, args) -> list[dict]:
    import jax
    import jax.numpy as jnp
    import optax
    from flax import nnx

    import spyx

    snn = spyx.nn
    z = sizes(args.quick)
    sync = jax.block_until_ready
    key = jax.random.PRNGKey(0)
    out = []

    def record(name, variant, first, median, **extra):
        row = dict(framework=kind, variant=variant, workload=name, compile_s=first, median_ms=1e3 * median, **extra)
        out.append(row)
        print(json.dumps(row), flush=True)

    def shd_model(h):
        r = nnx.Rngs(0)
        return snn.Sequential(
            nnx.Linear(z["C"], h, rngs=r), snn.LIF((h,), rngs=r), nnx.Linear(h, h, rngs=r), snn.LIF((h,), rngs=r),
            nnx.Linear(h, 20, rngs=r), snn.LI((20,), rngs=r),
        )

    def ce(out, y):
        return optax.softmax_cross_entropy_with_integer_labels(out.sum(0), y).mean()

    def nn_train(model, x, y, run_kw, jit="nnx"):
        """The train step as a user writes it (``jit="nnx"``: ``nnx.jit`` of the module and its optimizer), in
        flax's tree mode (``"tree"``: ``nnx.jit(graph=False)``), or split once into pytrees under ``jax.jit``
        (``"jax"``): the same computation, three per-call costs (benchmarks/nn_dispatch.py)."""
        if jit == "jax":
            gd, params, rest = nnx.split(model, nnx.Param, ...)
            tx = optax.adam(1e-3)
            state = [params, tx.init(params)]

            @jax.jit
            def pstep(p, o, x, y):
                loss, g = jax.value_and_grad(lambda p: ce(snn.run(nnx.merge(gd, p, rest), x, **run_kw)[0], y))(p)
                upd, o = tx.update(g, o, p)
                return optax.apply_updates(p, upd), o, loss

            def run():
                state[0], state[1], loss = pstep(state[0], state[1], x, y)
                return loss

            return run
        opt = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)

        def step(model, opt, x, y):
            loss, grads = nnx.value_and_grad(lambda m: ce(snn.run(m, x, **run_kw)[0], y))(model)
            opt.update(model, grads)
            return loss

        step = nnx.jit(step, graph=False) if jit == "tree" else nnx.jit(step)
        return lambda: step(model, opt, x, y)

    def nn_infer(model, x, run_kw, jit="nnx"):
        if jit == "jax":
            gd, params, rest = nnx.split(model, nnx.Param, ...)
            g = jax.jit(lambda p, x: snn.run(nnx.merge(gd, p, rest), x, **run_kw)[0])
            return lambda: g(params, x)
        f = (lambda fn: nnx.jit(fn, graph=False) if jit == "tree" else nnx.jit(fn))(
            lambda m, x: snn.run(m, x, **run_kw)[0])
        return lambda: f(model, x)

    variants = [("nn", {}, "nnx"), ("nn-tree", {}, "tree"), ("nn-jit", {}, "jax")]
    if kind == "spyx":
        variants.append(("nn-step", {"schedule": "step"}, "nnx"))

    if args.shd_grid:  # the training-time table only: one train step per (batch, hidden)
        T = args.shd_T or z["T"]
        for B, h in shd_grid(args.shd_grid):
            xb = (jax.random.uniform(key, (T, B, z["C"])) < 0.1).astype(jnp.float32)
            yb = jax.random.randint(key, (B,), 0, 20)
            first, med = timeit(nn_train(shd_model(h), xb, yb, {}), args.warmup, args.iters, sync)
            stats = jax.devices()[0].memory_stats() or {}
            record(f"shd_train_b{B}_h{h}", "nn", first, med, T=T, batch=B, hidden=h,
                   peak_mib=stats.get("peak_bytes_in_use", 0) / 2**20 or None)
        return out

    x = (jax.random.uniform(key, (z["T"], z["B"], z["C"])) < 0.1).astype(jnp.float32)
    y = jax.random.randint(key, (z["B"],), 0, 20)
    for h, tag in ((z["H"], "shd"), (z["H2"], "shd512")):
        for variant, kw, jit in variants:
            first, med = timeit(nn_train(shd_model(h), x, y, kw, jit), args.warmup, args.iters, sync)
            extra = {}
            if tag == "shd" and variant == "nn":
                stats = jax.devices()[0].memory_stats() or {}
                extra["peak_mib"] = stats.get("peak_bytes_in_use", 0) / 2**20 or None
            record(f"{tag}_train", variant, first, med, **extra)
            first, med = timeit(nn_infer(shd_model(h), x, kw, jit), args.warmup, args.iters, sync)
            record(f"{tag}_infer", variant, first, med)
        if kind == "spyx":  # the compiled Program path: lower once, grad through program.run
            prog = spyx.compile(snn.lower(shd_model(h), (z["C"],)), precision=args.program_precision,
                                dtype=None if args.program_dtype == "float32" else jnp.dtype(args.program_dtype))
            tx = optax.adam(1e-3)

            @jax.jit
            def pstep(params, opt_state, x, y):
                loss, g = jax.value_and_grad(lambda p: ce(prog.run(p, x)[0], y))(params)
                updates, opt_state = tx.update(g, opt_state, params)
                return optax.apply_updates(params, updates), opt_state, loss

            state = [prog.params, tx.init(prog.params)]

            def program_train():
                state[0], state[1], loss = pstep(state[0], state[1], x, y)
                return loss

            first, med = timeit(program_train, args.warmup, args.iters, sync)
            record(f"{tag}_train", "program", first, med)
            prun = jax.jit(lambda p, x: prog.run(p, x)[0])
            first, med = timeit(lambda: prun(prog.params, x), args.warmup, args.iters, sync)
            record(f"{tag}_infer", "program", first, med)

    # NIR graphs forward
    corpus = Path(args.corpus)
    for name, fname, T, B in (("braille_fwd", "braille_noDelay_bias_zero.nir", z["bT"], z["bB"]),
                              ("cnn_sinabs_fwd", "cnn_sinabs.nir", z["cT"], z["cB"])):
        path = corpus / fname
        if not path.exists():
            print(f"skip {name}: {path} not found", flush=True)
            continue
        import nir

        graph = nir.read(str(path))
        shape = tuple(int(s) for s in next(iter(graph.nodes["input"].input_type.values())))
        xin = (jax.random.uniform(key, (T, B, *shape)) < 0.2).astype(jnp.float32)
        if kind == "spyx":
            prog = spyx.compile(spyx.load(str(path)), dt=1e-4 if "braille" in fname else 1.0,
                                precision=args.program_precision)
            f = jax.jit(lambda p, x: prog.run(p, x)[0])
            first, med = timeit(lambda: f(prog.params, xin), args.warmup, args.iters, sync)
            record(name, "program", first, med)
        else:
            try:
                xl = jnp.moveaxis(xin, 2, -1) if xin.ndim == 5 else xin  # Spyx 1.0 is channels-last
                model, _ = spyx.nir.from_nir(graph, xl[:2], dt=1e-4 if "braille" in fname else 1.0)
                f = nnx.jit(lambda m, x: snn.run(m, x)[0])
                first, med = timeit(lambda: f(model, xl), args.warmup, args.iters, sync)
                record(name, "nn", first, med)
            except Exception as e:  # noqa: BLE001  (a peer that cannot import the file is a result, not a crash)
                record(name, "nn", None, float("nan"), error=f"{type(e).__name__}: {str(e)[:200]}")

    # N-MNIST CNN (Spyx paper): 12C5-MP2-32C5-MP2-800FC10
    import functools

    max_pool2 = functools.partial(nnx.max_pool, window_shape=(2, 2), strides=(2, 2))  # a row-wise layer to run

    def nmnist_model():
        r = nnx.Rngs(0)
        return snn.Sequential(
            nnx.Conv(2, 12, (5, 5), padding="VALID", rngs=r), max_pool2, snn.LIF((15, 15, 12), rngs=r),
            nnx.Conv(12, 32, (5, 5), padding="VALID", rngs=r), max_pool2, snn.LIF((5, 5, 32), rngs=r),
            snn.Flatten(), nnx.Linear(800, 10, rngs=r), snn.LI((10,), rngs=r),
        )

    xn = (jax.random.uniform(key, (z["nT"], z["nB"], 34, 34, 2)) < 0.1).astype(jnp.float32)
    yn = jax.random.randint(key, (z["nB"],), 0, 10)
    nvariants = [("nn", {})] + ([("nn-layer", {"schedule": "layer"})] if kind == "spyx" else [])
    for variant, kw in nvariants:
        first, med = timeit(nn_train(nmnist_model(), xn, yn, kw), args.warmup, args.iters, sync)
        record("nmnist_train", variant, first, med)
    return out


# -- SpikingJelly worker ----------------------------------------------------------------------------------------
def sj_worker(args) -> list[dict]:
    import torch
    from spikingjelly.activation_based import functional, layer, neuron, surrogate

    impl = os.environ.get("SJ_LIF_CUDA_IMPLEMENTATION", "auto")
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    z = sizes(args.quick)
    out = []

    def sync(_):
        if dev == "cuda":
            torch.cuda.synchronize()

    def record(name, first, median, **extra):
        row = dict(framework="spikingjelly", variant=impl, workload=name, compile_s=first, median_ms=1e3 * median,
                   **extra)
        out.append(row)
        print(json.dumps(row), flush=True)

    def lif():
        # Spyx's LIF: subtractive reset (v_reset=None), input not decayed, as close as SpikingJelly's LIF gets
        return neuron.LIFNode(tau=2.0, decay_input=False, v_reset=None, surrogate_function=surrogate.ATan(),
                              step_mode="m")

    def shd(h):
        net = torch.nn.Sequential(
            layer.Linear(z["C"], h), lif(), layer.Linear(h, h), lif(), layer.Linear(h, 20)
        )
        functional.set_step_mode(net, "m")
        return net.to(dev)

    def nmnist():
        net = torch.nn.Sequential(
            layer.Conv2d(2, 12, 5), layer.MaxPool2d(2), lif(), layer.Conv2d(12, 32, 5), layer.MaxPool2d(2), lif(),
            layer.Flatten(), layer.Linear(800, 10),
        )
        functional.set_step_mode(net, "m")
        return net.to(dev)

    def train(net, x, y):
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)

        def step():
            functional.reset_net(net)
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(x).sum(0), y)
            loss.backward()
            opt.step()
            return loss

        return step

    def infer(net, x):
        def f():
            functional.reset_net(net)
            with torch.no_grad():
                return net(x)

        return f

    g = torch.Generator(device="cpu").manual_seed(0)
    if args.shd_grid:
        T = args.shd_T or z["T"]
        for B, h in shd_grid(args.shd_grid):
            xb = (torch.rand(T, B, z["C"], generator=g) < 0.1).float().to(dev)
            yb = torch.randint(0, 20, (B,), generator=g).to(dev)
            if dev == "cuda":
                torch.cuda.reset_peak_memory_stats()
            first, med = timeit(train(shd(h), xb, yb), args.warmup, args.iters, sync)
            peak = torch.cuda.max_memory_allocated() / 2**20 if dev == "cuda" else None
            record(f"shd_train_b{B}_h{h}", first, med, T=T, batch=B, hidden=h, peak_mib=peak)
        return out
    x = (torch.rand(z["T"], z["B"], z["C"], generator=g) < 0.1).float().to(dev)
    y = torch.randint(0, 20, (z["B"],), generator=g).to(dev)
    for h, tag in ((z["H"], "shd"), (z["H2"], "shd512")):
        if dev == "cuda":
            torch.cuda.reset_peak_memory_stats()
        first, med = timeit(train(shd(h), x, y), args.warmup, args.iters, sync)
        extra = {"peak_mib": torch.cuda.max_memory_allocated() / 2**20} if dev == "cuda" and tag == "shd" else {}
        record(f"{tag}_train", first, med, **extra)
        first, med = timeit(infer(shd(h), x), args.warmup, args.iters, sync)
        record(f"{tag}_infer", first, med)
    xn = (torch.rand(z["nT"], z["nB"], 2, 34, 34, generator=g) < 0.1).float().to(dev)
    yn = torch.randint(0, 10, (z["nB"],), generator=g).to(dev)
    first, med = timeit(train(nmnist(), xn, yn), args.warmup, args.iters, sync)
    record("nmnist_train", first, med)
    return out


# -- orchestration ---------------------------------------------------------------------------------------------
def run_worker(name: str, args, env_extra: dict, pythonpath: list[str], cwd: Path) -> list[dict]:
    env = {**os.environ, **env_extra, "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join([*pythonpath, env.get("PYTHONPATH", "")]).strip(os.pathsep)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--corpus", str(Path(args.corpus).resolve()),
           "--warmup", str(args.warmup), "--iters", str(args.iters), "--program-precision", args.program_precision,
           "--program-dtype", args.program_dtype] + (
               ["--quick"] if args.quick else [])
    if args.shd_grid:
        cmd += ["--shd-grid", args.shd_grid] + (["--shd-T", str(args.shd_T)] if args.shd_T else [])
    print(f"== {name} {env_extra or ''}", flush=True)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=args.timeout)
    rows = []
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            rows.append(json.loads(line))
    sys.stdout.write(proc.stdout[-3000:] if proc.returncode else "")
    if proc.returncode:
        print(f"{name} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}", flush=True)
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]
        rows.append(dict(framework=name if name != "sj" else "spikingjelly",
                         variant=env_extra.get("SJ_LIF_CUDA_IMPLEMENTATION", "nn"), workload="worker_failed",
                         compile_s=None, median_ms=float("nan"), error=f"exit {proc.returncode}: {last}"))
    return rows


def table(rows: list[dict]) -> str:
    """Medians per (workload, framework/variant), with each spyx row's ratio to every peer row (peer / spyx: >1
    means spyx is faster)."""
    lines = [f"{'workload':20} {'framework':28} {'median ms':>10} {'compile s':>9} {'peak MiB':>9}  ratios (peer/this)"]
    grid = [r["workload"] for r in rows if r["workload"] not in WORKLOADS]
    for w in (*WORKLOADS, *dict.fromkeys(grid)):
        ws = [r for r in rows if r["workload"] == w]
        peers = [r for r in ws if r["framework"] != "spyx" and r["median_ms"] == r["median_ms"]]
        for r in ws:
            label = f"{r['framework']}:{r['variant']}"
            ratio = ""
            if r["framework"] == "spyx" and r["median_ms"] > 0:
                ratio = "  ".join(f"{p['framework']}:{p['variant']} x{p['median_ms'] / r['median_ms']:.2f}" for p in peers)
            comp = f"{r['compile_s']:.1f}" if r.get("compile_s") is not None else "-"
            peak = f"{r['peak_mib']:.0f}" if r.get("peak_mib") else "-"
            err = f"  ({r['error']})" if r.get("error") else ""
            lines.append(f"{w:20} {label:28} {r['median_ms']:10.3f} {comp:>9} {peak:>9}  {ratio}{err}")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", choices=("spyx", "spyx1", "sj"))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--spyx1-path", type=Path)
    p.add_argument("--sj-path", type=Path)
    p.add_argument("--sj-impls", default="cuda,triton")
    p.add_argument("--corpus", default=str(ROOT.parent / "shared" / "nir-corpus"))
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "train_throughput.json")
    p.add_argument("--timeout", type=int, default=900)
    p.add_argument("--program-dtype", default="float32", choices=("float32", "bfloat16"),
                   help="spyx.compile(dtype=) of the SHD Program rows (parameters, inputs and state in this dtype)")
    p.add_argument("--program-precision", default="highest", choices=("highest", "high", "default"),
                   help="spyx.compile(precision=) of the Program rows (nn layers use flax's default precision)")
    p.add_argument("--shd-grid", help="BATCHES:HIDDENS, e.g. 64,128,256:128,512: only the SHD train step, per pair")
    p.add_argument("--shd-T", type=int, help="time steps of the --shd-grid input (default: the workload's T)")
    args = p.parse_args()
    if args.worker == "sj":
        sj_worker(args)
        return
    if args.worker:
        jax_worker(args.worker, args)
        return

    jax_env = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}  # so peak memory is what the program uses
    rows = run_worker("spyx", args, jax_env, [str(ROOT)], ROOT)
    if args.spyx1_path:
        rows += run_worker("spyx1", args, jax_env, [str(args.spyx1_path.resolve())], Path("/tmp"))
    if args.sj_path:
        for impl in args.sj_impls.split(","):
            rows += run_worker("sj", args, {"SJ_LIF_CUDA_IMPLEMENTATION": impl}, [str(args.sj_path.resolve())],
                               Path("/tmp"))
    import jax

    meta = {"jax": jax.__version__, "device": str(jax.devices()[0]), "quick": args.quick, "iters": args.iters,
            "warmup": args.warmup, "shd_grid": args.shd_grid, "shd_T": args.shd_T}
    try:
        import torch

        meta["torch"] = torch.__version__
        if torch.cuda.is_available():
            meta["gpu"] = torch.cuda.get_device_name()
    except ImportError:
        pass
    text = table(rows)
    print(text)
    write_atomic(args.out, {"meta": meta, "rows": rows, "table": text})


if __name__ == "__main__":
    main()
