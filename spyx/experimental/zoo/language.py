"""Next-token prediction with a diagonal state-space model (S5): a cyclic token stream ``(t + phase) mod 6``, an
embedding, ``spyx.ssm.S5Diag`` and a linear readout, trained with Adam on softmax cross-entropy."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from flax import nnx

NAME = "language-s5"
APPLICATION = "language"
METHOD = "gradient"
ARCHITECTURE = "S5"
VOCAB, D_MODEL, D_STATE, SEQ_LEN = 6, 16, 16, 32


class S5LanguageModel(nnx.Module):
    """``tokens [B, T] -> logits [B, T, VOCAB]``: ``embed`` (``nnx.Embed(6, 16)``), ``ssm`` (``S5Diag(16, 16)``,
    run time-major inside), ``readout`` (``nnx.Linear(16, 6)``), built in that order."""

    def __init__(self, *, rngs):
        from spyx.ssm import S5Diag  # spyx.ssm is imported only when the recipe is built

        self.embed = nnx.Embed(VOCAB, D_MODEL, rngs=rngs)
        self.ssm = S5Diag(D_MODEL, D_STATE, rngs=rngs)
        self.readout = nnx.Linear(D_MODEL, VOCAB, rngs=rngs)

    def __call__(self, tokens):
        h = self.ssm(jnp.swapaxes(self.embed(tokens), 0, 1))
        return self.readout(jnp.swapaxes(h, 0, 1))


def build(rngs):
    return S5LanguageModel(rngs=rngs)


def synthetic_batch(key=None, batch_size: int = 16):
    """``(tokens [B, SEQ_LEN] int32,)`` with ``tokens = (arange(32) + phase) mod 6``, ``phase ~ randint([B, 1],
    0, 6)``."""
    key = jax.random.PRNGKey(0) if key is None else key
    phase = jax.random.randint(key, (batch_size, 1), 0, VOCAB)
    return ((jnp.arange(SEQ_LEN)[None, :] + phase) % VOCAB,)


def loss(model, tokens):
    """Mean next-token softmax cross-entropy of ``logits[:, :-1]`` against ``tokens[:, 1:]``."""
    logits = model(tokens)
    return optax.softmax_cross_entropy_with_integer_labels(logits[:, :-1], tokens[:, 1:]).mean()


def demo(steps: int = 40, *, seed: int = 0, learning_rate: float = 5e-3) -> list[float]:
    """As the classification recipe's demo: Adam on one fixed batch; the losses."""
    from spyx import optimize

    k_model, k_data = jax.random.split(jax.random.PRNGKey(seed))
    model = build(nnx.Rngs(k_model))
    batch = synthetic_batch(k_data)
    opt = nnx.Optimizer(model, optax.adam(learning_rate), wrt=nnx.Param)
    step = optimize.make_train_step(loss)
    return [float(step(model, opt, *batch)) for _ in range(steps)]
