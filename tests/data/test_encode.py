"""spyx.data's JAX encoders: the contract's golden numbers (§18.6) and float32 NumPy re-computations."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spyx.data as sd


def _spike_times(spikes_t_first: np.ndarray) -> list:
    """First spike time per unit of ``[T, N]`` spikes; None for silent units."""
    return [int(np.argmax(col)) if col.any() else None for col in np.asarray(spikes_t_first).T]


def test_every_factory_returns_a_jitted_function():
    fns = [sd.rate_code(3), sd.latency_code(3), sd.angle_code(3, 0, 1), sd.shift_augment(1),
           sd.shuffler((jnp.zeros((4, 2)), jnp.zeros(4)), 2)]
    for f in fns:
        assert callable(getattr(f, "lower", None)), f"{f} is not a jax.jit function"


# ---------------------------------------------------------------------------------------------- latency
def test_latency_code_golden():
    x = jnp.array([1.0, 0.875, 0.625, 0.5, 0.375, 0.01, 0.02, 0.0, 1.5])
    s = np.asarray(sd.latency_code(5)(x))
    assert s.shape == (5, 9) and s.dtype == np.uint8
    assert _spike_times(s) == [0, 0, 2, 2, 2, None, 4, None, 0]


def _latency_reference(data, T, threshold):
    u = np.clip(np.asarray(data, dtype=np.float32), np.float32(0), np.float32(1))
    t_star = np.round((np.float32(1) - u) * np.float32(T - 1)).astype(np.int64)  # NumPy rounds half to even
    out = np.zeros((T, *u.shape), dtype=np.uint8)
    for idx in np.ndindex(u.shape):
        if u[idx] > threshold:
            out[(t_star[idx], *idx)] = 1
    return out


@pytest.mark.parametrize(("T", "threshold"), [(1, 0.01), (8, 0.01), (13, 0.2)])
def test_latency_code_matches_numpy(T, threshold):
    data = np.random.default_rng(T).uniform(-0.3, 1.3, (4, 5)).astype(np.float32)
    data[0, :3] = [threshold, 0.5, 1.0]
    got = np.asarray(sd.latency_code(T, threshold)(data))
    np.testing.assert_array_equal(got, _latency_reference(data, T, threshold))
    fired = np.clip(data, 0, 1) > threshold
    np.testing.assert_array_equal(got.sum(axis=0), fired.astype(np.uint8))  # one spike per firing unit


# ------------------------------------------------------------------------------------------------ angle
def test_angle_code_golden():
    out = np.asarray(sd.angle_code(5, 0, 1)(jnp.array([-0.1, 0.0, 0.3, 0.5, 0.99, 1.0, 1.5])))
    assert out.shape == (7, 5) and out.dtype == np.float32
    np.testing.assert_array_equal(out.sum(axis=-1), 1.0)
    assert out.argmax(axis=-1).tolist() == [0, 0, 1, 2, 3, 4, 4]


def test_angle_code_matches_numpy():
    obs = np.random.default_rng(0).uniform(-2.0, 3.0, (3, 6)).astype(np.float32)
    centres = np.linspace(-1.0, 2.0, 7, dtype=np.float32)
    idx = np.array([[max(0, min(6, int((centres <= v).sum()) - 1)) for v in row] for row in obs])
    got = np.asarray(sd.angle_code(7, -1.0, 2.0)(obs))
    np.testing.assert_array_equal(got, np.eye(7, dtype=np.float32)[idx])


# ------------------------------------------------------------------------------------------------- rate
def test_rate_code_golden():
    a = np.asarray(sd.rate_code(4, 0.75)(jnp.array([[[0, 0.5, 1]]]), jax.random.PRNGKey(0)))
    assert a.shape == (1, 4, 3) and a.dtype == np.uint8
    assert a[0].tolist() == [[0, 1, 1], [0, 1, 1], [0, 0, 1], [0, 1, 0]]
    b = np.asarray(sd.rate_code(6, 0.75)(jnp.array([[[0.2, 0.6, 0.9]]]), jax.random.PRNGKey(0)))
    assert b[0].T.tolist() == [[0, 0, 0, 0, 0, 0], [1, 1, 0, 1, 0, 1], [1, 1, 1, 0, 0, 0]]


def test_rate_code_repeats_along_axis_1():
    """With max_r = 1, inputs 0 and 1 are deterministic: the result is the input repeated along axis 1."""
    x = np.array([[1, 0, 1], [0, 0, 1]], dtype=np.float32)
    got = np.asarray(sd.rate_code(4, 1.0)(x, jax.random.PRNGKey(3)))
    np.testing.assert_array_equal(got, np.repeat(x, 4, axis=1).astype(np.uint8))  # [B, C] -> [B, C*4]
    got3 = np.asarray(sd.rate_code(4, 1.0)(x[:, None, :], jax.random.PRNGKey(3)))
    np.testing.assert_array_equal(got3, np.repeat(x[:, None, :], 4, axis=1).astype(np.uint8))  # [B, 4, C]


# ---------------------------------------------------------------------------------------- shift, shuffle
def test_shift_augment_golden():
    np.testing.assert_array_equal(sd.shift_augment(2)(jnp.arange(6.0), jax.random.PRNGKey(0)), [1, 2, 3, 4, 5, 0])


def test_shift_augment_matches_numpy_roll():
    grid = np.arange(20.0).reshape(4, 5)
    for seed in range(2):
        key = jax.random.PRNGKey(seed)
        shifts = np.asarray(jax.random.randint(key, (2,), -3, 3))  # the draw the contract specifies
        assert np.all((shifts >= -3) & (shifts < 3))
        want = np.roll(np.roll(grid, shifts[0], axis=0), shifts[1], axis=1)
        np.testing.assert_array_equal(sd.shift_augment(3, axes=(0, 1))(grid, key), want)


def test_shuffler_matches_numpy_indexing():
    x, y = np.arange(33.0).reshape(11, 3), np.arange(11)
    f = sd.shuffler((x, y), 4)
    key = jax.random.PRNGKey(1)
    obs, labels = f((jnp.asarray(x), jnp.asarray(y)), key)
    idx = np.asarray(jax.random.permutation(key, 11))[:8]  # the draw the contract specifies
    np.testing.assert_array_equal(obs, x[idx].reshape(2, 4, 3))
    np.testing.assert_array_equal(labels, y[idx].reshape(2, 4))
    assert len(set(np.asarray(labels).ravel().tolist())) == 8  # a permutation: no repeats
