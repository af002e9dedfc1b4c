r"""Gradient-free :data:`~spyx.optimize.Solver`\ s for :func:`spyx.optimize.compile_fit` (``../shared/spyx-api.md``
§13.3).

A solver is a builder ``(loss_flat, params0) -> SolverImpl(init, step, get_params)`` (:mod:`spyx.optimize.solver`);
these three train the model's ``nnx.Param``\ s without backpropagating through the spikes, so the true
(non-differentiable) loss is optimised:

* :func:`es`: the antithetic NES gradient estimate of :mod:`spyx.experimental.hybrid` fed to an optax
  transformation;
* :func:`cmaes`: CMA-ES (evosax) over the flattened parameters; the point estimate is the distribution mean;
* :func:`primed_cmaes`: CMA-ES whose candidate 0 is, each generation, a surrogate-gradient step from the mean.

Usage::

    model, hist = spyx.optimize.compile_fit(model, evolve.es(optax.adam(5e-3), num_samples=12, sigma=0.02),
                                            loss_fn, (X, Y), epochs=25)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from spyx.experimental.hybrid import _es_flat
from spyx.optimize.solver import SolverImpl

__all__ = ["es", "cmaes", "primed_cmaes"]


def es(tx: optax.GradientTransformation, *, num_samples: int = 32, sigma: float = 0.02):
    """Evolution strategies with an optax update.

    State ``(params, tx.init(params0))``. One step on ``batch`` with the step's ``key``: ``theta = ravel(params)``;
    ``g = NES(theta -> loss_flat(unravel(theta), batch), key, K=num_samples, sigma)``; ``updates, opt_state =
    tx.update(unravel(g), opt_state, params)``; ``params = apply_updates(params, updates)``. The metric is
    ``loss_flat(params, batch)`` at the parameters before the update. ``get_params(state) = state[0]``.
    """

    def build(loss_flat, params0) -> SolverImpl:
        _, unravel = ravel_pytree(params0)

        def init(key):
            del key
            return params0, tx.init(params0)

        def step(state, batch, key):
            params, opt_state = state
            theta, _ = ravel_pytree(params)
            g = _es_flat(theta, lambda t: loss_flat(unravel(t), batch), key, num_samples=num_samples, sigma=sigma)
            updates, opt_state = tx.update(unravel(g), opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss_flat(params, batch)

        return SolverImpl(init, step, lambda state: state[0])

    return build


def _cma_strategy(population_size: int, dim: int):
    """evosax's CMA-ES (``evosax.algorithms.CMA_ES``, or ``evosax.CMA_ES`` in older releases) and its default
    parameters; ImportError naming the extra when evosax is missing."""
    try:
        import evosax
    except ImportError as e:
        raise ImportError(
            "spyx.experimental.evolve.cmaes needs evosax: pip install 'spyx[evolve]' (or pip install evosax)"
        ) from e
    algorithms = getattr(evosax, "algorithms", None)
    cls = getattr(algorithms, "CMA_ES", None) if algorithms is not None else None
    if cls is None:
        cls = evosax.CMA_ES
    strategy = cls(population_size=int(population_size), solution=jnp.zeros(dim))
    return strategy, strategy.default_params


def _mean(state):
    for attr in ("mean", "best_solution", "best_member"):
        value = getattr(state, attr, None)
        if value is not None:
            return value
    raise AttributeError(f"CMA-ES state {type(state).__name__} has no mean, best_solution or best_member")


def _cma(population_size: int, prime_lr: float | None):
    def build(loss_flat, params0) -> SolverImpl:
        theta0, unravel = ravel_pytree(params0)
        strategy, es_params = _cma_strategy(population_size, theta0.shape[0])

        def init(key):
            return strategy.init(key, mean=theta0, params=es_params)

        def step(state, batch, key):
            ak, tk = jax.random.split(key)
            population, state = strategy.ask(ak, state, es_params)
            f = lambda t: loss_flat(unravel(t), batch)  # noqa: E731
            if prime_lr is not None:
                mean = _mean(state)
                population = population.at[0].set(mean - prime_lr * jax.grad(f)(mean))
            fitness = jax.vmap(f)(population)
            state, _ = strategy.tell(tk, population, fitness, state, es_params)
            return state, jnp.min(fitness)

        return SolverImpl(init, step, lambda state: unravel(_mean(state)))

    return build


def cmaes(*, population_size: int = 128):
    """CMA-ES over the flattened parameters (needs evosax; imported when the solver is built).

    ``init(key) = strategy.init(key, mean=theta0, params=default_params)``; a step: ``ak, tk = split(key)``,
    ``ask(ak)`` a population, evaluate ``loss_flat`` of every candidate (``vmap``), ``tell(tk, ...)``. The metric
    is the generation's best (minimum) loss; ``get_params`` is the unflattened distribution mean.
    """
    return _cma(population_size, None)


def primed_cmaes(*, population_size: int = 128, prime_lr: float = 0.1):
    """:func:`cmaes` with candidate 0 replaced, before evaluation, by ``mean - prime_lr * grad loss_flat(mean)``
    (the surrogate gradient at the mean), so the search always contains the gradient step."""
    return _cma(population_size, float(prime_lr))
