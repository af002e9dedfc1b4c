"""The multi-device checks of ``test_sharding.py``, run in their own process on 8 forced CPU devices.

    XLA_FLAGS=--xla_force_host_platform_device_count=8 JAX_PLATFORMS=cpu python sharded_checks.py [CORPUS]

The flag must be set before jax is imported, and the rest of the suite must keep seeing one device, hence a
separate process. Every check computes a sharded result, the same call without a mesh, and, for populations,
an independent reference (a Python loop over members of a plain jax/optax training function or of
``program.run``, compiled once), and prints one JSON object: numbers (max abs differences) and placements
(``.sharding`` specs, device counts, shard shapes). The test asserts on them.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import jax

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
jax.config.update("jax_numpy_rank_promotion", "raise")

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from flax import nnx  # noqa: E402

import spyx  # noqa: E402
import spyx.fn as fn  # noqa: E402
import spyx.optimize as so  # noqa: E402
from spyx.backend import perturb_params, run_population  # noqa: E402
from tests.optimize.tiny_model import TinyNet, run, task  # noqa: E402

CE = fn.integral_crossentropy()
ACC = fn.integral_accuracy()
P = 8  # members; also the device count
EPOCHS = 2


def loss_fn(model, x, y):
    return CE(run(model, x), y)


def metric_fn(model, x, y):
    return ACC(run(model, x), y)[0]


def diff(a, b) -> float:
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return max(float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))))
               for x, y in zip(la, lb, strict=True))


def placement(x) -> dict:
    s = x.sharding
    return {"spec": [None if p is None else str(p) for p in getattr(s, "spec", ())],
            "devices": len(s.device_set), "replicated": bool(s.is_fully_replicated),
            "shard_shape": list(x.addressable_shards[0].data.shape), "shape": list(x.shape)}


def kernels(model) -> dict:
    return {"fc1": model.fc1.kernel[...], "fc2": model.fc2.kernel[...]}


# -- an independent reference: one member's compile_fit run as plain jax + optax, compiled once ---------------
def reference_trainer(tx_of_lr):
    """``train(params, rest, lr, X, Y, EX, EY) -> (params, losses (EPOCHS,), metrics (EPOCHS,))``: for each epoch a
    Python-free loop over the staged batches (loss before each update, adam/sgd), then the metric averaged over
    the eval batches; written from the contract (spyx-api.md §7.5), not from spyx's code."""
    graphdef = nnx.graphdef(TinyNet(0))

    def train(params, rest, lr, X, Y, EX, EY):
        tx = tx_of_lr(lr)

        def loss(p, x, y):
            return loss_fn(nnx.merge(graphdef, p, rest), x, y)

        opt = tx.init(params)
        losses, metrics = [], []
        for _ in range(EPOCHS):
            ls = []
            for i in range(X.shape[0]):
                value, g = jax.value_and_grad(loss)(params, X[i], Y[i])
                updates, opt = tx.update(g, opt, params)
                params = optax.apply_updates(params, updates)
                ls.append(value)
            losses.append(jnp.mean(jnp.stack(ls)))
            m = nnx.merge(graphdef, params, rest)
            metrics.append(jnp.mean(jnp.stack([metric_fn(m, EX[i], EY[i]) for i in range(EX.shape[0])])))
        return params, jnp.stack(losses), jnp.stack(metrics)

    return jax.jit(train)


