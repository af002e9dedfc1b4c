"""Worked example: train the SHD-shaped network with ``spyx.optimize.fit``, check ``compile_fit`` gives the same
loss trajectory, export with ``spyx.nir.to_nir``, write and read the file, re-import with ``spyx.nir.from_nir``
and check the outputs are identical. Offline: the data is ``spyx.data.temporal_patterns``.

    python examples/train_export.py            # 128-128-128-20 as SHD (a few minutes on 2 CPU cores)
    python examples/train_export.py --small    # the size the test suite runs

Prints what it measured and writes it as JSON with ``--json PATH``. ``docs/tutorial-train-export.md`` walks
through it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import nir
import numpy as np
import optax
from flax import nnx

import spyx
import spyx.nn as snn


@dataclass(frozen=True)
class Config:
    channels: int = 128
    hidden: int = 128
    classes: int = 20
    T: int = 100
    n_train: int = 2560
    n_test: int = 640
    batch: int = 128
    epochs: int = 12
    lr: float = 3e-3
    seed: int = 0


SMALL = Config(channels=32, hidden=32, classes=4, T=40, n_train=512, n_test=128, batch=32, epochs=10, lr=1e-2)


def build(cfg: Config):
    """SHD's network: Linear -> LIF -> Linear -> LIF -> Linear -> LI readout."""
    rngs = nnx.Rngs(cfg.seed)
    return snn.Sequential(
        nnx.Linear(cfg.channels, cfg.hidden, rngs=rngs),
        snn.LIF((cfg.hidden,), rngs=rngs),
        nnx.Linear(cfg.hidden, cfg.hidden, rngs=rngs),
        snn.LIF((cfg.hidden,), rngs=rngs),
        nnx.Linear(cfg.hidden, cfg.classes, rngs=rngs),
        snn.LI((cfg.classes,), rngs=rngs),
    )


def batches(cfg: Config, n: int, seed: int):
    """``(packed obs [n_batches, B, ceil(T/8), C] uint8, labels [n_batches, B])``: bit-packed along time, as the
    loaders give them, so a whole data set stays small on the device."""
    obs, labels = spyx.data.temporal_patterns(n, T=cfg.T, channels=cfg.channels, n_classes=cfg.classes, seed=seed)
    packed = spyx.data.pack(obs, axis=1)
    k = n // cfg.batch
    return (
        jnp.asarray(packed[: k * cfg.batch].reshape(k, cfg.batch, *packed.shape[1:])),
        jnp.asarray(labels[: k * cfg.batch].reshape(k, cfg.batch)),
    )


def make_fns(cfg: Config):
    loss = spyx.fn.integral_crossentropy()
    acc = spyx.fn.integral_accuracy()

    def traces(model, obs):
        x = spyx.data.unpack(obs, cfg.T, axis=1).astype(jnp.float32)  # unpacked on the device, inside the jit
        return snn.run(model, x, batch_major=True)[0]  # [B, T, classes]

    def loss_fn(model, obs, labels):
        return loss(traces(model, obs), labels)

    def eval_fn(model, obs, labels):
        out = traces(model, obs)
        return acc(out, labels)[0], loss(out, labels)

    def metric_fn(model, obs, labels):
        return acc(traces(model, obs), labels)[0]

    return loss_fn, eval_fn, metric_fn


def main(cfg: Config = Config(), *, quiet: bool = False) -> dict:
    say = (lambda *a: None) if quiet else print
    train = batches(cfg, cfg.n_train, seed=cfg.seed + 1)
    test = batches(cfg, cfg.n_test, seed=cfg.seed + 2)
    loss_fn, eval_fn, metric_fn = make_fns(cfg)

    def split(data):
        return lambda: [(data[0][i], data[1][i]) for i in range(data[0].shape[0])]

    # 1. fit: the Python loop over a jitted step, with a progress bar per epoch
    model = build(cfg)
    t0 = time.perf_counter()
    history = spyx.optimize.fit(
        model, optax.adam(cfg.lr), loss_fn, split(train), epochs=cfg.epochs, eval_iter=split(test), eval_fn=eval_fn
    )
    fit_s = time.perf_counter() - t0
    for e, h in enumerate(history):
        say(f"epoch {e:2d}  train_loss {h['train_loss']:.4f}  eval_loss {h['eval_loss']:.4f}  eval_acc {h['eval_acc']:.3f}")

    # 2. compile_fit: the same training as one XLA program, from the same initial model
    t0 = time.perf_counter()
    compiled, hist = spyx.optimize.compile_fit(
        build(cfg), optax.adam(cfg.lr), loss_fn, train, epochs=cfg.epochs, eval_data=test, metric_fn=metric_fn
    )
    jax.block_until_ready(hist)  # compile_fit returns as soon as the program is dispatched
    compile_fit_s = time.perf_counter() - t0
    fit_losses = np.asarray([h["train_loss"] for h in history])
    cf_losses = np.asarray(hist["train_loss"])
    say(f"fit {fit_s:.1f} s, compile_fit {compile_fit_s:.1f} s; max |loss difference| "
        f"{np.max(np.abs(fit_losses - cf_losses)):.2e}")

    # 3. export with Spyx 1.0's to_nir (include_li keeps the LI readout), write, read, re-import
    graph = spyx.nir.to_nir(model, {"input": (cfg.channels,)}, {"output": (cfg.classes,)}, dt=1.0, include_li=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shd_synthetic.nir"
        nir.write(str(path), graph)
        read_back = nir.read(str(path))
    x = spyx.data.unpack(test[0][0], cfg.T, axis=1).astype(jnp.float32).swapaxes(0, 1)  # [T, B, C]
    reference, _ = snn.run(model, x)
    imported, out = spyx.nir.from_nir(read_back, x, dt=1.0, include_li=True)
    program = spyx.compile(spyx.io.from_nir_graph(read_back), profile="spyx1{dt=1}")
    out_program, _ = program.run(program.params, x)
    diff_import = float(jnp.max(jnp.abs(out - reference)))
    diff_program = float(jnp.max(jnp.abs(out_program - reference)))
    say(f"re-imported ({', '.join(type(layer).__name__ for layer in imported.layers)}): max |output difference| "
        f"{diff_import:.2e}; compiled under the spyx1 profile: {diff_program:.2e}")
    result = {
        "config": asdict(cfg),
        "chance": 1.0 / cfg.classes,
        "history": history,
        "compile_fit_train_loss": cf_losses.tolist(),
        "compile_fit_eval_metric": np.asarray(hist["eval_metric"]).tolist(),
        "max_loss_difference": float(np.max(np.abs(fit_losses - cf_losses))),
        "fit_seconds": fit_s,
        "compile_fit_seconds": compile_fit_s,
        "reimport_max_difference": diff_import,
        "spyx1_program_max_difference": diff_program,
        "imported_layers": [type(layer).__name__ for layer in imported.layers],
        "jax": jax.__version__,
        "device": str(jax.devices()[0]),
    }
    say(f"test accuracy {history[-1]['eval_acc']:.3f} (chance {result['chance']:.3f})")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the test suite's size")
    parser.add_argument("--json", type=Path, help="write the measurements here")
    args = parser.parse_args()
    out = main(SMALL if args.small else Config())
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    sys.exit(0)
