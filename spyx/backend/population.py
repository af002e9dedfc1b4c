r"""Population inference of a compiled :class:`~spyx.backend.program.Program`: ``P`` parameter sets at once.

``run_population(program, params, inputs)`` is ``jax.vmap(program.run, in_axes=(0, None))``: every member
(one parameter pytree, stacked on a leading axis) runs the same time-major inputs. With a mesh the member
axis is split over the mesh's ``"population"`` axis and the batch over its ``"data"`` axis; members never
communicate, so each device runs its own members and the results equal the single-device run. This is the
fitness evaluation of neuroevolution and the forward pass of a hyper-parameter or seed sweep on an imported
NIR graph. :func:`stack_params` and :func:`perturb_params` make stacked parameters from one set.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from spyx.backend.program import Program
from spyx.errors import ArgumentError
from spyx.sharding import DATA, POPULATION, check_mesh, shard_batch, shard_population

__all__ = ["perturb_params", "run_population", "stack_params"]


def stack_params(params: Any, n: int) -> Any:
    """``n`` copies of ``params`` stacked on a new leading axis (every leaf ``(n, *shape)``)."""
    _check_size(n)
    return _perturb(params, jax.random.PRNGKey(0), jnp.float32(0), n)  # sigma 0: copies


def perturb_params(params: Any, n: int, *, sigma: float, key: jax.Array) -> Any:
    r"""``n`` members around ``params``: member 0 is ``params``; member ``i > 0`` has every float leaf
    ``w_i = w (1 + sigma eps_i)``, ``eps_i ~ N(0, 1)`` elementwise (a relative perturbation: zeros, signs and
    orders of magnitude of weights, decays and thresholds are kept up to ``sigma``). Integer leaves are copied.

    Raises:
        spyx.errors.ArgumentError: ``n < 1`` or a negative or non-finite ``sigma``.
    """
    _check_size(n)
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ArgumentError(f"perturb_params(sigma=...) must be a finite number >= 0, got {sigma!r}")
    return _perturb(params, key, jnp.float32(sigma), n)


@functools.partial(jax.jit, static_argnums=3)  # one program for the whole tree (eager ops compile one by one)
def _perturb(params, key, sigma, n):
    leaves, treedef = jax.tree.flatten(params)
    floats = [i for i, leaf in enumerate(leaves) if jnp.issubdtype(leaf.dtype, jnp.floating)]
    sizes = [leaves[i].size for i in floats]
    # one draw for all float leaves, cut into pieces: a draw per leaf costs a threefry program each to compile
    eps = jax.random.normal(key, (n - 1, sum(sizes)), jnp.float32)
    offsets = np.cumsum([0, *sizes])
    out = [jnp.broadcast_to(leaf, (n, *leaf.shape)) for leaf in leaves]
    for j, i in enumerate(floats):
        leaf = leaves[i]
        piece = eps[:, offsets[j]:offsets[j + 1]].reshape(n - 1, *leaf.shape).astype(leaf.dtype)
        noise = jnp.concatenate([jnp.zeros((1, *leaf.shape), leaf.dtype), piece])
        out[i] = out[i] * (1 + sigma.astype(leaf.dtype) * noise)
    return jax.tree.unflatten(treedef, out)


def run_population(program: Program, params: Any, inputs: Any, *, mesh: jax.sharding.Mesh | None = None,
                   traced: bool = False) -> tuple[Any, ...]:
    """Run every member of ``params`` on the same ``inputs``.

    Args:
        program: a compiled program (:func:`spyx.compile`).
        params: ``program.params``'s structure with a leading member axis ``P`` on every leaf
            (:func:`stack_params`, :func:`perturb_params`, or trained parameters stacked by a sweep).
        inputs: time-major ``(T, B, *shape)`` (a dict by input name for several inputs), shared by all members.
        mesh: optional :class:`jax.sharding.Mesh` with a ``"population"`` and/or ``"data"`` axis
            (:func:`spyx.sharding.make_mesh`): members split over ``"population"`` (``P`` a multiple of its
            size), the batch (axis 1) over ``"data"``; outputs ``(P, T, B, ...)`` come back split the same way.
        traced: also return neuron traces (``program.run_traced``).

    Returns:
        ``(outputs, final_state)`` (and ``traces`` when ``traced``), each leaf with the leading axis ``P``:
        outputs ``(P, T, B, *shape)`` (a dict by Output name for several outputs).

    Raises:
        spyx.errors.ArgumentError: ``params`` without a shared leading axis, a structure other than
            ``program.params``'s, or a mesh that does not divide ``P`` or the batch.
        spyx.errors.InputError: inputs of the wrong shape (from :meth:`Program.run`).
    """
    _check_params(program, params)
    if mesh is not None:
        mesh = check_mesh(mesh, where="run_population()")
        params = shard_population(mesh, params, where="params")
        inputs = shard_batch(mesh, inputs, 1, where="inputs")  # time-major: the batch is axis 1
    return _compiled(program, mesh, traced)(params, inputs)


@functools.lru_cache(maxsize=16)
def _compiled(program: Program, mesh: jax.sharding.Mesh | None, traced: bool):
    """One jitted function per (program, mesh, traced), so repeated calls compile once per input shape."""
    batched = jax.vmap(program.run_traced if traced else program.run, in_axes=(0, None))
    if mesh is None:
        return jax.jit(batched)
    pop = POPULATION if POPULATION in mesh.axis_names else None
    data = DATA if DATA in mesh.axis_names else None

    def constrained(params, inputs):
        result = batched(params, inputs)
        outs = jax.tree.map(lambda x: _on(mesh, x, pop, 2, data), result[0])  # (P, T, B, ...)
        state = {n: {k: _on(mesh, v, pop, 2 if k == "buf" else 1, data) for k, v in s.items()}
                 for n, s in result[1].items()}  # (P, B, ...); a shift's buf is (P, depth, B, ...)
        return (outs, state, *result[2:])

    return jax.jit(constrained)


def _on(mesh, x, pop, batch_axis, data):
    spec = [None] * x.ndim
    spec[0] = pop
    if x.ndim > batch_axis:
        spec[batch_axis] = data
    return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, PartitionSpec(*spec)))


def _check_size(n: Any) -> None:
    if not (isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 1):
        raise ArgumentError(f"the population size must be an integer >= 1, got {n!r}")


def _check_params(program: Program, params: Any) -> None:
    if not isinstance(params, Mapping) or jax.tree.structure(params) != jax.tree.structure(program.params):
        raise ArgumentError("run_population(params=...) must have program.params's structure (node -> name -> "
                            "array) with a leading member axis on every leaf")
    if not jax.tree.leaves(program.params):
        raise ArgumentError("run_population: the program has no parameters, so its members cannot differ; "
                            "run it once with program.run")
    sizes = set()
    for node, entries in params.items():
        for name, value in entries.items():
            want = tuple(np.shape(program.params[node][name]))
            got = tuple(np.shape(value))
            if got[1:] != want or not got:
                raise ArgumentError(f"run_population: params[{node!r}][{name!r}] has shape {got}; expected "
                                    f"(P, {', '.join(map(str, want))}) with P members")
            sizes.add(got[0])
    if len(sizes) > 1:
        raise ArgumentError(f"run_population: params leaves disagree on the number of members: {sorted(sizes)}")
