r"""Where arrays live on a device mesh: the mesh spyx trains and runs populations on, and placing pytrees on it.

spyx does not schedule work across devices itself. It puts arrays on a :class:`jax.sharding.Mesh` with
:class:`~jax.sharding.NamedSharding`\ s and lets XLA (GSPMD) partition the compiled program: an operation on a
batch split over devices runs on each device's part, and a sum over the batch (the mean loss, hence the
gradient) becomes an all-reduce. The same program therefore runs on one device or many; only the placement of
its inputs differs.

A spyx mesh has two named axes (either may have size 1):

* ``"population"`` (:data:`POPULATION`): independent members (parameter sets, seeds, hyper-parameters) of a
  :func:`spyx.optimize.sweep` or :func:`spyx.backend.run_population`; each device holds
  ``P / mesh.shape["population"]`` members, and nothing is communicated between members.
* ``"data"`` (:data:`DATA`): the batch axis of every data leaf; each device holds
  ``B / mesh.shape["data"]`` samples, parameters are replicated, and gradients are all-reduced.

Values are global: every process of a multi-host run (``jax.distributed.initialize``) passes the same full
arrays, and each places the part its devices hold (``jax.make_array_from_process_local_data`` with the global
shape; with one process it is ``jax.device_put``). A leaf that is already a ``jax.Array`` with the target
sharding is used as it is, which is how a per-host input pipeline hands over its own global arrays.
See ``docs/scaling.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from spyx.errors import ArgumentError

__all__ = [
    "DATA",
    "POPULATION",
    "axis_size",
    "check_mesh",
    "make_mesh",
    "place",
    "replicated",
    "shard_batch",
    "shard_population",
]

POPULATION = "population"
DATA = "data"
_AXES = (POPULATION, DATA)


def make_mesh(*, population: int = 1, data: int | None = None, devices: Sequence[Any] | None = None) -> Mesh:
    """A ``(population, data)`` mesh over ``devices`` (default: every device of every process).

    ``data=None`` takes the devices ``population`` leaves: ``len(devices) // population``. So ``make_mesh()``
    is pure data parallelism over all devices and ``make_mesh(population=jax.device_count())`` a population
    split over all of them. When ``population * data`` is smaller than the number of devices, the first
    ``population * data`` are used. The device order is ``jax.make_mesh``'s (topology aware on TPU/GPU); the
    axes are ``AxisType.Auto``, i.e. XLA's sharding propagation decides the layout of intermediate values.

    Raises:
        spyx.errors.ArgumentError: a size below 1, or more devices asked for than there are.
    """
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ArgumentError("make_mesh(devices=...): no devices given")
    if not (isinstance(population, int) and population >= 1):
        raise ArgumentError(f"make_mesh(population=...) must be an integer >= 1, got {population!r}")
    if data is None:
        data = len(devices) // population
        if data < 1:
            raise ArgumentError(f"make_mesh(population={population}) needs at least {population} devices; "
                                f"there are {len(devices)}")
    if not (isinstance(data, int) and data >= 1):
        raise ArgumentError(f"make_mesh(data=...) must be an integer >= 1 or None, got {data!r}")
    if population * data > len(devices):
        raise ArgumentError(f"make_mesh(population={population}, data={data}) needs {population * data} devices; "
                            f"there are {len(devices)} (lower population or data)")
    return jax.make_mesh((population, data), _AXES, axis_types=(AxisType.Auto, AxisType.Auto),
                         devices=devices[: population * data])


def check_mesh(mesh: Any, *, where: str, needs: Sequence[str] = ()) -> Mesh:
    """``mesh`` as spyx uses it: a :class:`~jax.sharding.Mesh` whose axes are all ``Auto``.

    A mesh built with explicit axes (``jax.make_mesh``'s default) is rebuilt over the same devices and names
    with ``Auto`` axes: spyx places inputs and lets XLA propagate shardings, which explicit axes would turn
    into type errors inside user loss functions. Axes other than ``"population"`` and ``"data"`` are allowed;
    arrays are replicated over them.

    Raises:
        spyx.errors.ArgumentError: not a Mesh, or without one of the axes in ``needs`` (``where`` names the
            function and argument).
    """
    if not isinstance(mesh, Mesh):
        raise ArgumentError(f"{where}: mesh must be a jax.sharding.Mesh (e.g. spyx.optimize.make_mesh()), "
                            f"got {type(mesh).__name__}")
    missing = [a for a in needs if a not in mesh.axis_names]
    if missing:
        raise ArgumentError(f"{where}: mesh axes are {tuple(mesh.axis_names)}; this needs an axis named "
                            f"{' and '.join(repr(a) for a in missing)} (build one with spyx.optimize.make_mesh)")
    if all(t == AxisType.Auto for t in mesh.axis_types):
        return mesh
    return Mesh(mesh.devices, mesh.axis_names, axis_types=(AxisType.Auto,) * len(mesh.axis_names))


def axis_size(mesh: Mesh, axis: str) -> int:
    """The size of ``axis`` in ``mesh``; 1 when the mesh has no such axis (nothing is split over it)."""
    return int(mesh.shape[axis]) if axis in mesh.axis_names else 1


def replicated(mesh: Mesh) -> NamedSharding:
    """Every device holds the whole array."""
    return NamedSharding(mesh, PartitionSpec())


def place(tree: Any, shardings: Any) -> Any:
    """Every leaf of ``tree`` on its sharding (``shardings``: one sharding, or a tree prefix of ``tree``).

    Leaves are global values (see the module docstring); a ``jax.Array`` already on its sharding is kept.
    """
    return jax.tree.map(_put, jax.tree.broadcast(shardings, tree), tree)


def _put(sharding: NamedSharding, x: Any) -> jax.Array:
    if isinstance(x, jax.Array) and x.sharding.is_equivalent_to(sharding, x.ndim):
        return x
    if not isinstance(x, jax.Array):
        x = np.asarray(x)
    return jax.make_array_from_process_local_data(sharding, x, tuple(x.shape))


def shard_batch(mesh: Mesh, tree: Any, batch_axis: Any = 0, *, lead: int = 0, where: str = "batch") -> Any:
    """Place ``tree`` with the batch axis of every leaf split over the mesh's ``"data"`` axis.

    ``batch_axis`` is an int (the same for every leaf), ``None`` (replicate), or a tree prefix of ``tree`` of
    ints / ``None`` (``(1, 0)`` for a ``(x (T, B, C), y (B,))`` batch). It counts within one batch; ``lead``
    axes come before it in every leaf (1 for ``compile_fit``'s staged ``[n_batches, ...]`` data), and are not
    split. 0-d leaves are replicated. Without a ``"data"`` axis everything is replicated.

    Raises:
        spyx.errors.ArgumentError: a batch axis out of range for a leaf, or a batch size that the ``"data"``
            axis does not divide (``where`` names the argument; the message gives the leaf and the sizes).
    """
    if not jax.tree.leaves(tree):  # eval_data=None, an empty tuple
        return tree
    n = axis_size(mesh, DATA)
    axes = jax.tree.broadcast(batch_axis, tree, is_leaf=lambda a: a is None)
    paths = jax.tree_util.tree_flatten_with_path(tree)[0]
    flat_axes = jax.tree.leaves(axes, is_leaf=lambda a: a is None)
    shardings = []
    for (path, leaf), axis in zip(paths, flat_axes, strict=True):
        shardings.append(_batch_sharding(mesh, leaf, axis, lead, n, f"{where}{jax.tree_util.keystr(path)}"))
    return place(tree, jax.tree.unflatten(jax.tree.structure(tree), shardings))


def _batch_sharding(mesh: Mesh, leaf: Any, axis: Any, lead: int, n: int, name: str) -> NamedSharding:
    ndim = np.ndim(leaf)
    if axis is None or ndim == 0 or DATA not in mesh.axis_names:
        return replicated(mesh)
    if not isinstance(axis, int | np.integer) or isinstance(axis, bool):
        raise ArgumentError(f"batch_axis for {name} must be an int or None, got {axis!r}")
    inner = ndim - lead
    if not -inner <= axis < inner:
        raise ArgumentError(f"batch_axis {axis} is out of range for {name} of shape {tuple(np.shape(leaf))} "
                            f"({inner} axes per batch)")
    axis = lead + axis % inner
    size = np.shape(leaf)[axis]
    if size % n:
        raise ArgumentError(f"{name}: batch axis {axis} has size {size}, which the mesh's 'data' axis of {n} "
                            f"devices does not divide; use a batch size that is a multiple of {n}")
    spec = [None] * ndim
    spec[axis] = DATA
    return NamedSharding(mesh, PartitionSpec(*spec))


def shard_population(mesh: Mesh, tree: Any, *, where: str = "population") -> Any:
    """Place ``tree`` with the leading (population) axis of every leaf split over the ``"population"`` axis.

    Raises:
        spyx.errors.ArgumentError: a 0-d leaf, or a population size that the ``"population"`` axis does not
            divide.
    """
    n = axis_size(mesh, POPULATION)
    spec = PartitionSpec(POPULATION) if POPULATION in mesh.axis_names else PartitionSpec()

    def sharding(path, leaf):
        shape = tuple(np.shape(leaf))
        name = f"{where}{jax.tree_util.keystr(path)}"
        if not shape:
            raise ArgumentError(f"{name} is 0-d; every leaf of a population has a leading population axis")
        if shape[0] % n:
            raise ArgumentError(f"{name}: population of {shape[0]} members, which the mesh's 'population' axis "
                                f"of {n} devices does not divide; use a multiple of {n} members")
        return NamedSharding(mesh, spec)

    return place(tree, jax.tree_util.tree_map_with_path(sharding, tree))
