"""spyx.nn layers against float64 NumPy re-computations of their documented equations; transforms; errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import spyx
import spyx.nn as snn
from tests.nn.models import neuron, spikes


def _np(p):
    return np.asarray(p[...] if isinstance(p, nnx.Variable) else p, np.float64)


def reference(layer, x):
    """The layer's equations (docs/nn.md) in float64 NumPy, step by step. Returns (outputs, final state)."""
    x = np.asarray(x, np.float64)
    T = x.shape[0]
    kind = type(layer).__name__
    v = np.zeros(x.shape[1:])
    i = np.zeros(x.shape[1:])
    a = np.zeros(x.shape[1:])
    thr = getattr(layer, "threshold", None)
    beta = 1.0 if kind in ("IF", "RIF") else np.clip(_np(layer.beta), 0, 1)
    w = _np(layer.w_rec) if hasattr(layer, "w_rec") else None
    outs = []
    for t in range(T):
        if kind == "LI":
            v = beta * v + x[t]
            outs.append(v)
            continue
        if kind == "ALIF":
            A = thr + layer.adaptation * a
            s = (v - A > 0).astype(np.float64)
            v = beta * v + x[t] - s * A
            rho = np.clip(_np(layer.rho), 0, 1)
            a = rho * a + (1 - rho) * s
            outs.append(s)
            continue
        s = (v - thr > 0).astype(np.float64)
        inp = x[t] + (s @ w if w is not None else 0.0)
        if kind in ("CuBaLIF", "RCuBaLIF"):
            i = np.clip(_np(layer.alpha), 0, 1) * i + inp
            v = beta * v + i - s * thr
        elif kind == "PSU_LIF":
            v = beta * v + inp
        else:
            v = beta * v + inp - s * thr
        outs.append(s)
    return np.stack(outs), v


@pytest.mark.parametrize("kind", ["IF", "LIF", "CuBaLIF", "LI", "PSU_LIF", "RIF", "RLIF", "RCuBaLIF", "ALIF"])
def test_layer_matches_float64_reference(kind):
    layer = neuron(kind, (9,), seed=3)
    x = spikes((40, 3, 9), seed=4) * 0.9
    out, state = snn.run(layer, x)
    ref_out, ref_v = reference(layer, x)
    if kind == "LI":
        np.testing.assert_allclose(np.asarray(out), ref_out, atol=1e-5)
    else:
        assert np.array_equal(np.asarray(out), ref_out), f"{kind}: spikes differ from the float64 reference"
        assert ref_out.sum() > 5, "the test input should make the layer fire"
    np.testing.assert_allclose(np.asarray(state["v"]), ref_v, rtol=2e-6, atol=1e-5)


def test_spike_from_current_membrane_one_step_latency():
    layer = snn.LIF((1,), beta=0.5, learn_beta=False, threshold=1.0)
    x = jnp.zeros((5, 1, 1)).at[0].set(2.0)
    out, _ = snn.run(layer, x)
    # V: 0, 2, 0.5*2-1=0 ...: the spike of x_0 shows at t=1, and the subtractive reset follows
    assert np.asarray(out)[:, 0, 0].tolist() == [0, 1, 0, 0, 0]


def test_beta_is_clipped_to_unit_interval():
    layer = snn.LI((2,), beta=0.5)
    layer.beta[...] = jnp.asarray([1.5, -0.5])
    out, _ = snn.run(layer, jnp.ones((3, 1, 2)))
    np.testing.assert_allclose(np.asarray(out)[:, 0], [[1, 1], [2, 1], [3, 1]])


def test_fixed_scalar_beta_is_not_a_param():
    layer = snn.LIF((4,), beta=0.8, learn_beta=False)
    assert layer.beta == pytest.approx(0.8)
    assert not jax.tree.leaves(nnx.state(layer, nnx.Param))
    learn = snn.LIF((4,), beta=0.8)
    assert nnx.state(learn, nnx.Param)["beta"][...].shape == (4,)


@pytest.mark.parametrize("T", [1, 17, 4096])
def test_psu_parallel_equals_scan(T):
    layer = neuron("PSU_LIF", (6,), seed=T)
    x = spikes((T, 2, 6), seed=T + 1)
    seq, s_seq = snn.run(layer, x)
    par, s_par = nnx.jit(lambda m, xx: m.parallel(xx))(layer, x)
    assert np.array_equal(np.asarray(seq), np.asarray(par))
    v_seq, v_par = np.asarray(s_seq["v"]), np.asarray(s_par["v"])
    # both are float32 roundings of the same linear recurrence; |V| grows to ~1/(1-beta)
    np.testing.assert_allclose(v_par, v_seq, rtol=1e-6, atol=1e-6)


