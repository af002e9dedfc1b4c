"""spyx.nn layers against float64 NumPy re-computations of their documented (Spyx 1.0) equations; transforms;
errors. The real spyx==1.0.0 is compared in tests/compat."""

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
    kind = type(layer).__name__
    v = np.zeros(x.shape[1:])
    i = np.zeros(x.shape[1:])
    a = np.zeros(x.shape[1:])
    thr = _np(getattr(layer, "threshold", 0.0))
    beta = 1.0 if kind in ("IF", "RIF") else np.clip(_np(layer.beta), 0, 1)
    w = _np(layer.recurrent_w) if hasattr(layer, "recurrent_w") else None
    outs = []
    for t in range(x.shape[0]):
        if kind == "LI":
            v = beta * v + x[t]
            outs.append(v)
            continue
        if kind == "PSU_LIF":
            v = beta * v + x[t]
            outs.append((v - thr > 0).astype(np.float64))
            continue
        if kind == "ALIF":
            theta = thr + a
            s = (v - theta > 0).astype(np.float64)
            v = beta * v + x[t] - s * theta
            gamma = np.clip(_np(layer.gamma), 0, 1)
            a = gamma * a + (1 - gamma) * s
            outs.append(s)
            continue
        s = (v - thr > 0).astype(np.float64)
        fb = s @ w if w is not None else 0.0
        if kind in ("CuBaLIF", "RCuBaLIF"):
            i = np.clip(_np(layer.alpha), 0, 1) * i + x[t] + fb
            v = beta * (v - s * thr) + i
        else:
            v = beta * v + x[t] + fb - s * thr
        outs.append(s)
    state = np.concatenate([v, i if kind in ("CuBaLIF", "RCuBaLIF") else a], -1) if kind in (
        "CuBaLIF", "RCuBaLIF", "ALIF") else v
    return np.stack(outs), state


@pytest.mark.parametrize("kind", ["IF", "LIF", "CuBaLIF", "LI", "PSU_LIF", "RIF", "RLIF", "RCuBaLIF", "ALIF"])
def test_layer_matches_float64_reference(kind):
    layer = neuron(kind, (9,), seed=3)
    x = spikes((40, 3, 9), seed=4) * 0.9
    out, state = snn.run(layer, x)
    ref_out, ref_state = reference(layer, x)
    if kind == "LI":
        np.testing.assert_allclose(np.asarray(out), ref_out, atol=1e-5)
    else:
        assert np.array_equal(np.asarray(out), ref_out), f"{kind}: spikes differ from the float64 reference"
        assert ref_out.sum() > 5, "the test input should make the layer fire"
    np.testing.assert_allclose(np.asarray(state), ref_state, rtol=2e-6, atol=1e-5)


def test_spike_from_incoming_membrane_one_step_latency():
    layer = snn.LIF((1,), beta=0.5, threshold=1.0, rngs=nnx.Rngs(0))
    x = jnp.zeros((5, 1, 1)).at[0].set(2.0)
    out, _ = snn.run(layer, x)
    # V: 0, 2, 0.5*2-1=0 ...: the spike of x_0 shows at t=1, and the subtractive reset follows
    assert np.asarray(out)[:, 0, 0].tolist() == [0, 1, 0, 0, 0]
    psu = snn.PSU_LIF((1,), beta=0.5, threshold=1.0, rngs=nnx.Rngs(0))
    assert np.asarray(snn.run(psu, x)[0])[:, 0, 0].tolist() == [1, 0, 0, 0, 0]  # same step, no reset


def test_cubalif_resets_before_the_leak():
    layer = snn.CuBaLIF((1,), alpha=0.9, beta=0.8, threshold=1.0, rngs=nnx.Rngs(0))
    s, state = layer(jnp.asarray([[0.3]]), jnp.asarray([[2.0, 0.5]]))
    # V_r = 2 - 1 = 1; I' = 0.9*0.5 + 0.3 = 0.75; V' = 0.8*1 + 0.75 = 1.55 (a reset after the leak: 1.35)
    np.testing.assert_allclose(np.asarray(state), [[1.55, 0.75]], rtol=1e-6)
    assert float(s[0, 0]) == 1.0


