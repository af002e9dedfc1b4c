r"""``compile_fit``: the whole training run (epochs x batches, and evaluation) as one compiled XLA program.

Where :func:`spyx.optimize.fit` is a Python loop calling a compiled step per batch, ``compile_fit`` stages
the data on the device and traces the entire run into a single ``jax.jit`` program: one compilation and one
device dispatch per call, with no Python between steps. The update rule is a :data:`~spyx.optimize.Solver`,
so gradient descent (:func:`~spyx.optimize.backprop`, or a bare optax transformation) and gradient-free
strategies (``spyx.experimental.evolve``) share the same loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from spyx.errors import ArgumentError
from spyx.optimize.solver import Solver, backprop

__all__ = ["compile_fit"]


def compile_fit(
    model: nnx.Module,
    solver: Solver | optax.GradientTransformation,
    loss_fn: Callable[..., jax.Array],
    train_data: tuple[Any, ...],
    *,
    epochs: int,
    eval_data: tuple[Any, ...] | None = None,
    metric_fn: Callable[..., jax.Array] | None = None,
    key: jax.Array | None = None,
) -> tuple[nnx.Module, dict[str, jax.Array]]:
    r"""Train a copy of ``model`` for ``epochs`` passes over staged batches, in one compiled program.

    1. ``eval_data`` without ``metric_fn`` raises (checked before anything else).
    2. ``graphdef, params0, rest = nnx.split(model, nnx.Param, ...)``; ``rest`` (every non-``Param`` variable)
       stays frozen for the whole run, and ``loss_flat(p, batch) = loss_fn(nnx.merge(graphdef, p, rest),
       *batch)``.
    3. An optax ``GradientTransformation`` given as ``solver`` is replaced by ``backprop(solver)``; the solver
       is built once, ``impl = solver(loss_flat, params0)``.
    4. One ``jax.jit`` program of the whole run, taking ``key`` (default ``jax.random.PRNGKey(0)``, made
       inside the program) and the data as arguments: ``k_init, k_run = split(key)``,
       ``state = impl.init(k_init)``; a ``lax.scan`` over ``epochs``, each a ``lax.scan`` over the leading
       axis of ``train_data`` in which every step does ``key, sub = split(key)``,
       ``state, metric = impl.step(state, batch, sub)``. Per epoch it records ``train_loss = mean(metrics)``
       and, with ``eval_data``, ``eval_metric = mean_i metric_fn(model_e, *eval_batch_i)`` (``jax.vmap`` over
       the leading axis of ``eval_data``) where ``model_e`` is rebuilt from ``impl.get_params(state)``.

    Args:
        model: the NNX module to train. It is **not** changed; the trained model is returned.
        solver: a :data:`~spyx.optimize.Solver` builder, or an optax ``GradientTransformation``.
        loss_fn: ``(model, *batch) -> scalar``.
        train_data: a tuple ``(X, Y, ...)`` of arrays or pytrees, every leaf ``[n_batches, batch, ...]``;
            one step per index of the leading axis, in order, every epoch.
        epochs: number of passes over ``train_data``.
        eval_data: optional, staged like ``train_data``; evaluated at the end of every epoch.
        metric_fn: ``(model, *batch) -> scalar`` (e.g. ``lambda m, x, y: acc(run(m, x)[0], y)[0]``);
            required with ``eval_data``.
        key: PRNG key threaded through ``impl.init`` and ``impl.step`` (evolution strategies, dropout).

    Returns:
        ``(new_model, history)``: ``new_model = nnx.merge(graphdef, final params, rest)``, a new module; and
        ``history = {"train_loss": float array (epochs,)}`` plus ``"eval_metric": (epochs,)`` when
        ``eval_data`` was given.

    Raises:
        spyx.errors.ArgumentError: (a ``ValueError``) "metric_fn is required when eval_data is given".
    """
    if eval_data is not None and metric_fn is None:
        raise ArgumentError("metric_fn is required when eval_data is given")

    graphdef, params0, rest = nnx.split(model, nnx.Param, ...)

    def loss_flat(params, batch):
        return loss_fn(nnx.merge(graphdef, params, rest), *batch)

    if isinstance(solver, optax.GradientTransformation):
        solver = backprop(solver)
    impl = solver(loss_flat, params0)

    def evaluate(params, data):
        trained = nnx.merge(graphdef, params, rest)
        return jnp.mean(jax.vmap(lambda *batch: metric_fn(trained, *batch))(*data))

    def compile_fit_program(key, train_data, eval_data):
        if key is None:
            key = jax.random.PRNGKey(0)
        k_init, k_run = jax.random.split(key)

        def train_step(carry, batch):
            state, key = carry
            key, sub = jax.random.split(key)
            state, metric = impl.step(state, batch, sub)
            return (state, key), metric

        def epoch(carry, _):
            carry, metrics = jax.lax.scan(train_step, carry, train_data)
            record = {"train_loss": jnp.mean(metrics)}
            if eval_data is not None:
                record["eval_metric"] = evaluate(impl.get_params(carry[0]), eval_data)
            return carry, record

        (state, _), history = jax.lax.scan(epoch, (impl.init(k_init), k_run), None, length=epochs)
        return impl.get_params(state), history

    params, history = jax.jit(compile_fit_program)(key, train_data, eval_data)
    return nnx.merge(graphdef, params, rest), history