def check_data_parallel(X, Y) -> dict:
    """fit and compile_fit with the batch split over 8 devices, against the same calls without a mesh."""
    batches = lambda: [(X[i], Y[i]) for i in range(X.shape[0])]  # noqa: E731
    plain, sharded = TinyNet(0), TinyNet(0)
    h_plain = so.fit(plain, optax.adam(1e-2), loss_fn, batches, epochs=EPOCHS, progress=False)
    mesh = so.make_mesh(data=P)
    h_sharded = so.fit(sharded, optax.adam(1e-2), loss_fn, batches, epochs=EPOCHS, progress=False, mesh=mesh)
    # the compiled step reduces the gradient with a collective: look for it in the optimized HLO
    model = TinyNet(0)
    nnx.update(model, jax.device_put(nnx.state(model), spyx.sharding.replicated(mesh)))
    opt = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    xb = spyx.sharding.shard_batch(mesh, (X[0], Y[0]))
    hlo = so.make_train_step(loss_fn, mesh=mesh).lower(model, opt, *xb).compile().as_text()
    fit_out = {
        "history_diff": max(abs(a["train_loss"] - b["train_loss"]) for a, b in zip(h_plain, h_sharded, strict=True)),
        "params_diff": diff(kernels(plain), kernels(sharded)),
        "params_placement": placement(sharded.fc1.kernel[...]),
        "batch_placement": placement(xb[0]),
        "step_has_all_reduce": "all-reduce" in hlo,
    }

    mesh2 = so.make_mesh(population=2, data=4)  # a 2-D mesh: the model replicated over both axes
    a, ha = so.compile_fit(TinyNet(0), optax.adam(1e-2), loss_fn, (X, Y), epochs=EPOCHS, eval_data=(X, Y),
                           metric_fn=metric_fn)
    b, hb = so.compile_fit(TinyNet(0), optax.adam(1e-2), loss_fn, (X, Y), epochs=EPOCHS, eval_data=(X, Y),
                           metric_fn=metric_fn, mesh=mesh2)
    cf_out = {
        "history_diff": diff(ha, hb),
        "params_diff": diff(kernels(a), kernels(b)),
        "params_placement": placement(b.fc1.kernel[...]),
        "history_placement": placement(hb["train_loss"]),
    }
    return {"fit": fit_out, "compile_fit": cf_out}


def check_population(X, Y) -> dict:
    """sweep over 8 seeds (population axis over 8 devices) and over a learning-rate grid on a 4 x 2 mesh, against
    the per-member single-device reference (and, for the seeds, the same sweep without a mesh)."""
    members = [TinyNet(s) for s in range(P)]
    graphdef, params0, rest = nnx.split(so.stack(members), nnx.Param, ...)
    pick = lambda tree, i: jax.tree.map(lambda v: v[i], tree)  # noqa: E731

    adam = reference_trainer(lambda lr: optax.adam(lr))
    ref = [adam(pick(params0, i), pick(rest, i), 1e-2, X, Y, X, Y) for i in range(P)]
    ref_params = jax.tree.map(lambda *v: jnp.stack(v), *[r[0] for r in ref])
    ref_loss = np.stack([r[1] for r in ref])
    ref_metric = np.stack([r[2] for r in ref])

    kw = dict(epochs=EPOCHS, eval_data=(X, Y), metric_fn=metric_fn)
    plain, hp = so.sweep(members, optax.adam(1e-2), loss_fn, (X, Y), **kw)
    sharded, hs = so.sweep(members, optax.adam(1e-2), loss_fn, (X, Y), mesh=so.make_mesh(population=P), **kw)
    seeds = {
        "vs_reference_params": diff(nnx.state(sharded, nnx.Param), ref_params),
        "vs_reference_loss": diff(hs["train_loss"], ref_loss),
        "vs_reference_metric": diff(hs["eval_metric"], ref_metric),
        "vs_unsharded": max(diff(nnx.state(sharded), nnx.state(plain)), diff(hs, hp)),
        "unsharded_vs_reference": diff(nnx.state(plain, nnx.Param), ref_params),
        "params_placement": placement(sharded.fc1.kernel[...]),
        "history_placement": placement(hs["train_loss"]),
        "frozen_kept": diff(nnx.state(sharded, nnx.Not(nnx.Param)), rest),
    }

    lrs = jnp.asarray([1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.2, 0.3, 0.5], jnp.float32)
    sgd = reference_trainer(lambda lr: optax.sgd(lr))
    ref = [sgd(pick(params0, i), pick(rest, i), lrs[i], X, Y, X, Y) for i in range(P)]
    ref_params = jax.tree.map(lambda *v: jnp.stack(v), *[r[0] for r in ref])
    grid, hg = so.sweep(members, lambda lr: optax.sgd(lr), loss_fn, (X, Y), hparams=lrs,
                        mesh=so.make_mesh(population=4, data=2), **kw)
    hparams = {
        "vs_reference_params": diff(nnx.state(grid, nnx.Param), ref_params),
        "vs_reference_loss": diff(hg["train_loss"], np.stack([r[1] for r in ref])),
        "params_placement": placement(grid.fc1.kernel[...]),
        "distinct_members": int(len({round(float(v), 5) for v in hg["train_loss"][:, -1]})),
    }
    return {"seeds": seeds, "hparams": hparams}