def test_decay_init_draws_and_scalars():
    beta = np.asarray(snn.LIF((4096,), rngs=nnx.Rngs(0)).beta[...])
    assert beta.shape == (4096,) and 0 < beta.min() and beta.max() < 1  # 0.5 + TN(0.25) lies in (0, 1)
    assert abs(beta.mean() - 0.5) < 0.02
    # truncated at +-2 sd: standard normal truncated to (-2, 2) has sd 0.8796, times 0.25
    assert abs(beta.std() - 0.25 * 0.8796) < 0.01
    scalar = snn.LIF((4,), beta=0.8, rngs=nnx.Rngs(0)).beta
    assert isinstance(scalar, nnx.Param) and scalar[...].shape == () and scalar[...].dtype == jnp.float32
    assert snn.LIF((4,), beta=1, rngs=nnx.Rngs(0)).beta[...].dtype == jnp.int32
    assert np.all(np.asarray(snn.LI((3,), rngs=nnx.Rngs(0)).beta[...]) == np.float32(0.8))
    # draw order: CuBaLIF draws alpha, then beta; RLIF recurrent_w, then beta
    first = np.asarray(snn.LIF((4,), rngs=nnx.Rngs(7)).beta[...])
    cuba = snn.CuBaLIF((4,), rngs=nnx.Rngs(7))
    assert np.array_equal(np.asarray(cuba.alpha[...]), first)
    assert not np.array_equal(np.asarray(cuba.beta[...]), first)


def test_beta_is_clipped_to_unit_interval():
    layer = snn.LI((2,), beta=0.5, rngs=nnx.Rngs(0))
    layer.beta = nnx.Param(jnp.asarray([1.5, -0.5]))
    out, _ = snn.run(layer, jnp.ones((3, 1, 2)))
    np.testing.assert_allclose(np.asarray(out)[:, 0], [[1, 1], [2, 1], [3, 1]])


def test_fixed_scalar_beta_is_not_a_param():
    layer = snn.LIF((4,), beta=0.8, learn_beta=False, rngs=nnx.Rngs(0))
    assert layer.beta == pytest.approx(0.8)
    assert not jax.tree.leaves(nnx.state(layer, nnx.Param))
    learn = snn.LIF((4,), rngs=nnx.Rngs(0))
    assert nnx.state(learn, nnx.Param)["beta"][...].shape == (4,)


@pytest.mark.parametrize("T", [1, 17, 4096])
def test_psu_parallel_equals_scan(T):
    layer = neuron("PSU_LIF", (6,), seed=T)
    x = spikes((T, 2, 6), seed=T + 1)
    seq, _ = snn.run(layer, x)
    par = nnx.jit(lambda m, xx: m.parallel(xx))(layer, x)
    assert np.array_equal(np.asarray(seq), np.asarray(par))


def test_leaky_associative_op_composes_affine_maps():
    rng = np.random.default_rng(0)
    a1, b1, a2, b2, v = rng.normal(size=5)
    a, b = snn._leaky_associative_op((a1, b1), (a2, b2))
    assert a * v + b == pytest.approx(a2 * (a1 * v + b1) + b2)


def test_associative_lif_beta_conversions_round_trip():
    beta_snn = jnp.asarray([0.5, 0.9, 0.99])
    beta = snn.AssociativeLIF.beta_from_snntorch(beta_snn)
    np.testing.assert_allclose(np.asarray(beta), np.exp(-(1 - np.asarray(beta_snn))), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(snn.AssociativeLIF.snntorch_beta_from_beta(beta)), beta_snn, rtol=1e-6)
    assert issubclass(snn.AssociativeLIF, snn.PSU_LIF)


def test_activity_regularization_counts_spikes():
    model = snn.Sequential(neuron("LIF", (7,), seed=1), snn.ActivityRegularization((7,)))
    x = spikes((25, 3, 7), seed=2) * 1.5
    out, state = snn.run(model, x)
    np.testing.assert_array_equal(np.asarray(state[1]), np.asarray(out).sum(0))
    assert snn.ActivityRegularization(7, batch_size=99).initial_state(3).shape == (3, 7)


def test_sequential_state_is_a_list_with_none_for_stateless_layers():
    rngs = nnx.Rngs(0)
    model = snn.Sequential(nnx.Linear(3, 4, rngs=rngs), jax.nn.relu, snn.CuBaLIF((4,), rngs=rngs))
    state = model.initial_state(5)
    assert isinstance(state, list) and state[0] is None and state[1] is None and state[2].shape == (5, 8)
    assert isinstance(model, nnx.Sequential) and isinstance(model, snn.StatefulLayer)
    assert not isinstance(nnx.Linear(2, 2, rngs=rngs), snn.StatefulLayer)
    with pytest.raises(ValueError):
        model(jnp.ones((5, 3)), state[:2])


