"""Where the NIR graph forwards spend their time on GPU, and the row kernel's launch settings.

For braille (B = 256, T = 256) and cnn_sinabs (B = 64, T = 300): ``spyx.compile(fused="off")`` against
``fused="auto"`` (median of 20 blocked calls after one warm-up, first-call time, largest output difference), one
``jax.profiler`` trace of 3 calls of the ``auto`` program reduced to device time per kernel name (the GPU's own
clock, so launch gaps and host dispatch are what the wall time has beyond it); in the same process the layout and
packing choices against their alternatives (cnn_sinabs with the neuron kernels channels-first,
``spyx.backend.fused.CHANNELS_LAST = False``, also with XLA's ``xla_gpu_force_conv_nchw``; braille with one padded
kernel operand per parameter, ``spyx.backend.row_kernel.PACK_PARAMS = False``), cnn_sinabs at
``precision="default"``, the SHD-shape inference Program (issue 11's 0.25 ms row) profiled at both precisions, then
braille with :mod:`spyx.backend.row_kernel`'s
``ROWS`` / ``UNROLL`` / ``NUM_WARPS`` / ``NUM_STAGES`` set to each of ``--sweep``'s settings. ``--hlo-dir`` keeps
the optimized HLO of the fused programs. Prints tables; writes JSON (atomically, after each step, so a run stopped
at its time limit keeps what it measured).

    python benchmarks/nir_forward_profile.py --corpus ../shared/nir-corpus --out benchmarks/results/x.json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from common import CORPUS_FORWARDS as CASES
from common import blocked_median_ms as timeit
from common import kernel_times
from common import write_atomic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import spyx  # noqa: E402
from spyx.backend import fused, row_kernel  # noqa: E402

# ROWS,UNROLL,NUM_WARPS[,NUM_STAGES] settings of the row kernel tried on braille
SWEEP = "16,4,4,1 16,4,8,1 16,8,8,1 16,8,8,3 16,2,8,1 16,4,16,1"


def case(corpus: Path, name: str, scale_t: float, **kw):
    fname, t_len, b, dt, cin = CASES[name]
    g = spyx.load(corpus / fname)
    t_len = max(1, int(t_len * scale_t))
    x = jnp.asarray((np.random.default_rng(0).random((t_len, b, *cin)) < 0.2).astype(np.float32))
    prog = spyx.compile(g, dt=dt, **kw)
    return prog, x


def shd_case(scale_t: float, **kw):
    """The SHD-shape inference of train_throughput.py (128 -> LIF 128 -> LIF 128 -> LI 20, B = T = 256) as a
    compiled Program."""
    from flax import nnx

    r = nnx.Rngs(0)
    snn = spyx.nn
    m = snn.Sequential(nnx.Linear(128, 128, rngs=r), snn.LIF((128,), rngs=r), nnx.Linear(128, 128, rngs=r),
                       snn.LIF((128,), rngs=r), nnx.Linear(128, 20, rngs=r), snn.LI((20,), rngs=r))
    t_len = max(1, int(256 * scale_t))
    x = jnp.asarray((np.random.default_rng(0).random((t_len, 256, 128)) < 0.1).astype(np.float32))
    return spyx.compile(snn.lower(m, (128,)), **kw), x


def measure(prog, x, ref=None, profile: bool = False, hlo: Path | None = None, options=None) -> dict:
    """Median wall ms, first-call s, largest output difference from ``ref``, optionally the kernel profile and the
    optimized HLO written to ``hlo``; ``options``: XLA compiler options of the ``jit``."""
    run = jax.jit(lambda p, x: prog.run(p, x)[0], compiler_options=options)
    t0 = time.perf_counter()
    y = np.asarray(jax.block_until_ready(run(prog.params, x)))
    r = {"first_s": time.perf_counter() - t0, "ms": timeit(run, prog.params, x)}
    if ref is not None:
        r["diff"] = float(np.abs(y - ref).max())
    if profile:
        with tempfile.TemporaryDirectory() as d:
            with jax.profiler.trace(d, create_perfetto_trace=True):
                for _ in range(3):
                    jax.block_until_ready(run(prog.params, x))
            r["profile"] = kernel_times(d, 3)
    if hlo is not None:
        hlo.parent.mkdir(parents=True, exist_ok=True)
        hlo.write_text(run.lower(prog.params, x).compile().as_text())
    return r, y


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("../shared/nir-corpus"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/nir_forward_profile.json"))
    ap.add_argument("--hlo-dir", type=Path, help="write the optimized HLO of the fused programs here")
    ap.add_argument("--sweep", default=SWEEP, help="ROWS,UNROLL,NUM_WARPS[,NUM_STAGES] settings, space separated")
    ap.add_argument("--scale-t", type=float, default=1.0, help="shorter sequences for a CPU smoke run")
    args = ap.parse_args(argv)
    res: dict = {"device": str(jax.devices()[0]), "jax": jax.__version__}

    def hlo(tag):
        return args.hlo_dir / f"{tag}.hlo.txt" if args.hlo_dir else None

    ref = {}
    for name in CASES:
        res[f"{name}/off"], ref[name] = measure(*case(args.corpus, name, args.scale_t, fused="off"))
        res[f"{name}/auto"], _ = measure(*case(args.corpus, name, args.scale_t, fused="auto"), ref[name],
                                         profile=True, hlo=hlo(name))
        write_atomic(args.out, res)
    # the two layout and packing choices against their alternatives, in the same process
    fused.CHANNELS_LAST = False
    res["cnn_sinabs/auto/channels_first"], _ = measure(*case(args.corpus, "cnn_sinabs", args.scale_t, fused="auto"),
                                                       ref["cnn_sinabs"], profile=True, hlo=hlo("cnn_channels_first"))
    # ... and with every convolution on NCHW buffers too, so that nothing changes layout
    res["cnn_sinabs/auto/channels_first/conv_nchw"], _ = measure(
        *case(args.corpus, "cnn_sinabs", args.scale_t, fused="auto"), ref["cnn_sinabs"], profile=True,
        options={"xla_gpu_force_conv_nchw": True})
    fused.CHANNELS_LAST = True
    row_kernel.PACK_PARAMS = False
    res["braille/auto/unpacked"], _ = measure(*case(args.corpus, "braille", args.scale_t, fused="auto"), ref["braille"],
                                              profile=True)
    row_kernel.PACK_PARAMS = True
    res["cnn_sinabs/auto/default"], _ = measure(*case(args.corpus, "cnn_sinabs", args.scale_t, fused="auto",
                                                      precision="default"), ref["cnn_sinabs"])
    write_atomic(args.out, res)
    for precision in ("highest", "default"):
        res[f"shd_infer/{precision}"], _ = measure(*shd_case(args.scale_t, precision=precision), profile=True,
                                                   hlo=hlo(f"shd_infer_{precision}"))
        write_atomic(args.out, res)
    knobs = ("ROWS", "UNROLL", "NUM_WARPS", "NUM_STAGES")
    saved = tuple(getattr(row_kernel, k) for k in knobs)
    for setting in args.sweep.split():
        values = [int(v) for v in setting.split(",")]
        for k, v in zip(knobs, values + list(saved[len(values):]), strict=True):
            setattr(row_kernel, k, v)
        tag = "braille/" + "_".join(f"{k.lower()}{getattr(row_kernel, k)}" for k in knobs)
        try:
            res[tag], _ = measure(*case(args.corpus, "braille", args.scale_t, fused="auto"), ref["braille"])
        except Exception as e:  # noqa: BLE001  a setting Triton rejects is a result of the sweep, not its end
            res[tag] = {"error": f"{type(e).__name__}: {str(e)[:300]}"}
        write_atomic(args.out, res)
    for k, v in zip(knobs, saved, strict=True):
        setattr(row_kernel, k, v)
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
