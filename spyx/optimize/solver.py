"""The solver protocol of :func:`spyx.optimize.compile_fit` and its gradient-descent solver ``backprop``.

A :data:`Solver` is a builder ``(loss_flat, params0) -> SolverImpl``. ``compile_fit`` calls it once, outside
the compiled program, with ``loss_flat(params, batch_tuple) -> scalar`` (the loss of the model rebuilt from
``params``) and the model's initial ``nnx.Param`` state ``params0``. The three functions of the
:class:`SolverImpl` it returns are then traced into the one compiled training program, so they must be pure
JAX functions. Gradient descent (:func:`backprop`) and gradient-free ask/tell strategies (evolution
strategies, CMA-ES) share this protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import optax

__all__ = ["SolverImpl", "Solver", "backprop"]


class SolverImpl(NamedTuple):
    """The three pure functions a solver gives :func:`spyx.optimize.compile_fit`, in this field order.

    Attributes:
        init: ``init(key) -> state``, the solver state at the start of training.
        step: ``step(state, batch_tuple, key) -> (state, metric)``, one update on one batch; ``metric`` is
            a scalar that ``compile_fit`` averages per epoch into ``history["train_loss"]``.
        get_params: ``get_params(state) -> params``, the current point estimate as an ``nnx.State`` of
            ``nnx.Param`` (the distribution mean for ask/tell strategies).
    """

    init: Callable[[jax.Array], Any]
    step: Callable[[Any, tuple, jax.Array], tuple[Any, jax.Array]]
    get_params: Callable[[Any], Any]


Solver = Callable[[Callable[[Any, tuple], jax.Array], Any], SolverImpl]
"""A builder ``(loss_flat, params0) -> SolverImpl``; ``loss_flat(params, batch_tuple) -> scalar``."""


def backprop(tx: optax.GradientTransformation) -> Solver:
    """Gradient descent with an optax transformation, as a :data:`Solver`.

    State ``(params, opt_state)`` with ``opt_state = tx.init(params0)``. One step on ``batch``:

    1. ``loss, grads = jax.value_and_grad(loss_flat)(params, batch)``;
    2. ``updates, opt_state = tx.update(grads, opt_state, params)``;
    3. ``params = optax.apply_updates(params, updates)``.

    The step's metric is ``loss`` at the parameters **before** the update; the key is not used.
    ``get_params(state) = state[0]``. ``compile_fit`` wraps a bare ``GradientTransformation`` in this.
    """

    def build(loss_flat: Callable[[Any, tuple], jax.Array], params0: Any) -> SolverImpl:
        def init(key):
            del key
            return params0, tx.init(params0)

        def step(state, batch, key):
            del key
            params, opt_state = state
            loss, grads = jax.value_and_grad(loss_flat)(params, batch)
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        def get_params(state):
            return state[0]

        return SolverImpl(init, step, get_params)

    return build
