"""``fit``: the Python epoch loop over a per-step compiled update, with a progress bar per epoch."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from tqdm import tqdm

from spyx.errors import EmptyDataError
from spyx.optimize.steps import make_eval_step, make_train_step
from spyx.sharding import DATA, check_mesh, place, replicated, shard_batch

__all__ = ["History", "fit"]

History = list[dict[str, float]]
"""What :func:`fit` returns: one ``{"train_loss": ..., ["eval_acc": ..., "eval_loss": ...]}`` per epoch."""

_POSTFIX_EVERY_S = 0.5  # how often the bar reads the latest loss back from the device (a sync) while training


def _as_args(batch: Any) -> tuple:
    """A tuple batch (including namedtuples such as ``spyx.data.State``) is splatted; anything else (a list, a
    dict, an array) is passed as one argument."""
    return batch if isinstance(batch, tuple) else (batch,)


def _no_placement(batch: Any, kind: str) -> Any:
    del kind
    return batch


def _length(batches: Iterable) -> int | None:
    try:
        return len(batches)  # type: ignore[arg-type]
    except TypeError:
        return None


def _stderr_is_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _mean(values: list[jax.Array], *, kind: str, epoch: int) -> float:
    if not values:
        raise EmptyDataError(
            f"fit(): {kind}_iter() yielded no batches at epoch {epoch}. It must return a fresh iterable of "
            "batches on every call; a loader with drop_remainder=True and a batch_size larger than the data set "
            "yields none (lower batch_size or keep the partial last batch)."
        )
    return float(jnp.mean(jnp.stack(values)))


def fit(
    model: nnx.Module,
    tx: optax.GradientTransformation,
    loss_fn: Callable[..., jax.Array],
    train_iter: Callable[[], Iterable[Any]],
    *,
    epochs: int,
    eval_iter: Callable[[], Iterable[Any]] | None = None,
    eval_fn: Callable[..., tuple[jax.Array, jax.Array]] | None = None,
    on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
    progress: bool = True,
    mesh: jax.sharding.Mesh | None = None,
    batch_axis: Any = 0,
) -> History:
    """Train ``model`` in place for ``epochs`` passes over ``train_iter()``.

    Setup: a fresh ``nnx.Optimizer(model, tx, wrt=nnx.Param)`` (not returned) and the steps of
    :func:`make_train_step` / :func:`make_eval_step`. Each epoch ``e``, in this order:

    1. for every batch of ``train_iter()``: ``loss = train_step(model, optimizer, *batch)`` (a tuple batch is
       splatted, anything else is one argument); ``train_loss`` = mean of the pre-update batch losses;
    2. if **both** ``eval_iter`` and ``eval_fn`` are given: ``acc, loss = eval_fn(model, *batch)`` for every
       batch of ``eval_iter()``; ``eval_acc`` and ``eval_loss`` are their means (``eval_iter`` without
       ``eval_fn`` skips evaluation, as in Spyx 1.0);
    3. the metrics dict is appended to the history, then ``on_epoch_end(e, metrics)`` is called.

    A progress bar per epoch (tqdm, on stderr) counts the training batches and shows the latest loss, then
    the epoch's ``train_loss`` and eval metrics. It is off when stderr is not a terminal or with
    ``progress=False`` (an extra of this implementation; Spyx 1.0 has no bar).

    **Data parallelism** (``mesh``, an extra; ``docs/scaling.md``): the model's and the optimizer's state are
    replicated over the mesh (the model stays so after ``fit``), every batch is split over the mesh's
    ``"data"`` axis along ``batch_axis`` before the step, and the step is the same compiled function: XLA
    runs each device's part of the batch and all-reduces the gradient. The results equal those without a mesh
    up to the float rounding of that reduction's order. Without a mesh nothing is placed (Spyx 1.0's
    behaviour).

    Args:
        model: the NNX module to train; its ``nnx.Param`` leaves are updated in place.
        tx: an optax ``GradientTransformation``.
        loss_fn: ``(model, *batch) -> scalar``.
        train_iter: a zero-argument callable returning a fresh iterable of batches each epoch
            (e.g. ``loader.train_epoch``).
        epochs: number of epochs.
        eval_iter: like ``train_iter``, for evaluation batches.
        eval_fn: ``(model, *batch) -> (accuracy, loss)``.
        on_epoch_end: ``(epoch, metrics) -> None``, called after each epoch's metrics are recorded.
        progress: keyword-only; ``False`` hides the progress bar.
        mesh: keyword-only; a :class:`jax.sharding.Mesh` with a ``"data"`` axis
            (:func:`spyx.optimize.make_mesh`), or ``None``.
        batch_axis: keyword-only, used with ``mesh``: the axis of each batch leaf that holds the samples; an
            int for every leaf, or a tree prefix of the batch (``(1, 0)`` for time-major ``(x (T, B, C),
            y (B,))``); ``None`` replicates a leaf. The batch size must be a multiple of the ``"data"`` axis.

    Returns:
        the history, a list of ``epochs`` dicts of floats with keys ``train_loss`` (and ``eval_acc``,
        ``eval_loss`` when evaluating).

    Raises:
        spyx.errors.EmptyDataError: (a ``RuntimeError``) when ``train_iter()`` or ``eval_iter()`` yields no
            batches in an epoch; the message contains "yielded no batches".
        spyx.errors.ArgumentError: a mesh without a ``"data"`` axis, a batch axis out of range, or a batch
            size the ``"data"`` axis does not divide (the message names the batch leaf).
    """
    place_batch = _no_placement
    if mesh is not None:
        mesh = check_mesh(mesh, where="fit()", needs=(DATA,))
        nnx.update(model, place(nnx.state(model), replicated(mesh)))

        def place_batch(batch, kind):
            return shard_batch(mesh, batch, batch_axis, where=f"fit(): {kind} batch")

    optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
    if mesh is not None:
        nnx.update(optimizer, place(nnx.state(optimizer), replicated(mesh)))
    train_step = make_train_step(loss_fn, mesh=mesh)
    eval_step = make_eval_step(eval_fn) if eval_fn is not None else None
    show = progress and _stderr_is_terminal()

    history: History = []
    for epoch in range(epochs):
        batches = train_iter()
        with tqdm(
            total=_length(batches),
            desc=f"epoch {epoch + 1}/{epochs}",
            unit="batch",
            file=sys.stderr,
            disable=not show,
            dynamic_ncols=True,
        ) as bar:
            losses = []
            shown_at = time.monotonic()
            for batch in batches:
                losses.append(train_step(model, optimizer, *_as_args(place_batch(batch, "train"))))
                bar.update(1)
                if show and time.monotonic() - shown_at >= _POSTFIX_EVERY_S:
                    bar.set_postfix(loss=f"{float(losses[-1]):.4g}", refresh=False)
                    shown_at = time.monotonic()
            metrics = {"train_loss": _mean(losses, kind="train", epoch=epoch)}

            if eval_iter is not None and eval_step is not None:
                accs, eval_losses = [], []
                for batch in eval_iter():
                    acc, loss = eval_step(model, *_as_args(place_batch(batch, "eval")))
                    accs.append(acc)
                    eval_losses.append(loss)
                metrics["eval_acc"] = _mean(accs, kind="eval", epoch=epoch)
                metrics["eval_loss"] = _mean(eval_losses, kind="eval", epoch=epoch)
            if show:
                bar.set_postfix({k: f"{v:.4g}" for k, v in metrics.items()})

        history.append(metrics)
        if on_epoch_end is not None:
            on_epoch_end(epoch, metrics)
    return history