def test_run_batch_major_and_stateless_error():
    layer = neuron("LIF", (4,), seed=2)
    x = spikes((9, 3, 4), seed=3)
    tm, st = snn.run(layer, x)
    bm, st2 = snn.run(layer, x.swapaxes(0, 1), batch_major=True)
    np.testing.assert_array_equal(np.asarray(bm), np.asarray(tm).swapaxes(0, 1))
    np.testing.assert_array_equal(np.asarray(st), np.asarray(st2))
    with pytest.raises(TypeError, match="initial_state"):
        snn.run(nnx.Linear(4, 4, rngs=nnx.Rngs(0)), x)


def test_sumpool_population_code_and_flatten_match_numpy():
    x = np.random.default_rng(0).normal(size=(2, 6, 5, 3)).astype(np.float32)
    y = snn.SumPool((2, 1), (2, 1), "VALID")(jnp.asarray(x))
    ref = x.reshape(2, 3, 2, 5, 3).sum(2)
    np.testing.assert_allclose(np.asarray(y), ref, rtol=1e-6)
    same = snn.sum_pool(jnp.asarray(x), 2, 2, "SAME")  # pads 5 -> 6 at the end of W
    xp = np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 0)))
    np.testing.assert_allclose(np.asarray(same), xp.reshape(2, 3, 2, 3, 2, 3).sum((2, 4)), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(snn.Flatten()(jnp.asarray(x))), x.reshape(2, -1))
    np.testing.assert_array_equal(np.asarray(snn.PopulationCode(3)(jnp.asarray(x))), x.reshape(-1, 3).sum(-1))
    with pytest.raises(ValueError, match="Invalid padding"):
        snn.SumPool(2, 2, "same")(jnp.asarray(x))
    with pytest.raises(ValueError, match="Invalid channel axis"):
        snn.sum_pool(jnp.asarray(x), 2, 2, "VALID", channel_axis=4)


def test_jit_vmap_grad_optimizer():
    rngs = nnx.Rngs(0)
    model = snn.Sequential(nnx.Linear(4, 6, rngs=rngs), neuron("LIF", (6,), 1), snn.LI((6,), rngs=rngs))
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


def test_errors():
    with pytest.raises(TypeError):
        snn.LIF((3,))  # rngs is a required keyword, as Spyx 1.0
    with pytest.raises(spyx.ParameterError, match="1-D"):
        snn.RLIF((3, 2), rngs=nnx.Rngs(0))
    with pytest.raises(spyx.ParameterError, match="hidden_shape"):
        snn.IF(3)
    with pytest.raises(spyx.InputError, match="time-major"):
        snn.run(snn.IF((3,)), jnp.ones((3,)))
    with pytest.raises(spyx.InputError, match=r"IF\(3,\): step input has shape \(2, 4\)"):
        snn.run(snn.IF((3,)), jnp.ones((5, 2, 4)))
    with pytest.raises(spyx.InputError, match="PSU_LIF"):
        snn.PSU_LIF((3,), rngs=nnx.Rngs(0)).parallel(jnp.ones((4, 2, 5)))


def test_nnx_vmap_over_an_ensemble_of_models():
    @nnx.split_rngs(splits=3)
    @nnx.vmap(in_axes=(0,))
    def make(rngs):
        return snn.Sequential(nnx.Linear(4, 6, rngs=rngs), snn.CuBaLIF((6,), rngs=rngs), snn.LI((6,), rngs=rngs))

    models = make(nnx.Rngs(0))
    x = spikes((12, 2, 4), seed=3) * 3
    outs, _ = nnx.vmap(lambda m, xx: snn.run(m, xx), in_axes=(0, None))(models, x)
    assert outs.shape == (3, 12, 2, 6)
    graphdef, state = nnx.split(models)
    for i in range(3):
        member = nnx.merge(graphdef, jax.tree.map(lambda a, i=i: a[i], state))
        ref, _ = snn.run(member, x)
        np.testing.assert_allclose(np.asarray(outs[i]), np.asarray(ref), rtol=1e-6, atol=1e-6)
    assert not np.allclose(np.asarray(outs[0]), np.asarray(outs[1])), "members should differ"
