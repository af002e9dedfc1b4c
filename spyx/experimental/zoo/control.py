"""Closed-loop control by evolution strategies: a small LIF network pushes a point mass (a double integrator) to the
origin from random starts; the cost is the summed squared position over a 20-step rollout, which has no useful
surrogate gradient through the spikes and the loop, so it is trained by Open-ES (evosax)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

NAME = "control-lif-es"
APPLICATION = "control"
METHOD = "evolutionary"
ARCHITECTURE = "LIF-MLP"
OBS_DIM, HIDDEN, ACT_DIM = 2, 8, 1
DT = 0.1
ROLLOUT_STEPS = 20


def build(rngs):
    """``Sequential(Linear(2, 8), LIF((8,)), Linear(8, 1), LI((1,)))``."""
    from spyx import nn

    return nn.Sequential(nnx.Linear(OBS_DIM, HIDDEN, rngs=rngs), nn.LIF((HIDDEN,), rngs=rngs),
                         nnx.Linear(HIDDEN, ACT_DIM, rngs=rngs), nn.LI((ACT_DIM,), rngs=rngs))


def synthetic_batch(key=None, batch_size: int = 16):
    """``(init_states,)``: ``(position, velocity)`` starts, ``U[-1, 1)^(batch_size, 2)``."""
    key = jax.random.PRNGKey(0) if key is None else key
    return (jax.random.uniform(key, (batch_size, OBS_DIM), minval=-1.0, maxval=1.0),)


def rollout_cost(model, init_states):
    """``mean_b sum_t x_t^2`` over a closed loop of ``ROLLOUT_STEPS``: each step the network sees ``(x, v)``,
    ``force = out[..., 0]``, then ``v <- v + DT force``, ``x <- x + DT v``, and the cost adds ``x^2``."""

    def step(carry, _):
        env, state = carry
        out, state = model(env, state)
        force = out[..., 0]
        v = env[:, 1] + DT * force
        x = env[:, 0] + DT * v
        return (jnp.stack([x, v], axis=-1), state), x * x

    init = (init_states, model.initial_state(init_states.shape[0]))
    _, costs = jax.lax.scan(step, init, None, length=ROLLOUT_STEPS)
    return jnp.mean(jnp.sum(costs, axis=0))


loss = rollout_cost


def demo(steps: int = 15, *, seed: int = 0, population_size: int = 24) -> list[float]:
    """Open-ES (evosax, ``std`` 0.3, Adam 0.1) on the flattened Params for ``steps`` generations; the mean fitness
    of each generation. Needs evosax (``pip install 'spyx[evolve]'``)."""
    try:
        import evosax
        import optax
    except ImportError as e:
        raise ImportError("zoo control demo needs evosax: pip install 'spyx[evolve]'") from e
    from jax.flatten_util import ravel_pytree

    model = build(nnx.Rngs(seed))
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    theta0, unravel = ravel_pytree(params)
    (init_states,) = synthetic_batch(jax.random.PRNGKey(seed))
    algorithms = getattr(evosax, "algorithms", evosax)
    strategy = algorithms.Open_ES(population_size=population_size, solution=jnp.zeros_like(theta0),
                                  optimizer=optax.adam(0.1), std_schedule=optax.constant_schedule(0.3))
    es_params = strategy.default_params
    key = jax.random.PRNGKey(seed)
    key, k_init = jax.random.split(key)
    state = strategy.init(k_init, theta0, es_params)
    fitness_fn = jax.jit(jax.vmap(lambda t: rollout_cost(nnx.merge(graphdef, unravel(t), rest), init_states)))
    curve = []
    for _ in range(steps):
        key, k_ask, k_tell = jax.random.split(key, 3)
        population, state = strategy.ask(k_ask, state, es_params)
        fitness = fitness_fn(population)
        state, _ = strategy.tell(k_tell, population, fitness, state, es_params)
        curve.append(float(jnp.mean(fitness)))
    return curve
