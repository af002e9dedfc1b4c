"""A tiny spiking network for the training-loop tests: Linear(3,4) -> LIF -> Linear(4,2) -> LI.

Written against plain jax + flax only (no spyx import), so that the tests can run the very same model under
the real Spyx 1.0 in its own environment (a subprocess puts this folder on ``sys.path``). It follows the
Spyx 1.0 stateful protocol: ``initial_state(batch_size)`` and ``__call__(x, state) -> (out, state)``, driven
over time by :func:`run` (a ``lax.scan``).

LIF step (spike from the incoming membrane, subtractive reset):
``s_t = H(v_t - theta)``, ``v_{t+1} = beta v_t + x_t - theta s_t``; the surrogate derivative of ``H`` is
SuperSpike ``1 / (1 + 25 |u|)^2``. LI readout: ``v_{t+1} = beta v_t + x_t``, output ``v_{t+1}``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx


@jax.custom_vjp
def spike(u):
    return (u > 0).astype(u.dtype)


def _spike_fwd(u):
    return spike(u), u


def _spike_bwd(u, g):
    return (g / (1.0 + 25.0 * jnp.abs(u)) ** 2,)


spike.defvjp(_spike_fwd, _spike_bwd)


class Threshold(nnx.Variable):
    """A non-trainable variable (not an ``nnx.Param``): ``compile_fit`` must keep it frozen."""


class TinyNet(nnx.Module):
    """``x_t (B, 3) -> (B, 2)`` per step; state ``[v_lif (B, 4), v_li (B, 2)]``."""

    def __init__(self, seed: int = 0, hidden: int = 4, beta: float = 0.8):
        rngs = nnx.Rngs(seed)
        self.fc1 = nnx.Linear(3, hidden, use_bias=False, rngs=rngs)
        self.fc2 = nnx.Linear(hidden, 2, use_bias=False, rngs=rngs)
        self.beta = beta
        self.hidden = hidden
        self.theta = Threshold(jnp.asarray(1.0, jnp.float32))

    def initial_state(self, batch_size: int):
        return [jnp.zeros((batch_size, self.hidden), jnp.float32), jnp.zeros((batch_size, 2), jnp.float32)]

    def __call__(self, x, state):
        v, w = state
        theta = self.theta[...]
        s = spike(v - theta)
        v = self.beta * v + self.fc1(x) - theta * s
        w = self.beta * w + self.fc2(s)
        return w, [v, w]


def run(model, x_btc):
    """Drive ``model`` over the time axis of a batch-major input ``(B, T, 3)``; returns ``(B, T, 2)``."""
    x_tbc = jnp.swapaxes(x_btc, 0, 1)

    def step(state, x_t):
        out, state = model(x_t, state)
        return state, out

    _, out = jax.lax.scan(step, model.initial_state(x_tbc.shape[1]), x_tbc)
    return jnp.swapaxes(out, 0, 1)


def task(seed: int = 3, n_batches: int = 2, batch: int = 4, steps: int = 5):
    """Staged data ``X (n_batches, batch, steps, 3)``, labels ``Y (n_batches, batch)``: class 1 when the
    summed input of channel 0 exceeds that of channel 1 (learnable by the readout)."""
    x = 2.0 * jax.random.normal(jax.random.PRNGKey(seed), (n_batches, batch, steps, 3))
    y = (jnp.sum(x[..., 0], axis=-1) > jnp.sum(x[..., 1], axis=-1)).astype(jnp.int32)
    return x, y


def key_solver(solver_impl):
    """A :data:`Solver` that learns nothing and exposes ``compile_fit``'s key threading.

    State ``(params0, u0)`` with ``u0 = uniform(init key)``; each step's metric is ``uniform(step key) + u0``
    and the parameters never change. ``solver_impl`` is the ``SolverImpl`` class of the library under test
    (ours or Spyx 1.0's), so this file needs neither."""

    def build(loss_flat, params0):
        del loss_flat

        def init(key):
            return params0, jax.random.uniform(key)

        def step(state, batch, key):
            del batch
            return state, jax.random.uniform(key) + state[1]

        def get_params(state):
            return state[0]

        return solver_impl(init, step, get_params)

    return build
