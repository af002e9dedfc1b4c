"""A small spyx.nn model learns a temporal-order task with nnx.Optimizer + optax, then survives export to a
NIR file and re-import (identical outputs), and the imported module fine-tunes."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import spyx
import spyx.nn as snn

T, C, B = 40, 8, 64
DT = 1e-3


def order_task(seed: int, batch: int):
    """Class 0: channels 0-3 burst early (t 5..9) and channels 4-7 late (t 20..24); class 1: the reverse.
    Spike counts per channel are the same for both classes: only the order tells them apart."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, batch)
    x = np.zeros((T, batch, C), np.float32)
    noise = rng.random((T, batch, C)) < 0.02
    for b, y in enumerate(labels):
        first, second = (slice(0, 4), slice(4, 8)) if y == 0 else (slice(4, 8), slice(0, 4))
        x[5:10, b, first] = rng.random((5, 4)) < 0.7
        x[20:25, b, second] = rng.random((5, 4)) < 0.7
    return jnp.asarray(np.maximum(x, noise)), jnp.asarray(labels)


def make_model():
    r = nnx.Rngs(0)
    return snn.Sequential(
        nnx.Linear(C, 32, rngs=r),
        snn.LIF((32,), beta=0.9, activation=spyx.axn.superspike(), rngs=r),
        nnx.Linear(32, 2, rngs=r),
        snn.LI((2,), beta=0.9, rngs=r),
    )


def loss_fn(model, x, y):
    out, _ = snn.run(model, x)
    return optax.softmax_cross_entropy_with_integer_labels(out[-1], y).mean()


def test_learns_temporal_order_and_round_trips(tmp_path):
    model = make_model()
    opt = nnx.Optimizer(model, optax.adam(2e-2), wrt=nnx.Param)

    @nnx.jit
    def train_step(model, opt, x, y):
        loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
        opt.update(model, grads)
        return loss

    x_test, y_test = order_task(999, 256)
    chance = math.log(2)
    initial = float(nnx.jit(loss_fn)(model, x_test, y_test))
    for step in range(150):
        x, y = order_task(step, B)
        train_step(model, opt, x, y)
    final = float(nnx.jit(loss_fn)(model, x_test, y_test))
    out, _ = snn.run(model, x_test)
    accuracy = float(jnp.mean(jnp.argmax(out[-1], -1) == y_test))
    print(f"order task: loss {initial:.3f} -> {final:.3f} (chance {chance:.3f}), accuracy {accuracy:.3f}")
    assert final < 0.25 * chance, f"loss {final:.3f} is not well below chance {chance:.3f}"
    assert accuracy > 0.9

    # export -> file -> import: the same outputs as the trained model
    path = tmp_path / "trained.nir"
    spyx.save(model, path, input_shape=(C,), dt=DT)
    module = snn.from_nir(path, dt=DT, surrogate=spyx.axn.superspike())
    imported, _ = snn.run(module, x_test)
    scale = float(jnp.max(jnp.abs(out)))
    np.testing.assert_allclose(np.asarray(imported), np.asarray(out), rtol=0, atol=1e-6 * max(1.0, scale))

    # the imported module's parameters are nnx.Params that an optimizer fine-tunes
    fine = nnx.Optimizer(module, optax.adam(1e-3), wrt=nnx.Param)
    before = float(nnx.jit(loss_fn)(module, x_test, y_test))
    for step in range(5):
        x, y = order_task(500 + step, B)
        train_step(module, fine, x, y)
    after = float(nnx.jit(loss_fn)(module, x_test, y_test))
    assert after != before and after < before + 0.05 * chance
