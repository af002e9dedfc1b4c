"""Functional encoders and augmentation in JAX (Spyx 1.0's ``spyx.data`` functions).

Each factory fixes its parameters and returns a ``jax.jit``-compiled function. With the same key they draw
exactly the random numbers Spyx 1.0 draws (same ``jax.random`` calls, shapes and dtypes, in the same order),
so a Spyx 1.0 program gets the same spikes.

| factory | returned function | output |
|---|---|---|
| ``rate_code(num_steps, max_r=0.75)`` | ``f(data, key)`` | ``uint8``, ``data`` repeated along axis 1 |
| ``latency_code(num_steps, threshold=0.01)`` | ``f(data)`` | ``uint8 [num_steps, *data.shape]`` |
| ``angle_code(neuron_count, min_val, max_val)`` | ``f(obs)`` | ``float32 [*obs.shape, neuron_count]`` one-hot |
| ``shift_augment(max_shift=10, axes=(-1,))`` | ``f(data, rng)`` | ``data`` rolled circularly |
| ``shuffler(dataset, batch_size)`` | ``f(dataset, rng)`` | ``(obs [n, batch_size, ...], labels [n, batch_size])`` |

None of them bit-packs; see :mod:`spyx.data.packing` for that.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

__all__ = ["angle_code", "latency_code", "rate_code", "shift_augment", "shuffler"]


def _axes_tuple(axes: int | Sequence[int]) -> tuple[int, ...]:
    return (int(axes),) if isinstance(axes, int) else tuple(int(a) for a in axes)


def shift_augment(max_shift: int = 10, axes: int | Sequence[int] = (-1,)):
    """Random circular shift of a whole array, one shift per axis.

    ``f(data, rng)``: ``s = randint(rng, (len(axes),), -max_shift, max_shift)`` (each ``s_i`` in
    ``[-max_shift, max_shift - 1]``, upper bound exclusive), then ``roll(data, s_i, axes[i])`` for every ``i``.
    Every item of a batch moves by the same amount (batch the call with ``jax.vmap`` and split keys for
    per-item shifts). ``axes`` is a sequence of axes (a single int is taken as ``(axes,)``).
    """
    axes = _axes_tuple(axes)

    def _shift(data, rng):
        shifts = jax.random.randint(rng, (len(axes),), -max_shift, max_shift)
        return jnp.roll(data, shifts, axes)

    return jax.jit(_shift)


def shuffler(dataset, batch_size: int):
    """A function that shuffles a whole in-memory data set and cuts it into equal batches.

    ``dataset = (x [N, ...], y [N])`` fixes, at build time, ``cutoff = (N // batch_size) * batch_size`` and the
    batch shape. ``f((x, y), rng)``: ``idx = permutation(rng, N)[:cutoff]``, returns
    ``(x[idx].reshape(-1, batch_size, *x.shape[1:]), y[idx].reshape(-1, batch_size))``; the last
    ``N - cutoff`` samples of the permutation are dropped (a different set on every key).
    """
    x, y = dataset
    n = y.shape[0]
    cutoff = (n // batch_size) * batch_size
    obs_shape = (-1, batch_size, *x.shape[1:])

    def _shuffle(dataset, rng):
        x, y = dataset
        idx = jax.random.permutation(rng, n)[:cutoff]
        return jnp.reshape(x[idx], obs_shape), jnp.reshape(y[idx], (-1, batch_size))

    return jax.jit(_shuffle)


def rate_code(num_steps: int, max_r: float = 0.75):
    """Bernoulli rate coding, unrolled along axis 1.

    ``f(data, key)``: ``d = float16(data)``; ``r = repeat(d, num_steps, axis=1)`` (every element repeated
    ``num_steps`` times consecutively: ``[B, 1, C] -> [B, num_steps, C]``, but ``[B, C] -> [B, C*num_steps]``);
    returns ``uint8(bernoulli(key, p = r * max_r))``. Inputs are assumed in ``[0, 1]``. Give the data a size-1
    time axis to get batch-major spikes: ``rate_code(64)(x[:, None, :], key)`` is ``[B, 64, C]``.
    The draw is ``jax.random.bernoulli`` on float16 probabilities, as in Spyx 1.0 (same key, same spikes).
    """

    def _call(data, key):
        d = jnp.asarray(data, dtype=jnp.float16)
        p = jnp.repeat(d, num_steps, axis=1) * max_r
        return jax.random.bernoulli(key, p).astype(jnp.uint8)

    return jax.jit(_call)


def angle_code(neuron_count: int, min_val: float, max_val: float):
    """One-hot bin code of a scalar over ``neuron_count`` evenly spaced centres.

    ``centres = linspace(min_val, max_val, neuron_count)`` (float32); ``f(obs)``:
    ``i = clip(#{k : centres_k <= obs} - 1, 0, neuron_count - 1)`` (``digitize`` with ``right=False``);
    returns ``one_hot(i, neuron_count)`` as ``float32`` on a new last axis. Values below ``min_val`` map to
    0, values ``>= max_val`` to ``neuron_count - 1``. (Despite the name it does not encode phases.)
    """
    centres = jnp.linspace(min_val, max_val, neuron_count)

    def _call(obs):
        idx = jnp.clip(jnp.digitize(obs, centres) - 1, 0, neuron_count - 1)
        return jax.nn.one_hot(idx, neuron_count)

    return jax.jit(_call)


def latency_code(num_steps: int, threshold: float = 0.01):
    """Time-to-first-spike code: one spike per unit, brighter inputs earlier.

    ``f(data) -> uint8 [num_steps, *data.shape]``: ``u = clip(float32(data), 0, 1)``;
    ``t* = round((1 - u) * (num_steps - 1))`` rounding half to even; ``S[t, ...] = 1`` iff ``t == t*`` and
    ``u > threshold`` (units with ``u <= threshold`` stay silent). ``u = 1`` fires at ``t = 0``; ``u`` just
    above ``threshold`` fires near ``num_steps - 1``. Not bit-packed.
    """

    def _call(data):
        u = jnp.clip(jnp.asarray(data, dtype=jnp.float32), 0.0, 1.0)
        t_star = jnp.round((1.0 - u) * (num_steps - 1)).astype(jnp.int32)
        steps = jnp.arange(num_steps, dtype=jnp.int32).reshape((num_steps,) + (1,) * u.ndim)
        fires = (steps == t_star[None]) & (u > threshold)[None]
        return fires.astype(jnp.uint8)

    return jax.jit(_call)
