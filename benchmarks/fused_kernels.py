"""Fused LIF sequence kernels against the scans: forward and forward+backward times, agreement, memory.

For each size ``(T, B, N)`` (default on GPU: the SHD shapes T=256, B=256, N=128 and N=512) and each variant of
``spyx.kernels.lif_sequence`` (superspike surrogate, per-unit beta, threshold 1):

* ``autodiff``: ``lax.scan`` of the LIF step differentiated by JAX (what ``spyx.nn.run`` does), scan unroll 1
  and (GPU) 32;
* ``scan``: the same scan under spyx.kernels' ``custom_vjp`` with the hand-derived reverse scan;
* ``pallas``: the fused Pallas kernels, for several :class:`spyx.kernels.KernelConfig` layouts (GPU: Triton;
  CPU: interpret mode, small sizes only, to check that the script works).

``fwd`` is ``jit(lif_sequence)``; ``fwd+bwd`` is ``jit(value_and_grad(loss))`` w.r.t. ``x``, ``v0`` and
``beta`` with ``loss = sum(spikes * w) + sum(v_final ** 2)`` for a fixed random ``w``. Each is compiled ahead
of time (compile time reported) and run once, then timed ``--repeats`` times with ``block_until_ready`` over three
rotating input sets (so that repeated runs do not just hit the L2 cache); the median is reported. Every
variant is checked against ``autodiff`` (unroll 1) on fresh random inputs: the fraction of spikes that
differ, the largest membrane difference, and the largest relative L2 error of the three gradients (a spike
that flips from float rounding, e.g. a fused multiply-add on GPU, moves the gradients near it; on CPU all
three implementations agree exactly or to 1e-7).

Floors (bytes the neuron layer must move, float32, ``M = B * N``): forward ``2 T M * 4`` (read ``x``, write
spikes); forward+backward ``6 T M * 4`` (forward: read ``x``, write spikes and membranes; backward: read
membranes and the spike cotangent, write ``dL/dx``). ``GB/s`` columns are those bytes over the median time,
against the copy bandwidth measured in the same run (``copy``: read + write of a 1 GiB buffer on GPU).
``temp MiB`` is XLA's temporary-buffer size of the compiled ``fwd+bwd`` program (``memory_analysis``).

    python benchmarks/fused_kernels.py                       # GPU: SHD shapes, all variants
    PYTHONPATH=. JAX_PLATFORMS=cpu python benchmarks/fused_kernels.py --repeats 3   # CPU: small, interpret
    python benchmarks/fused_kernels.py --sizes 256,256,128 --configs 128:4:8,256:4:16 --repeats 50
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

from common import write_atomic  # benchmarks/common.py (this script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

warnings.filterwarnings("ignore", message=".*Pallas Triton backend is deprecated.*")

GPU_SIZES = [(256, 256, 128), (256, 256, 512)]
CPU_SIZES = [(16, 4, 24)]
# block:num_warps:unroll
GPU_CONFIGS = ["128:4:8", "128:4:16", "128:4:32", "128:4:1", "256:4:16", "256:8:16", "64:2:16", "512:4:8"]
CPU_CONFIGS = ["32:1:4"]




def parse_config(text: str):
    from spyx.kernels import KernelConfig

    block, warps, unroll = (int(v) for v in text.split(":"))
    return KernelConfig(block=block, num_warps=warps, unroll=unroll)


def variants(on_gpu: bool, configs: list[str]):
    """``(label, impl, config, interpret)`` for every variant to run."""
    from spyx.kernels import KernelConfig

    out = [("autodiff u1", "autodiff", KernelConfig(scan_unroll=1), False)]
    if on_gpu:
        out.append(("autodiff u32", "autodiff", KernelConfig(scan_unroll=32), False))
    out.append(("scan u1", "scan", KernelConfig(scan_unroll=1), False))
    if on_gpu:
        out.append(("scan u32", "scan", KernelConfig(scan_unroll=32), False))
    for text in configs:
        out.append((f"pallas {text}", "pallas", parse_config(text), not on_gpu))
    return out


def make_inputs(key, t, b, n):
    import jax
    import jax.numpy as jnp

    k = jax.random.split(key, 4)
    x = 0.3 + 0.8 * jax.random.normal(k[0], (t, b, n), jnp.float32)
    v0 = 0.5 * jax.random.normal(k[1], (b, n), jnp.float32)
    beta = jax.random.uniform(k[2], (n,), jnp.float32, 0.6, 1.0)
    w = jax.random.normal(k[3], (t, b, n), jnp.float32)
    return x, v0, beta, w


def build(impl, config, interpret, surrogate):
    import jax
    import jax.numpy as jnp

    from spyx.kernels import lif_sequence

    def fwd(x, v0, beta):
        return lif_sequence(x, v0, beta, 1.0, surrogate=surrogate, impl=impl, interpret=interpret, config=config)

    def loss(x, v0, beta, w):
        s, v = fwd(x, v0, beta)
        return jnp.sum(s * w) + jnp.sum(v * v)

    return jax.jit(fwd), jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))


def timed(f, arg_sets, repeats):
    """``(median_s, min_s, compile_s, compiled)``: lower and compile ``f`` ahead of time (``compile_s``), run it
    once, then time ``repeats`` calls of the compiled program."""
    import jax

    t0 = time.perf_counter()
    compiled = f.lower(*arg_sets[0]).compile()
    compile_s = time.perf_counter() - t0
    jax.block_until_ready(compiled(*arg_sets[0]))
    times = []
    for r in range(repeats):
        args = arg_sets[r % len(arg_sets)]
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), compile_s, compiled


def temp_mib(compiled):
    try:
        return round(compiled.memory_analysis().temp_size_in_bytes / 2**20, 2)
    except Exception:  # memory_analysis is backend-dependent; the number is informative only
        return None


def copy_bandwidth(on_gpu: bool, repeats: int) -> float:
    """GB/s of ``a * 1.0001`` (read + write) over a 1 GiB (GPU) or 64 MiB (CPU) float32 buffer."""
    import jax
    import jax.numpy as jnp

    n = (2**28) if on_gpu else (2**24)
    a = jax.random.normal(jax.random.key(7), (n,), jnp.float32)
    f = jax.jit(lambda a: a * 1.0001)
    med, _, _, _ = timed(f, [(a,)], max(repeats, 5))
    return 2 * n * 4 / med / 1e9


def agreement(ref, got):
    """Spike mismatch fraction, max |v - v_ref|, max over (x, v0, beta) of the relative L2 gradient error."""
    import numpy as np

    (s_r, v_r), (_, g_r) = ref
    (s, v), (_, g) = got
    s_r, s = np.asarray(s_r), np.asarray(s)
    mism = float(np.mean(s != s_r))
    v_err = float(np.max(np.abs(np.asarray(v) - np.asarray(v_r))))
    g_err = max(
        float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / max(np.linalg.norm(np.asarray(b)), 1e-30))
        for a, b in zip(g, g_r, strict=True)
    )
    return mism, v_err, g_err


def run(sizes, configs, repeats, on_gpu, out_path, only):
    import jax

    from spyx import axn

    surrogate = axn.superspike()
    copy_gbs = copy_bandwidth(on_gpu, repeats)
    print(f"copy bandwidth (read + write): {copy_gbs:.0f} GB/s", flush=True)
    dev = jax.devices()[0]
    result = {
        "script": "benchmarks/fused_kernels.py",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "device": f"{dev.platform}: {dev.device_kind}",
        "jax": jax.__version__,
        "python": platform.python_version(),
        "repeats": repeats,
        "dtype": "float32",
        "surrogate": "superspike(k=25)",
        "copy_GBps": round(copy_gbs, 1),
        "rows": [],
    }
    for t, b, n in sizes:
        m = b * n
        floor_fwd, floor_fb = 2 * t * m * 4, 6 * t * m * 4
        keys = jax.random.split(jax.random.key(t * 1_000_003 + b * 1009 + n), 4)
        arg_sets = [make_inputs(k, t, b, n) for k in keys[:3]]
        check = make_inputs(keys[3], t, b, n)  # fresh inputs for the agreement check
        ref = None
        for label, impl, config, interpret in variants(on_gpu, configs):
            if only and not any(o in label for o in only):
                continue
            fwd, fb = build(impl, config, interpret, surrogate)
            row = {"T": t, "B": b, "N": n, "variant": label, "impl": impl, "config": repr(config),
                   "interpret": interpret}
            try:
                f_med, f_min, f_first, _ = timed(fwd, [a[:3] for a in arg_sets], repeats)
                b_med, b_min, b_first, fb_compiled = timed(fb, arg_sets, repeats)
                outs = (fwd(*check[:3]), fb_compiled(*check))
                outs = jax.block_until_ready(outs)
            except Exception as e:  # keep going: one failing layout must not hide the others
                row["error"] = f"{type(e).__name__}: {str(e)[:500]}"
                print(f"T={t} B={b} N={n} {label}: FAILED {row['error']}", flush=True)
                result["rows"].append(row)
                continue
            if ref is None:
                ref = outs
            mism, v_err, g_err = agreement(ref, outs)
            row.update(
                fwd_ms=round(f_med * 1e3, 4), fwd_min_ms=round(f_min * 1e3, 4), fwd_compile_s=round(f_first, 3),
                fb_ms=round(b_med * 1e3, 4), fb_min_ms=round(b_min * 1e3, 4), fb_compile_s=round(b_first, 3),
                fwd_GBps=round(floor_fwd / f_med / 1e9, 1), fb_GBps=round(floor_fb / b_med / 1e9, 1),
                temp_MiB=temp_mib(fb_compiled), spike_mismatch=mism, v_max_err=v_err, grad_rel_err=g_err,
            )
            result["rows"].append(row)
            print(f"T={t} B={b} N={n} {label}: fwd {row['fwd_ms']:.3f} ms, fwd+bwd {row['fb_ms']:.3f} ms, "
                  f"compile {f_first + b_first:.1f} s, spikes differ {mism:.2e}, grad err {g_err:.1e}", flush=True)
        if out_path is not None:
            write_atomic(out_path, result)
    return result


def table(result) -> str:
    head = ("| T | B | N | variant | fwd ms | fwd+bwd ms | compile s | fwd GB/s | f+b GB/s | temp MiB "
            "| spikes differ | v err | grad err |")
    lines = [head, "|" + "---|" * 13]
    for r in result["rows"]:
        if "error" in r:
            lines.append(f"| {r['T']} | {r['B']} | {r['N']} | {r['variant']} | failed: {r['error'][:60]} |")
            continue
        lines.append(
            f"| {r['T']} | {r['B']} | {r['N']} | {r['variant']} | {r['fwd_ms']:.3f} | {r['fb_ms']:.3f} | "
            f"{r['fwd_compile_s'] + r['fb_compile_s']:.1f} | {r['fwd_GBps']:.1f} | {r['fb_GBps']:.1f} | "
            f"{r['temp_MiB']} | {r['spike_mismatch']:.1e} | {r['v_max_err']:.1e} | {r['grad_rel_err']:.1e} |"
        )
    lines.append(f"\n{result['device']}, JAX {result['jax']}, copy {result['copy_GBps']} GB/s, "
                 f"median of {result['repeats']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=["auto", "cpu", "gpu"], default="auto")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--sizes", default=None, help="T,B,N[;T,B,N...] (default: SHD shapes on GPU, tiny on CPU)")
    ap.add_argument("--configs", default=None, help="Pallas layouts block:warps:unroll, comma-separated")
    ap.add_argument("--only", default=None, help="run only variants whose label contains one of these (comma)")
    ap.add_argument("--out", type=Path, default=None,
                    help="JSON path (default benchmarks/results/fused_kernels.json, _cpu.json on CPU)")
    args = ap.parse_args(argv)

    import jax

    on_gpu = jax.default_backend() == "gpu"
    if args.device == "gpu" and not on_gpu:
        print(f"--device gpu but JAX's default backend is {jax.default_backend()!r}", file=sys.stderr)
        return 2
    if args.device == "cpu" and on_gpu:
        jax.config.update("jax_platform_name", "cpu")
        on_gpu = False
    sizes = ([tuple(int(v) for v in s.split(",")) for s in args.sizes.split(";")] if args.sizes
             else (GPU_SIZES if on_gpu else CPU_SIZES))
    configs = args.configs.split(",") if args.configs else (GPU_CONFIGS if on_gpu else CPU_CONFIGS)
    out = args.out or ROOT / "benchmarks" / "results" / ("fused_kernels.json" if on_gpu else "fused_kernels_cpu.json")
    only = args.only.split(",") if args.only else None
    result = run(sizes, configs, args.repeats, on_gpu, out, only)
    print()
    print(table(result))
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
