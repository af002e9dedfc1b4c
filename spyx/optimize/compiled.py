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
from spyx.optimize.solver import Solver, SolverImpl, backprop
from spyx.sharding import DATA, check_mesh, place, replicated, shard_batch

__all__ = ["compile_fit", "training_program"]


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
    mesh: jax.sharding.Mesh | None = None,
    batch_axis: Any = 0,
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
        mesh: keyword-only, an extra of this implementation (``docs/scaling.md``): a
            :class:`jax.sharding.Mesh` with a ``"data"`` axis (:func:`spyx.optimize.make_mesh`). The model's
            state and the key are replicated over it, every ``train_data`` / ``eval_data`` leaf is split over
            its ``"data"`` axis along ``batch_axis`` (counted within one batch, after the leading
            ``n_batches`` axis), and the program's outputs are replicated. It is the same program: XLA
            partitions each step over the devices and all-reduces the gradient, so the results equal those
            without a mesh up to float rounding. ``None``: nothing is placed (Spyx 1.0's behaviour).
        batch_axis: keyword-only, used with ``mesh``: an int for every leaf, ``None`` (replicate), or a tree
            prefix of ``train_data`` (``(1, 0)`` for ``(X [n, T, B, C], Y [n, B])``).

    Returns:
        ``(new_model, history)``: ``new_model = nnx.merge(graphdef, final params, rest)``, a new module; and
        ``history = {"train_loss": float array (epochs,)}`` plus ``"eval_metric": (epochs,)`` when
        ``eval_data`` was given.

    Raises:
        spyx.errors.ArgumentError: (a ``ValueError``) "metric_fn is required when eval_data is given"; with a
            mesh, a mesh without a ``"data"`` axis or a batch size its ``"data"`` axis does not divide.
    """
    if eval_data is not None and metric_fn is None:
        raise ArgumentError("metric_fn is required when eval_data is given")

    graphdef, params0, rest = nnx.split(model, nnx.Param, ...)
    jit_kw = {}
    if mesh is not None:
        mesh = check_mesh(mesh, where="compile_fit()", needs=(DATA,))
        params0, rest = place((params0, rest), replicated(mesh))
        train_data = shard_batch(mesh, train_data, batch_axis, lead=1, where="compile_fit(): train_data")
        eval_data = shard_batch(mesh, eval_data, batch_axis, lead=1, where="compile_fit(): eval_data")
        key = None if key is None else place(key, replicated(mesh))
        jit_kw["out_shardings"] = replicated(mesh)

    if isinstance(solver, optax.GradientTransformation):
        solver = backprop(solver)
    impl = solver(_flat_loss(loss_fn, graphdef, rest), params0)
    program = training_program(impl, epochs, _evaluator(metric_fn, graphdef, rest))
    params, history = jax.jit(program, **jit_kw)(key, train_data, eval_data)
    return nnx.merge(graphdef, params, rest), history


def _flat_loss(loss_fn, graphdef, rest):
    def loss_flat(params, batch):
        return loss_fn(nnx.merge(graphdef, params, rest), *batch)

    return loss_flat


def _evaluator(metric_fn, graphdef, rest):
    def evaluate(params, data):
        trained = nnx.merge(graphdef, params, rest)
        return jnp.mean(jax.vmap(lambda *batch: metric_fn(trained, *batch))(*data))

    return evaluate


def training_program(impl: SolverImpl, epochs: int, evaluate: Callable[[Any, tuple], jax.Array]) -> Callable:
    """The pure function ``(key, train_data, eval_data) -> (params, history)`` of one training run (step 4 of
    :func:`compile_fit`), for ``jax.jit`` as it is or under ``jax.vmap`` (:func:`spyx.optimize.sweep`).

    ``evaluate(params, eval_data) -> scalar`` is called once per epoch when ``eval_data`` is not None.
    """

    def compile_fit_program(key, train_data, eval_data):  # the name profiles and compile logs show
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

    return compile_fit_program