def test_psu_parallel_continues_from_state():
    layer = neuron("PSU_LIF", (5,), seed=8)
    x = spikes((30, 2, 5), seed=9)
    par = nnx.jit(lambda m, xx, st: m.parallel(xx, st))
    full, _ = par(layer, x, None)
    first, st = par(layer, x[:12], None)
    second, _ = par(layer, x[12:], st)
    assert np.array_equal(np.asarray(full), np.concatenate([first, second]))


def test_activity_regularization_counts_spikes():
    model = snn.Sequential(neuron("LIF", (7,), seed=1), snn.ActivityRegularization((7,)))
    x = spikes((25, 3, 7), seed=2) * 1.5
    out, state = snn.run(model, x)
    np.testing.assert_array_equal(np.asarray(state[1]["count"]), np.asarray(out).sum(0))


def test_sumpool_and_flatten_match_numpy():
    x = np.random.default_rng(0).normal(size=(2, 6, 5, 3)).astype(np.float32)
    y, _ = snn.SumPool(2, strides=(2, 1), padding=(0, 1))(jnp.asarray(x), ())
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    ref = np.stack(
        [np.stack([xp[:, 2 * i : 2 * i + 2, j : j + 2].sum((1, 2)) for j in range(6)], 1) for i in range(3)],
        1,
    )
    np.testing.assert_allclose(np.asarray(y), ref, rtol=1e-6)
    f, _ = snn.Flatten()(jnp.asarray(x), ())
    np.testing.assert_array_equal(np.asarray(f), x.reshape(2, -1))


def test_jit_vmap_grad_optimizer():
    model = snn.Sequential(nnx.Linear(4, 6, rngs=nnx.Rngs(0)), neuron("LIF", (6,), 1), snn.LI((6,)))
    x = spikes((10, 3, 4), seed=5)
    out, _ = snn.run(model, x)
    out_jit, _ = nnx.jit(snn.run)(model, x)
    np.testing.assert_allclose(np.asarray(out_jit), np.asarray(out), atol=1e-6)

    # nnx.vmap over an extra ensemble axis of inputs (the model is shared)
    xs = jnp.stack([x, 2 * x])
    out_v, _ = nnx.vmap(lambda m, xx: snn.run(m, xx), in_axes=(None, 0))(model, xs)
    np.testing.assert_allclose(np.asarray(out_v[0]), np.asarray(out), atol=1e-6)

    def loss(m):
        y, _ = snn.run(m, x)
        return jnp.mean((y[-1] - 1.0) ** 2)

    value, grads = nnx.value_and_grad(loss)(model)
    assert np.isfinite(float(value))
    opt = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    before = np.asarray(model.layers[2].beta[...]).copy()
    opt.update(model, grads)
    assert not np.array_equal(before, np.asarray(model.layers[2].beta[...])), (
        "beta (an nnx.Param) was not trained"
    )


def test_errors_are_spyx_errors():
    with pytest.raises(spyx.ParameterError, match="threshold"):
        snn.LIF((3,), threshold=0.0)
    with pytest.raises(spyx.ParameterError, match=r"\[0, 1\]"):
        snn.LIF((3,), beta=1.5)
    with pytest.raises(spyx.ParameterError, match="rngs"):
        snn.RLIF((3,))
    with pytest.raises(spyx.ParameterError, match="1-D"):
        snn.RLIF((3, 2), rngs=nnx.Rngs(0))
    with pytest.raises(spyx.InputError, match="time-major"):
        snn.run(snn.LIF((3,)), jnp.ones((3,)))
    with pytest.raises(spyx.InputError, match=r"LIF\(3,\): step input has shape \(2, 4\)"):
        snn.run(snn.LIF((3,)), jnp.ones((5, 2, 4)))
    with pytest.raises(spyx.InputError, match="SumPool"):
        snn.SumPool(2)(jnp.ones((4, 4)), ())
    with pytest.raises(spyx.InputError, match="PSU_LIF"):
        snn.PSU_LIF((3,)).parallel(jnp.ones((4, 2, 5)))


def test_nnx_vmap_over_an_ensemble_of_models():
    @nnx.split_rngs(splits=3)
    @nnx.vmap(in_axes=(0,))
    def make(rngs):
        return snn.Sequential(nnx.Linear(4, 6, rngs=rngs), snn.CuBaLIF((6,)), snn.LI((6,)))

    models = make(nnx.Rngs(0))
    x = spikes((12, 2, 4), seed=3)
    outs, _ = nnx.vmap(lambda m, xx: snn.run(m, xx), in_axes=(0, None))(models, x)
    assert outs.shape == (3, 12, 2, 6)
    graphdef, state = nnx.split(models)
    for i in range(3):
        member = nnx.merge(graphdef, jax.tree.map(lambda a, i=i: a[i], state))
        ref, _ = snn.run(member, x)
        np.testing.assert_allclose(np.asarray(outs[i]), np.asarray(ref), rtol=1e-6, atol=1e-6)
    assert not np.allclose(np.asarray(outs[0]), np.asarray(outs[1])), "members should differ"
