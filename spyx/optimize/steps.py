"""Single compiled training and evaluation steps (``make_train_step``, ``make_eval_step``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
from flax import nnx

from spyx.sharding import replicated

__all__ = ["make_train_step", "make_eval_step"]


def make_train_step(loss_fn: Callable[..., jax.Array], *, mesh: jax.sharding.Mesh | None = None,
                    graph: bool | None = None) -> Callable[..., jax.Array]:
    """Build ``step(model, optimizer, *args) -> loss``, compiled with ``nnx.jit``.

    One step, in this order: ``loss, grads = nnx.value_and_grad(m -> loss_fn(m, *args))(model)`` (gradients
    with respect to the model's ``nnx.Param`` leaves), then ``optimizer.update(model, grads)``. ``model`` and
    ``optimizer`` (an ``nnx.Optimizer(model, tx, wrt=nnx.Param)``) are updated in place; the returned loss is
    the one computed **before** the update.

    Args:
        loss_fn: ``(model, *args) -> scalar``, e.g. a closure around ``spyx.fn.integral_crossentropy()``.
        mesh: keyword-only, an extra of this implementation (data parallelism, ``docs/scaling.md``). With a
            mesh, the model's and the optimizer's new state are constrained to be replicated over it, so a
            batch split over the mesh's ``"data"`` axis gives gradients reduced by an XLA all-reduce and
            parameters that stay identical on every device. The caller places model, optimizer and batch
            (:func:`spyx.optimize.fit` does).
        graph: keyword-only, an extra: ``nnx.jit``'s ``graph`` (``None``: flax's default, graph mode, as Spyx 1.0).
            ``False`` is flax's tree mode, which flattens the model and optimizer as pytrees on each call instead
            of walking their object graph: on an H200 the SHD-shape train step took 1.45 instead of 2.25 ms
            (``benchmarks/README.md``), the same numbers. Tree mode refuses a model that holds one object in two
            places.
    """

    def step(model, optimizer, *args):
        loss, grads = nnx.value_and_grad(lambda m: loss_fn(m, *args))(model)
        optimizer.update(model, grads)
        if mesh is not None:
            for obj in (model, optimizer):
                nnx.update(obj, jax.lax.with_sharding_constraint(nnx.state(obj), replicated(mesh)))
        return loss

    return nnx.jit(step, graph=graph)


def make_eval_step(metric_fn: Callable[..., Any], *, graph: bool | None = None) -> Callable[..., Any]:
    """Build ``step(model, *args) = metric_fn(model, *args)``, compiled with ``nnx.jit``.

    ``metric_fn`` conventionally returns ``(accuracy, loss)`` (what :func:`spyx.optimize.fit` expects of its
    ``eval_fn``); the step returns whatever it returns and does not change the model. ``graph``: as in
    :func:`make_train_step`.
    """

    def step(model, *args):
        return metric_fn(model, *args)

    return nnx.jit(step, graph=graph)