def check_inference(corpus: Path) -> dict:
    """An imported NIR graph (the braille network of the NIR paper) run by 8 perturbed members."""
    path = corpus / "braille_noDelay_bias_zero.nir"
    prog = spyx.compile(spyx.load(path), dt=1e-4)
    x = (np.random.default_rng(0).random((20, 4, 12)) < 0.3).astype(np.float32)
    params = perturb_params(prog.params, P, sigma=0.1, key=jax.random.PRNGKey(0))
    single = jax.jit(prog.run)
    ref = np.stack([np.asarray(single(jax.tree.map(lambda v, i=i: v[i], params), x)[0]) for i in range(P)])
    out, state = run_population(prog, params, x, mesh=spyx.sharding.make_mesh(population=4, data=2))
    out_plain, _ = run_population(prog, params, x)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "x.npy", x)
        from spyx.runner import run_command

        lines = run_command(path, input_path=Path(tmp) / "x.npy", output_path=Path(tmp) / "y.npy", dt=1e-4,
                            population=P, perturb=0.1, seed=0)
        cli = np.load(Path(tmp) / "y.npy")
    return {
        "vs_reference": diff(out, ref),
        "unsharded_vs_reference": diff(out_plain, ref),
        "cli_vs_reference": diff(cli, ref),
        "cli_shape": list(cli.shape),
        "cli_devices_line": [ln for ln in lines if ln.startswith("population")],
        "member_spikes": [float(v) for v in ref.sum(axis=(1, 2, 3))],
        "output_placement": placement(out),
        "state_placement": placement(state["lif2"]["v"]),
    }


def check_errors(X, Y) -> dict:
    """Sizes a mesh does not divide: the error type and whether the message names the argument and sizes."""

    def caught(fn, *fragments):
        try:
            fn()
        except Exception as e:  # noqa: BLE001  (the type is the result)
            return type(e).__name__, all(f in str(e) for f in fragments)
        return None, False

    mesh = so.make_mesh(population=4, data=2)
    six = [TinyNet(s) for s in range(6)]
    return {
        "population": caught(lambda: so.sweep(six, optax.sgd(0.1), loss_fn, (X, Y), epochs=1, mesh=mesh),
                             "population of 6 members", "'population' axis of 4 devices"),
        "batch": caught(lambda: so.fit(TinyNet(0), optax.sgd(0.1), loss_fn, lambda: [(X[0, :6], Y[0, :6])],
                                       epochs=1, progress=False, mesh=so.make_mesh(data=4)),
                        "fit(): train batch[0]", "size 6", "'data' axis of 4 devices"),
    }


def main() -> None:
    result = {"device_count": jax.device_count(), "xla_flags": os.environ.get("XLA_FLAGS", ""), "seconds": {}}
    X, Y = task(n_batches=2, batch=8, steps=5)  # X (2, 8, 5, 3): 8 samples per batch, one per device
    checks = {"data_parallel": lambda: check_data_parallel(X, Y), "population": lambda: check_population(X, Y),
              "errors": lambda: check_errors(X, Y)}
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    if corpus is not None and (corpus / "braille_noDelay_bias_zero.nir").is_file():
        checks["inference"] = lambda: check_inference(corpus)
    for name, check in checks.items():
        t0 = time.perf_counter()
        result[name] = check()
        result["seconds"][name] = round(time.perf_counter() - t0, 1)
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
