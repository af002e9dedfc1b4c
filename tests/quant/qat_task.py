"""A synthetic temporal task and a small spyx.nn model for the QAT tests and benchmark.

Four classes from the order of two bursts: channels 0-3 (group A) or 4-7 (group B) burst early (t 5..9)
and then A or B bursts late (t 20..24): AA, AB, BA, BB. AB and BA have the same spike counts per channel;
only the order tells them apart. Noise spikes with probability 0.02 everywhere.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import spyx
import spyx.nn as snn

T, C, N_CLASSES = 40, 8, 4
DT = 1e-3


def order_task(seed: int, batch: int, *, noise: float = 0.02, burst: float = 0.7):
    """(x (T, batch, C) spikes, labels (batch,)); ``noise``: background spike probability, ``burst``: spike
    probability inside a burst."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, N_CLASSES, batch)
    x = (rng.random((T, batch, C)) < noise).astype(np.float32)
    groups = (slice(0, 4), slice(4, 8))
    for b, y in enumerate(labels):
        first, second = groups[y // 2], groups[y % 2]
        x[5:10, b, first] = np.maximum(x[5:10, b, first], rng.random((5, 4)) < burst)
        x[20:25, b, second] = np.maximum(x[20:25, b, second], rng.random((5, 4)) < burst)
    return jnp.asarray(x), jnp.asarray(labels)


def make_model(seed: int = 0, hidden: int = 32):
    r = nnx.Rngs(seed)
    return snn.Sequential(
        nnx.Linear(C, hidden, rngs=r),
        snn.LIF((hidden,), beta=0.9, activation=spyx.axn.superspike(), rngs=r),
        nnx.Linear(hidden, N_CLASSES, rngs=r),
        snn.LI((N_CLASSES,), beta=0.9, rngs=r),
    )


def loss_fn(model, x, y):
    out, _ = snn.run(model, x)
    return optax.softmax_cross_entropy_with_integer_labels(out[-1], y).mean()


def accuracy(model, x, y) -> float:
    out, _ = nnx.jit(snn.run)(model, x)
    return float(jnp.mean(jnp.argmax(out[-1], -1) == y))


def train(model, steps: int, *, lr: float = 2e-2, batch: int = 64, seed0: int = 0, **task):
    """Adam with ``nnx.Optimizer`` on fresh batches; returns the last loss."""
    opt = nnx.Optimizer(model, optax.adam(lr), wrt=nnx.Param)

    @nnx.jit
    def step(model, opt, x, y):
        loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
        opt.update(model, grads)
        return loss

    loss = None
    for i in range(steps):
        x, y = order_task(seed0 + i, batch, **task)
        loss = step(model, opt, x, y)
    return float(loss)
