"""spyx.experimental's other modules: raven (step loop == sequence, unrouted slots keep their memory, top-k ties),
matfree (quantisers' sets, MLGRU == a float64 loop and causal), onnx (signature, the missing-dependency error),
zoo (registry, a demo that learns), and the package namespace."""

from __future__ import annotations

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import spyx
from spyx import experimental as E
from spyx import nn as snn
from spyx.experimental import matfree, onnx, raven, zoo


def test_raven_step_loop_equals_the_sequence_and_unrouted_slots_hold():
    m = E.RavenRSM(4, 3, 2, rngs=nnx.Rngs(0))
    u = jax.random.normal(jax.random.PRNGKey(1), (6, 2, 4))

    def loop(u):  # the step method, one call per time step (unrolled)
        S, ys = m.initial_state(2), []
        for t in range(6):
            S, y = m.step(S, u[t])
            ys.append(y)
        return jnp.stack(ys)

    np.testing.assert_allclose(jax.jit(m)(u), jax.jit(loop)(u), rtol=1e-5, atol=1e-6)

    mem = E.SpikingSlotMemory(4, 3, 2, threshold=100.0, rngs=nnx.Rngs(0))
    r = jnp.zeros((6, 2, 3)).at[0].set(1.0)  # route only the first step
    spikes = jax.jit(mem._run)(u, r)
    assert spikes.shape == (6, 2, 3, 2) and not np.any(np.asarray(spikes))
    V = mem.initial_state(2)
    V, _ = mem.step(V, u[0])  # dense gates at step 0 ...
    _, last = jax.lax.scan(lambda v, _: (mem._update(v, jnp.zeros((2, 3)), jnp.zeros((2, 3, 2)), mem.beta), v),
                           V, None, length=5)
    np.testing.assert_array_equal(last[-1], V)  # ... and r = 0 afterwards keeps the membrane exactly

    router = E.SlotRouter(3, 4, hard_top_k=2, rngs=nnx.Rngs(0))
    router.proj.kernel[...] = jnp.zeros((3, 4))
    router.proj.bias[...] = jnp.asarray([0.5, 0.5, 0.5, -1.0])
    gates = np.asarray(router(jnp.ones((1, 3))))
    assert (gates != 0).sum() == 2 and gates[0, 0] > 0 and gates[0, 1] > 0  # a tie keeps the lower indices
    with pytest.raises(ValueError, match=r"expects \[T, B, d_model=4\]"):
        m(u[0])
    with pytest.raises(ValueError, match="n_slots"):
        E.RavenRSM(4, 0, rngs=nnx.Rngs(0))


def test_matfree_quantisers_and_mlgru():
    w = jax.random.normal(jax.random.PRNGKey(0), (6, 5))
    w_t, scale = matfree.ternary_weights(w)
    assert set(np.unique(np.asarray(w_t))) <= {-1.0, 0.0, 1.0}
    assert float(scale) == pytest.approx(float(jnp.mean(jnp.abs(w))) + 1e-5)
    p2 = np.asarray(matfree.power_of_two_weights(w, -3, 0))
    e = np.log2(np.abs(p2[p2 != 0]))
    assert np.all(e == np.round(e)) and e.min() >= -3 and e.max() <= 0

    cell = matfree.MLGRU(3, 4, rngs=nnx.Rngs(1), activation_bits=None)
    x = jax.random.normal(jax.random.PRNGKey(2), (2, 7, 3))
    y = cell(x)
    f = np.asarray(jax.nn.sigmoid(cell.f(x)), np.float64)
    c = np.asarray(jax.nn.silu(cell.c(x)), np.float64)
    g = np.asarray(jax.nn.sigmoid(cell.g(x)), np.float64)
    h, hs = np.zeros((2, 4)), []
    for t in range(7):
        h = f[:, t] * h + (1 - f[:, t]) * c[:, t]
        hs.append(h)
    np.testing.assert_allclose(y, cell.o(jnp.asarray(g * np.stack(hs, 1), jnp.float32)), rtol=1e-5, atol=1e-6)
    y2 = cell(x.at[:, 4:].set(9.0))
    np.testing.assert_array_equal(y2[:, :4], y[:, :4])  # causal


def test_onnx_signature_and_missing_dependency():
    model = snn.Sequential(nnx.Linear(8, 16, rngs=nnx.Rngs(0)), snn.LIF((16,), rngs=nnx.Rngs(0)),
                           nnx.Linear(16, 4, rngs=nnx.Rngs(0)), snn.LI((4,), rngs=nnx.Rngs(0)))
    sig = onnx.step_signature(model, (8,))
    assert sig.state_shapes == [(1, 16), (1, 4)] and sig.output_shape == (1, 4) and sig.num_state == 2
    assert sig.input_names == ["x", "state_0", "state_1"] and sig.output_names == ["out", "new_state_0", "new_state_1"]
    seq = onnx.step_signature(model, (8,), batch=2, sequence_length=5)
    assert seq.input_shape == (5, 2, 8) and seq.output_shape == (5, 2, 4) and seq.output_names[1] == "final_state_0"
    assert [s.shape for s in seq.seed_state()] == [(2, 16), (2, 4)]
    with pytest.raises(TypeError, match="initial_state"):
        onnx.step_signature(nnx.Linear(2, 2, rngs=nnx.Rngs(0)), (2,))
    if importlib.util.find_spec("jax2onnx") is None:
        with pytest.raises(ImportError, match=r"spyx\[onnx\]"):
            onnx.to_onnx(model, (8,))


def test_zoo_registry_and_a_demo_that_learns():
    assert list(zoo.REGISTRY) == ["control-lif-es", "classification-rsnn", "language-s5"]
    assert [r.name for r in zoo.list_recipes(method="surrogate")] == ["classification-rsnn"]
    assert zoo.list_recipes(application="control", method="gradient") == []
    with pytest.raises(KeyError, match="unknown recipe 'nope'; available"):
        zoo.get("nope")
    losses = zoo.get("classification-rsnn").demo(steps=6)
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


V1 = {"compress", "evolve", "hybrid", "matfree", "onnx", "parallel_reset", "raven", "stochastic", "zoo", "PSU_LIF",
      "AssociativeLIF", "pack_spikes", "unpack_spikes", "packed_spike_dense", "es_gradient", "hybrid_gradient",
      "hybrid_diagnostics", "sges_gradient", "make_hybrid_train_step", "make_sges_hybrid_train_step",
      "ParallelResetLIF", "RavenRSM", "SpikingSlotMemory", "SlotRouter", "make_recall_batch", "SPSN",
      "StochasticAssociativeLIF", "StochasticAssociativeCuBaLIF", "sigmoid_bernoulli", "refractory_sigmoid_bernoulli"}
POST_1_0 = {"sigma_delta", "SigmaDelta", "graded_quant", "pack_nbit", "unpack_nbit", "packed_quant_dense",
            "sparse_quant_pack", "sparse_quant_unpack", "packing_footprint"}
RF = {"rf_ssm", "RFSSM", "ResonateFireSSM", "ResonateFire"}  # issue 15 part A; added at its merge


def test_namespace():
    names = set(E.__all__)
    assert len(names) == len(E.__all__)
    assert names - RF == V1 | POST_1_0
    assert all(hasattr(E, n) for n in E.__all__)
    assert E.PSU_LIF is snn.PSU_LIF and E.AssociativeLIF is snn.AssociativeLIF
    assert spyx.experimental is E and spyx.bench is importlib.import_module("spyx.bench")
    assert set(raven.__all__) == {"RavenRSM", "SlotRouter", "SpikingSlotMemory", "make_recall_batch"}
