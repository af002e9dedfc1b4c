"""Phasor codecs: real values <-> unit phasors, phases <-> one-spike-per-cycle spike trains (Spyx 1.0's numbers).

A phase ``theta`` in ``(-pi, pi]`` is carried by one spike per cycle of ``T`` ticks, at tick
``k = clip(floor((theta + pi) / (2 pi) * T), 0, T - 1)``; decoding takes the spike-time centroid ``c`` and returns
``2 pi c / T - pi``. A phase survives the round trip to within one bin, ``2 pi / T``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from spyx.errors import ArgumentError

__all__ = ["real_to_phasor", "phasor_to_real", "phase_of", "phase_to_spikes", "spikes_to_phase"]


def real_to_phasor(x, scale: float = jnp.pi):
    """``exp(i scale x)`` as complex64 (unit magnitude). With ``scale = pi``, inputs in ``[0, 1]`` fill the upper
    half circle monotonically."""
    return jnp.exp(1j * scale * x).astype(jnp.complex64)


def phasor_to_real(z):
    """``Re z`` (the cosine of the phase for a unit phasor)."""
    return jnp.real(z)


def phase_of(z):
    """``angle(z)`` in ``(-pi, pi]``."""
    return jnp.angle(z)


def phase_to_spikes(theta, T: int):
    """One spike per unit in a cycle of ``T`` ticks: float32 ``[T, *theta.shape]`` (time axis prepended).

    The spike of phase ``theta`` is at tick ``clip(floor((theta + pi) / (2 pi) * T), 0, T - 1)`` (``floor``, as
    Spyx 1.0 computes it; its docstring says round). ``T <= 0`` raises :class:`~spyx.ArgumentError`.
    """
    if T <= 0:
        raise ArgumentError(f"phase_to_spikes: T must be positive; got {T}.")
    tick = jnp.floor(((theta + jnp.pi) / (2.0 * jnp.pi)) * T).astype(jnp.int32)
    tick = jnp.clip(tick, 0, T - 1)
    return jnp.moveaxis(jax.nn.one_hot(tick, T, dtype=jnp.float32), -1, 0)


def spikes_to_phase(spike_train, T: int | None = None):
    """The phase of each unit of ``spike_train`` ``[T, ...]``: ``2 pi c / T - pi`` with ``c = sum_t t s_t /
    sum_t s_t`` (``c = 0`` for a silent unit, which therefore decodes to ``-pi``). ``T`` defaults to
    ``spike_train.shape[0]``."""
    if T is None:
        T = spike_train.shape[0]
    times = jnp.arange(T, dtype=spike_train.dtype).reshape((T,) + (1,) * (spike_train.ndim - 1))
    total = jnp.sum(spike_train, axis=0)
    weighted = jnp.sum(times * spike_train, axis=0)
    centroid = jnp.where(total > 0, weighted / jnp.where(total > 0, total, 1.0), 0.0)
    return ((centroid / T) * 2.0 * jnp.pi) - jnp.pi
