r"""Losses, metrics and activity regularisers for spiking networks (the Spyx 1.0 ``spyx.fn`` API).

Every public function is a **factory**: it takes the options and returns a ``jax.jit``-compiled callable.
The callables are pure, so they work inside ``jax.jit``, ``nnx.jit``, ``jax.grad`` and ``jax.vmap``.

==============================================  ==================================================
factory                                         callable
==============================================  ==================================================
``integral_crossentropy(smoothing=0.3,          ``(traces, targets) -> loss``
time_axis=1)``
``mse_spikerate(sparsity=0.25, smoothing=0.0,   ``(traces, targets) -> loss``
time_axis=1)``
``integral_accuracy(time_axis=1)``              ``(traces, targets) -> (accuracy, preds)``
``silence_reg(min_spikes)``                     ``(spike_pytree) -> penalty``
``sparsity_reg(max_spikes, norm=huber)``        ``(spike_pytree) -> penalty``
==============================================  ==================================================

Layout of losses and metrics: ``traces`` has shape ``(*batch, T, C)`` when ``time_axis`` points at ``T``
(the default ``1`` is batch-major ``(B, T, C)``; pass ``time_axis=0`` for the time-major output of
``spyx.nn.run``). The class axis is always the **last** axis; any number of batch axes may precede or
follow the time axis, and ``targets`` (integer class indices) has the shape of ``traces`` with the time
axis and the class axis removed. The shapes are checked when the callable is traced (once per input
shape), and a mismatch raises :class:`spyx.errors.ArgumentError` (a ``ValueError``).

Label smoothing, used by both losses: ``y = (1 - s) onehot(targets, C) + s / C`` (a target outside
``[0, C)`` has an all-zero one-hot row, so ``y = s / C`` everywhere).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from spyx.errors import ArgumentError

__all__ = [
    "LossFn",
    "MetricFn",
    "RegFn",
    "integral_accuracy",
    "integral_crossentropy",
    "mse_spikerate",
    "silence_reg",
    "sparsity_reg",
]

LossFn = Callable[[jax.Array, jax.Array], jax.Array]
"""``(traces, targets) -> scalar loss``."""

MetricFn = Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]
"""``(traces, targets) -> (score, predictions)``."""

RegFn = Callable[[Any], jax.Array]
"""``(spike_pytree) -> scalar penalty``."""


def _time_axis(name: str, traces: jax.Array, targets: jax.Array, time_axis: int) -> int:
    """Check that ``traces`` and ``targets`` fit together and return the time axis as a non-negative index.

    1. ``traces`` needs a time and a class axis: ``ndim >= 2``.
    2. ``time_axis`` (negative counts from the end) must name one of its axes.
    3. ``targets.shape`` must equal ``traces.shape`` without the time axis and without the last (class) axis.
    """
    if traces.ndim < 2:
        raise ArgumentError(
            f"{name}: traces must have at least 2 dimensions (time + classes); got shape {traces.shape}."
        )
    axis = time_axis if time_axis >= 0 else traces.ndim + time_axis
    if not 0 <= axis < traces.ndim:
        raise ArgumentError(f"{name}: time_axis {time_axis} is out of range for traces with ndim={traces.ndim}.")
    without_time = traces.shape[:axis] + traces.shape[axis + 1 :]
    expected = without_time[:-1]
    if targets.shape != expected:
        raise ArgumentError(
            f"{name}: targets shape {targets.shape} does not match the batch portion of traces shape "
            f"{traces.shape} (expected {expected}: traces without time_axis={time_axis} and without the last, "
            "class, axis)."
        )
    return axis


def _smoothed_onehot(targets: jax.Array, num_classes: int, smoothing: float) -> jax.Array:
    """``(1 - smoothing) onehot(targets) + smoothing / C``, shape ``(*targets.shape, C)``, float32."""
    return optax.smooth_labels(jax.nn.one_hot(targets, num_classes), smoothing)


def integral_crossentropy(smoothing: float = 0.3, time_axis: int = 1) -> LossFn:
    r"""Cross-entropy of the time-integrated traces against label-smoothed targets.

    ``z = sum_t traces`` (logits, ``(*batch, C)``), ``y`` = smoothed one-hot of ``targets``,
    ``loss = mean over batch positions of  -sum_c y_c log_softmax(z)_c``.

    Args:
        smoothing: label smoothing ``s`` in ``[0, 1]``; note the default is 0.3, as in Spyx 1.0.
        time_axis: the axis of ``traces`` to integrate over (negative counts from the end).

    Returns:
        a jitted ``f(traces (*batch, T, C), targets (*batch,) int) -> scalar``.
    """

    def loss(traces, targets):
        traces, targets = jnp.asarray(traces), jnp.asarray(targets)
        axis = _time_axis("integral_crossentropy", traces, targets, time_axis)
        logits = jnp.sum(traces, axis=axis)
        labels = _smoothed_onehot(targets, logits.shape[-1], smoothing)
        return jnp.mean(optax.softmax_cross_entropy(logits, labels))

    return jax.jit(loss)


def integral_accuracy(time_axis: int = 1) -> MetricFn:
    r"""Accuracy of the class with the largest time-integrated trace.

    ``preds = argmax_c sum_t traces`` (int32, the shape of ``targets``), ``accuracy = mean(preds == targets)``
    (float32 scalar). Meant for a non-spiking readout (``LI``) whose membrane traces are summed.

    Returns:
        a jitted ``f(traces (*batch, T, C), targets (*batch,) int) -> (accuracy, preds)``.
    """

    def metric(traces, targets):
        traces, targets = jnp.asarray(traces), jnp.asarray(targets)
        axis = _time_axis("integral_accuracy", traces, targets, time_axis)
        preds = jnp.argmax(jnp.sum(traces, axis=axis), axis=-1)
        return jnp.mean(preds == targets), preds

    return jax.jit(metric)


def mse_spikerate(sparsity: float = 0.25, smoothing: float = 0.0, time_axis: int = 1) -> LossFn:
    r"""Mean squared error between the mean spike rate and a smoothed one-hot **count** target.

    With ``T = traces.shape[time_axis]``: ``r = mean_t traces`` (``(*batch, C)``), ``y`` = smoothed one-hot,
    ``loss = mean over all elements of (r - y * sparsity * T)^2``. The time-mean rate is compared with a
    target of ``sparsity * T`` spikes, exactly as Spyx 1.0 does (its quirk, kept for identical numbers).

    Returns:
        a jitted ``f(traces (*batch, T, C), targets (*batch,) int) -> scalar``.
    """

    def loss(traces, targets):
        traces, targets = jnp.asarray(traces), jnp.asarray(targets)
        axis = _time_axis("mse_spikerate", traces, targets, time_axis)
        steps = traces.shape[axis]
        rate = jnp.mean(traces, axis=axis)
        labels = _smoothed_onehot(targets, rate.shape[-1], smoothing)
        return jnp.mean(optax.squared_error(rate, labels * sparsity * steps))

    return jax.jit(loss)


def _per_leaf_sum(penalty: Callable[[jax.Array], jax.Array], spikes: Any) -> jax.Array:
    """Reshape every array leaf to ``(leaf.shape[0], -1)``, apply ``penalty`` (a vector per leaf), concatenate
    the vectors of all leaves (in pytree order) and sum them."""
    leaves = jax.tree_util.tree_leaves(spikes)
    vectors = [penalty(jnp.reshape(leaf, (leaf.shape[0], -1))) for leaf in map(jnp.asarray, leaves)]
    return jnp.sum(jnp.concatenate(vectors))


def silence_reg(min_spikes: float) -> RegFn:
    r"""Quadratic penalty on neurons that fire less than ``min_spikes`` on average over the batch.

    For each leaf ``X`` (e.g. a layer's spike counts ``(B, N)``; any trailing shape is flattened to neurons):
    ``m_n = mean_b X[b, n]``, penalty ``sum_n max(0, min_spikes - m_n)^2``. Result: the sum over all leaves.

    Returns:
        a jitted ``f(spike_pytree) -> scalar``.
    """

    def per_neuron(x):
        return jnp.maximum(0, min_spikes - jnp.mean(x, axis=0)) ** 2

    return jax.jit(lambda spikes: _per_leaf_sum(per_neuron, spikes))


def sparsity_reg(max_spikes: float, norm: Callable[[jax.Array], jax.Array] = optax.huber_loss) -> RegFn:
    r"""Penalty on samples whose layer-mean activity exceeds ``max_spikes``.

    For each leaf ``X`` flattened to ``(B, N)``: ``m_b = mean_n X[b, n]``, penalty
    ``sum_b norm(max(0, m_b - max_spikes))``. Result: the sum over all leaves. The default ``norm`` is
    ``optax.huber_loss`` with ``delta = 1``: ``u^2 / 2`` for ``|u| <= 1``, else ``|u| - 1/2``.

    Args:
        max_spikes: the mean activity per sample above which the penalty starts.
        norm: an elementwise ``u -> penalty`` (any optax-style one-argument loss).

    Returns:
        a jitted ``f(spike_pytree) -> scalar``.
    """

    def per_sample(x):
        return norm(jnp.maximum(0, jnp.mean(x, axis=-1) - max_spikes))

    return jax.jit(lambda spikes: _per_leaf_sum(per_sample, spikes))
