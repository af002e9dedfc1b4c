"""GPU check of the fused value reset and the row kernel: fused='auto' vs 'off' on the corpus graphs (values,
gradients) and forward timings."""
import json, sys, time
import jax, jax.numpy as jnp, numpy as np
from common import CORPUS_FORWARDS, blocked_median_ms as timeit
sys.path.insert(0, ".")
import spyx

out = {"device": str(jax.devices()[0])}
for name, (fname, T, B, dt, cin) in CORPUS_FORWARDS.items():
    g = spyx.load(f"{sys.argv[1] if len(sys.argv) > 1 else '../shared/nir-corpus'}/{fname}")
    res = {}
    x = jnp.asarray((np.random.default_rng(0).random((T, B, *cin)) < 0.2).astype(np.float32))
    progs = {f: spyx.compile(g, dt=dt, fused=f) for f in ("off", "auto")}
    ys = {}
    for f, prog in progs.items():
        run = jax.jit(prog.run)
        t0 = time.perf_counter(); y, st = run(prog.params, x); jax.block_until_ready(y); res[f"{f}_first_s"] = time.perf_counter() - t0
        ys[f] = (np.asarray(y), jax.tree.map(np.asarray, st))
        res[f"{f}_ms"] = timeit(run, prog.params, x)
    y0, s0 = ys["off"]; y1, s1 = ys["auto"]
    res["out_max_abs_diff"] = float(np.abs(y0 - y1).max())
    res["out_mean"] = float(y0.mean())
    res["state_max_abs_diff"] = max(float(np.abs(a - b).max()) for a, b in zip(jax.tree.leaves(s0), jax.tree.leaves(s1)))
    xs = x[:64]
    def loss(p, prog):
        y, _ = prog.run(p, xs); return jnp.sum(jnp.tanh(y))
    gr = {f: jax.jit(jax.grad(loss), static_argnums=1)(p.params, p) for f, p in progs.items()}
    diffs = jax.tree.map(lambda a, b: float(jnp.max(jnp.abs(a - b)) / (jnp.max(jnp.abs(b)) + 1e-30)), gr["auto"], gr["off"])
    res["grad_max_rel_diff"] = max(jax.tree.leaves(diffs))
    out[name] = res
    print(name, json.dumps(res), flush=True)
import os
os.makedirs(os.environ.get("OUT", "/tmp/out"), exist_ok=True)
json.dump(out, open(os.path.join(os.environ.get("OUT", "/tmp/out"), "gpu_check.json"), "w"), indent=1)
