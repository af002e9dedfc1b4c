r"""``sweep``: train a population of models at once, ``jax.vmap`` of :func:`compile_fit`'s program.

A population is one NNX module whose every state leaf has a leading axis of ``P`` members (a *stacked*
module): :func:`stack` builds one from ``P`` modules of the same structure, ``nnx.vmap`` over a constructor
builds one without making ``P`` Python objects, and :func:`unstack` gives the members back. The members
differ in their initial parameters (seeds), in their per-member PRNG keys (evolution strategies, dropout)
and, with ``hparams``, in the solver's hyper-parameters; they share the training data. With a mesh the
population axis is split over the mesh's ``"population"`` axis (no communication between members) and each
batch over its ``"data"`` axis (gradients all-reduced within a member): the same program on 1 or N devices.
See ``docs/scaling.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec

from spyx.errors import ArgumentError
from spyx.optimize.compiled import _evaluator, _flat_loss, training_program
from spyx.optimize.solver import Solver, backprop
from spyx.sharding import DATA, POPULATION, check_mesh, shard_batch, shard_population

__all__ = ["stack", "unstack", "population_size", "sweep"]


def stack(models: Sequence[nnx.Module]) -> nnx.Module:
    """One module whose state leaves are those of ``models`` stacked on a new leading axis.

    Raises:
        spyx.errors.ArgumentError: no models, or a model whose structure (layers, static attributes such as a
            Python-float ``beta``, leaf shapes) differs from the first one's.
    """
    models = list(models)
    if not models:
        raise ArgumentError("stack(): no models given")
    graphdef, first = nnx.split(models[0])
    states = [first]
    for i, m in enumerate(models[1:], start=1):
        g, s = nnx.split(m)
        if g != graphdef or jax.tree.structure(s) != jax.tree.structure(first):
            raise ArgumentError(f"stack(): model {i} ({type(m).__name__}) differs in structure from model 0 "
                                f"({type(models[0]).__name__}); a population needs models built the same way")
        shapes = [np.shape(x) for x in jax.tree.leaves(s)]
        if shapes != [np.shape(x) for x in jax.tree.leaves(first)]:
            raise ArgumentError(f"stack(): model {i} has leaf shapes {shapes}, model 0 "
                                f"{[np.shape(x) for x in jax.tree.leaves(first)]}")
        states.append(s)
    return nnx.merge(graphdef, jax.tree.map(lambda *xs: jnp.stack(xs), *states))


def population_size(population: nnx.Module) -> int:
    """``P``, the leading axis every state leaf of a stacked module shares.

    Raises:
        spyx.errors.ArgumentError: a module without state, a 0-d leaf, or leaves that disagree (the message
            names the first leaf that differs).
    """
    leaves = jax.tree_util.tree_flatten_with_path(nnx.state(population))[0]
    if not leaves:
        raise ArgumentError(f"population: {type(population).__name__} has no state to stack members on")
    sizes = {}
    for path, leaf in leaves:
        shape = np.shape(leaf)
        name = jax.tree_util.keystr(path)
        if not shape:
            raise ArgumentError(f"population: leaf {name} is 0-d; a stacked module has a leading population axis "
                                "on every leaf (use spyx.optimize.stack or nnx.vmap to build one)")
        sizes.setdefault(shape[0], name)
    if len(sizes) > 1:
        (p, first), (q, other) = list(sizes.items())[:2]
        raise ArgumentError(f"population: leaves disagree on the population size: {first} has {p} members, "
                            f"{other} {q} (use spyx.optimize.stack or nnx.vmap to build a population)")
    return next(iter(sizes))


def unstack(population: nnx.Module) -> list[nnx.Module]:
    """The ``P`` members of a stacked module, as separate modules (copies)."""
    n = population_size(population)
    graphdef, state = nnx.split(population)
    return [nnx.merge(graphdef, jax.tree.map(lambda x, i=i: x[i], state)) for i in range(n)]


def sweep(
    population: nnx.Module | Sequence[nnx.Module],
    solver: Solver | optax.GradientTransformation | Callable[[Any], Any],
    loss_fn: Callable[..., jax.Array],
    train_data: tuple[Any, ...],
    *,
    epochs: int,
    hparams: Any = None,
    key: jax.Array | None = None,
    eval_data: tuple[Any, ...] | None = None,
    metric_fn: Callable[..., jax.Array] | None = None,
    mesh: jax.sharding.Mesh | None = None,
    batch_axis: Any = 0,
) -> tuple[nnx.Module, dict[str, jax.Array]]:
    r"""Train every member of ``population`` as :func:`compile_fit` would, all in one compiled program.

    Member ``i`` gets exactly :func:`compile_fit`'s run (same steps, order and evaluation; its docstring)
    with: its own initial state ``state_i`` (``nnx.Param`` leaves trained, the rest frozen), the solver
    ``solver`` (or ``solver(hparams_i)`` when ``hparams`` is given; an optax transformation is wrapped in
    :func:`backprop`), and the key ``keys[i]`` where ``keys = jax.random.split(key, P)`` (``key`` default
    ``jax.random.PRNGKey(0)``). Every member sees the same ``train_data`` and ``eval_data``. The program is
    ``jax.jit(jax.vmap(member_run))``, so the solver builder is called inside the traced program with one
    member's parameters (tracers): builders that only use JAX operations on ``params0`` (``backprop``, the
    evolution strategies) work; one that needs concrete values does not.

    1. ``eval_data`` without ``metric_fn`` raises (checked first).
    2. A sequence of modules is stacked (:func:`stack`); ``P`` = :func:`population_size`.
    3. With ``mesh``: every state leaf, the member keys and ``hparams`` are split over the mesh's
       ``"population"`` axis (``P`` must be a multiple of its size), every data leaf over its ``"data"``
       axis along ``batch_axis`` (as in :func:`compile_fit`); the outputs are split over ``"population"``.
       A mesh with only a ``"data"`` axis replicates the population and splits every batch (data
       parallelism within each member); one with only ``"population"`` replicates the data.

    Args:
        population: a stacked module (leading axis ``P`` on every state leaf), or a sequence of modules.
        solver: a :data:`~spyx.optimize.Solver` or an optax transformation; with ``hparams``, a function of
            one member's hyper-parameters returning either (e.g. ``lambda h: optax.adam(h["lr"])``).
        loss_fn: ``(model, *batch) -> scalar``, called with one member.
        train_data: as in :func:`compile_fit`: a tuple, every leaf ``[n_batches, batch, ...]``.
        epochs: passes over ``train_data``.
        hparams: optional pytree whose leaves have a leading axis ``P`` (``{"lr": jnp.logspace(-3, -1, P)}``).
        key: one PRNG key, split into the ``P`` member keys.
        eval_data, metric_fn: as in :func:`compile_fit`.
        mesh: optional :class:`jax.sharding.Mesh` with a ``"population"`` and/or ``"data"`` axis
            (:func:`spyx.optimize.make_mesh`).
        batch_axis: as in :func:`compile_fit`.

    Returns:
        ``(trained, history)``: a new stacked module of the trained members (the rest of each member's state
        as it was), and ``{"train_loss": (P, epochs)}`` plus ``"eval_metric": (P, epochs)`` with
        ``eval_data``.

    Raises:
        spyx.errors.ArgumentError: ``eval_data`` without ``metric_fn``; members that do not stack; ``hparams``
            leaves without the leading axis ``P``; a mesh without either axis or that does not divide ``P``
            or the batch.
    """
    if eval_data is not None and metric_fn is None:
        raise ArgumentError("metric_fn is required when eval_data is given")
    if not isinstance(population, nnx.Module):
        population = stack(population)
    n = population_size(population)
    _check_hparams(hparams, n)
    graphdef, params0, rest = nnx.split(population, nnx.Param, ...)
    keys = jax.random.split(jax.random.PRNGKey(0) if key is None else key, n)

    jit_kw = {}
    if mesh is not None:
        mesh = check_mesh(mesh, where="sweep()")
        if POPULATION not in mesh.axis_names and DATA not in mesh.axis_names:
            raise ArgumentError(f"sweep(): mesh axes are {tuple(mesh.axis_names)}; it needs a 'population' or "
                                "a 'data' axis (build one with spyx.optimize.make_mesh)")
        params0, rest, keys, hparams = shard_population(mesh, (params0, rest, keys, hparams), where="population")
        train_data = shard_batch(mesh, train_data, batch_axis, lead=1, where="sweep(): train_data")
        eval_data = shard_batch(mesh, eval_data, batch_axis, lead=1, where="sweep(): eval_data")
        spec = PartitionSpec(POPULATION) if POPULATION in mesh.axis_names else PartitionSpec()
        jit_kw["out_shardings"] = NamedSharding(mesh, spec)

    def member_run(params0, rest, hp, key, train_data, eval_data):
        member_solver = solver if hparams is None else solver(hp)
        if isinstance(member_solver, optax.GradientTransformation):
            member_solver = backprop(member_solver)
        impl = member_solver(_flat_loss(loss_fn, graphdef, rest), params0)
        return training_program(impl, epochs, _evaluator(metric_fn, graphdef, rest))(key, train_data, eval_data)

    in_axes = (0, 0, None if hparams is None else 0, 0, None, None)
    run = jax.jit(jax.vmap(member_run, in_axes=in_axes), **jit_kw)
    params, history = run(params0, rest, hparams, keys, train_data, eval_data)
    return nnx.merge(graphdef, params, rest), history


def _check_hparams(hparams: Any, n: int) -> None:
    for path, leaf in jax.tree_util.tree_flatten_with_path(hparams)[0]:
        shape = np.shape(leaf)
        if not shape or shape[0] != n:
            raise ArgumentError(f"hparams{jax.tree_util.keystr(path)} has shape {shape}; every hparams leaf needs "
                                f"a leading axis of the population size {n}")
