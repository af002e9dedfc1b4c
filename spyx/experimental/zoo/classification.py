"""Classification with a recurrent SNN and surrogate gradients: four classes of rate-coded spike patterns (class
``c`` raises channels ``2c, 2c + 1`` to rate 0.7 over a 0.1 background), an RLIF layer with the arctan surrogate,
integral cross-entropy on the LI readout."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

NAME = "classification-rsnn"
APPLICATION = "classification"
METHOD = "surrogate"
ARCHITECTURE = "RSNN"
TIME, INPUTS, HIDDEN, CLASSES = 16, 8, 24, 4


def build(rngs):
    """``Sequential(Linear(8, 24), RLIF((24,), activation=axn.arctan()), Linear(24, 4), LI((4,)))``."""
    from spyx import axn, nn

    return nn.Sequential(nnx.Linear(INPUTS, HIDDEN, rngs=rngs), nn.RLIF((HIDDEN,), activation=axn.arctan(), rngs=rngs),
                         nnx.Linear(HIDDEN, CLASSES, rngs=rngs), nn.LI((CLASSES,), rngs=rngs))


def synthetic_batch(key=None, batch_size: int = 32):
    """``(spikes [TIME, B, INPUTS] float32, labels [B])``: ``k_label, k_spike = split(key)``; labels ``randint(0,
    4)``; rate 0.7 on channels ``2c, 2c + 1 (mod 8)`` of class ``c``, 0.1 elsewhere; ``uniform(k_spike) < rate``."""
    key = jax.random.PRNGKey(0) if key is None else key
    k_label, k_spike = jax.random.split(key)
    labels = jax.random.randint(k_label, (batch_size,), 0, CLASSES)
    channel = jnp.arange(INPUTS)[None, :]
    hot = (channel == (2 * labels[:, None]) % INPUTS) | (channel == (2 * labels[:, None] + 1) % INPUTS)
    rate = jnp.where(hot, 0.7, 0.1)
    spikes = (jax.random.uniform(k_spike, (TIME, batch_size, INPUTS)) < rate[None]).astype(jnp.float32)
    return spikes, labels


def _loss_fn(model, spikes, labels):
    from spyx import fn, nn

    return fn.integral_crossentropy(time_axis=0)(nn.run(model, spikes)[0], labels)


loss = _loss_fn


def demo(steps: int = 40, *, seed: int = 0, learning_rate: float = 2e-3) -> list[float]:
    """Adam on one fixed batch for ``steps`` steps (``k_model, k_data = split(PRNGKey(seed))``); the losses."""
    import optax

    from spyx import optimize

    k_model, k_data = jax.random.split(jax.random.PRNGKey(seed))
    model = build(nnx.Rngs(k_model))
    batch = synthetic_batch(k_data)
    opt = nnx.Optimizer(model, optax.adam(learning_rate), wrt=nnx.Param)
    step = optimize.make_train_step(_loss_fn)
    return [float(step(model, opt, *batch)) for _ in range(steps)]
