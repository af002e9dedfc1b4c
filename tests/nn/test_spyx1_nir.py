"""spyx.nir (Spyx 1.0's to_nir / from_nir): node structure, exact round trips, the spyx1 profile on the same
files, and the error paths. Comparison with the real spyx==1.0.0 is in tests/compat."""

from __future__ import annotations

import jax.numpy as jnp
import nir
import numpy as np
import pytest
from flax import nnx

import spyx
import spyx.nir as snir
import spyx.nn as snn
from tests.nn.models import neuron, spikes

KINDS = ["IF", "LIF", "CuBaLIF", "RIF", "RLIF", "RCuBaLIF", "PSU_LIF"]


def scaled_linear(i, o, rngs, gain=3.0):
    layer = nnx.Linear(i, o, rngs=rngs)
    layer.kernel[...] = layer.kernel[...] * gain
    return layer


def mlp(kind, seed):
    r = nnx.Rngs(seed)
    return snn.Sequential(scaled_linear(5, 8, r), neuron(kind, (8,), seed), scaled_linear(8, 3, r), snn.IF((3,)))


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_and_spyx1_profile_reproduce_the_model(kind):
    model = mlp(kind, 3)
    x = spikes((30, 4, 5), seed=4, p=0.4)
    ref, _ = snn.run(model, x)
    assert 0.02 < float(ref.mean()) < 0.98
    graph = snir.to_nir(model, {"input": (5,)}, {"output": (3,)}, dt=1e-3)
    assert isinstance(graph, nir.NIRGraph)
    imported, out = snir.from_nir(graph, x, dt=1e-3)
    assert [type(layer) for layer in imported.layers] == [type(layer) for layer in model.layers]
    assert np.array_equal(np.asarray(out), np.asarray(ref))
    prog = spyx.compile(spyx.io.from_nir_graph(graph), profile="spyx1{dt=1e-3}")
    out2, _ = prog.run(prog.params, x)
    assert np.array_equal(np.asarray(out2), np.asarray(ref))
    for a, b in zip(model.layers, imported.layers, strict=True):
        for attr in ("beta", "alpha", "recurrent_w", "kernel"):
            if isinstance(getattr(a, attr, None), nnx.Param):
                want = np.clip(a.__getattribute__(attr)[...], 0, 1) if attr in ("beta", "alpha") else a.__getattribute__(
                    attr)[...]
                np.testing.assert_allclose(np.asarray(getattr(b, attr)[...]), np.asarray(want), rtol=1e-6, atol=1e-7)


def test_node_structure_is_spyx1s():
    r = nnx.Rngs(0)
    model = snn.Sequential(
        nnx.Linear(4, 6, rngs=r), snn.LIF((6,), beta=0.8, rngs=r), nnx.Linear(6, 6, use_bias=False, rngs=r),
        snn.PSU_LIF((6,), beta=0.8, rngs=r), snn.RCuBaLIF((6,), rngs=r), nnx.Linear(6, 2, rngs=r), snn.LI((2,), rngs=r),
    )
    g = snir.to_nir(model, {"input": (4,)}, {"output": (2,)}, dt=1.0)
    kinds = {k: type(v).__name__ for k, v in g.nodes.items()}
    assert kinds == {
        "input": "Input", "layer_0": "Affine", "layer_1": "LIF", "layer_2": "Linear", "layer_3": "LI",
        "layer_3_threshold": "Threshold", "layer_4": "NIRGraph", "layer_5": "Affine", "output": "Output",
    }  # the LI readout is skipped, as Spyx 1.0 does
    np.testing.assert_allclose(g.nodes["layer_1"].tau, 1 / (1 - 0.8), rtol=1e-6)
    np.testing.assert_allclose(g.nodes["layer_1"].r, 0.8, rtol=1e-6)
    np.testing.assert_allclose(g.nodes["layer_3"].tau, 1 / (1 - 0.8), rtol=1e-6)
    sub = g.nodes["layer_4"]
    assert set(sub.nodes) == {"layer_4.input", "layer_4.w_rec", "layer_4.lif", "layer_4.output"}
    assert ("layer_4.lif", "layer_4.w_rec") in sub.edges and ("layer_4.w_rec", "layer_4.lif") in sub.edges
    np.testing.assert_array_equal(sub.nodes["layer_4.w_rec"].weight, np.asarray(model.layers[4].recurrent_w[...]).T)
    chain = [("input", "layer_0"), ("layer_0", "layer_1"), ("layer_1", "layer_2"), ("layer_2", "layer_3"),
             ("layer_3", "layer_3_threshold"), ("layer_3_threshold", "layer_4"), ("layer_4", "layer_5"),
             ("layer_5", "output")]
    assert [tuple(e) for e in g.edges] == chain


def test_conv_pool_flatten_channels_first_file_channels_last_model():
    r = nnx.Rngs(1)
    model = snn.Sequential(
        nnx.Conv(2, 4, (3, 3), padding="VALID", rngs=r), neuron("LIF", (6, 6, 4), 2),
        snn.SumPool(2, 2, "SAME"), snn.Flatten(), scaled_linear(36, 5, r), neuron("LIF", (5,), 3),
    )
    x = spikes((20, 2, 8, 8, 2), seed=5, p=0.5)
    ref, _ = snn.run(model, x)
    g = snir.to_nir(model, {"input": (2, 8, 8)}, {"output": (5,)})
    assert tuple(g.nodes["layer_0"].output_type["output"]) == (4, 6, 6)
    assert g.nodes["layer_1"].tau.shape == (4, 6, 6)  # per-neuron (H, W, C) params written (C, H, W)
    m2, (out, states) = snir.from_nir(g, x, return_all_states=True)
    assert np.array_equal(np.asarray(out), np.asarray(ref))
    assert states[1].shape == (20, 2, 6, 6, 4) and states[0] is None
    odd = snn.Sequential(snn.SumPool(2, 2, "SAME"))
    g2 = snir.to_nir(odd, {"input": (3, 5, 5)}, {"output": (3, 3, 3)})
    assert np.any(g2.nodes["layer_0"].padding != 0)
    assert snir.from_nir(g2, jnp.ones((2, 1, 5, 5, 3)))[0].layers[0].padding == "SAME"


def test_errors():
    r = nnx.Rngs(0)
    li = nir.NIRGraph(
        nodes={"input": nir.Input(np.array([3])), "li": nir.LI(tau=np.ones(3), r=np.ones(3), v_leak=np.zeros(3)),
               "output": nir.Output(np.array([3]))},
        edges=[("input", "li"), ("li", "output")],
    )
    with pytest.raises(ValueError, match="nir.LI without a following nir.Threshold"):
        snir.from_nir(li, jnp.ones((2, 1, 3)))

    class Quantized(nnx.Module):
        qwix_path = "fake"

    with pytest.raises(ValueError, match="quantiz"):
        snir.to_nir(snn.Sequential(nnx.Linear(2, 2, rngs=r), Quantized()), {"input": (2,)}, {"output": (2,)})
    assert snir.reorder_layers({"a": 0, "b": 0}, {"b": 2, "a": 1, "c": 3}) == {"a": 1, "b": 2}
    with pytest.raises(KeyError):
        snir.reorder_layers({"a": 0}, {})


def test_include_li_keeps_the_readout():
    r = nnx.Rngs(2)
    model = snn.Sequential(scaled_linear(5, 8, r), neuron("LIF", (8,), 2), nnx.Linear(8, 3, rngs=r), neuron("LI", (3,), 3))
    x = spikes((30, 2, 5), seed=3, p=0.4)
    ref, _ = snn.run(model, x)
    g = snir.to_nir(model, {"input": (5,)}, {"output": (3,)}, dt=1e-3, include_li=True)
    assert type(g.nodes["layer_3"]).__name__ == "LI"
    with pytest.raises(ValueError, match="nir.LI without"):
        snir.from_nir(g, x, dt=1e-3)
    imported, out = snir.from_nir(g, x, dt=1e-3, include_li=True)
    assert isinstance(imported.layers[3], snn.LI)
    np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=1e-6, atol=1e-6)
    prog = spyx.compile(spyx.io.from_nir_graph(g), profile="spyx1{dt=1e-3}")
    np.testing.assert_allclose(np.asarray(prog.run(prog.params, x)[0]), np.asarray(ref), rtol=1e-5, atol=1e-5)


def test_spyx1_encoding_is_the_same_writer(tmp_path):
    model = mlp("RLIF", 9)
    path = tmp_path / "m.nir"
    spyx.save(model, path, input_shape=(5,), dt=1e-3, encoding="spyx1")
    x = spikes((25, 2, 5), seed=1, p=0.4)
    _, out = snir.from_nir(nir.read(str(path)), x, dt=1e-3)
    assert np.array_equal(np.asarray(out), np.asarray(snn.run(model, x)[0]))


def test_flat_recurrent_motif_is_a_recurrent_layer():
    """A flat ``lif <-> Affine`` cycle (as other exporters write it) becomes one RLIF, as Spyx 1.0 collapses it."""
    rng = np.random.default_rng(0)
    w_in, w_rec = rng.normal(size=(4, 3)).astype(np.float32), 0.3 * rng.normal(size=(4, 4)).astype(np.float32)
    tau = np.full(4, 4.0, np.float32)
    g = nir.NIRGraph(
        nodes={
            "input": nir.Input(np.array([3])),
            "fc": nir.Linear(weight=w_in),
            "lif": nir.LIF(tau=tau, r=np.ones(4), v_leak=np.zeros(4), v_threshold=np.full(4, 0.5)),
            "rec": nir.Affine(weight=w_rec, bias=np.zeros(4, np.float32)),
            "output": nir.Output(np.array([4])),
        },
        edges=[("input", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")],
    )
    x = spikes((20, 2, 3), seed=1, p=0.5)
    model, out = snir.from_nir(g, x, dt=1.0)
    assert [type(layer).__name__ for layer in model.layers] == ["Linear", "RLIF"]
    np.testing.assert_array_equal(np.asarray(model.layers[1].recurrent_w[...]), w_rec.T)
    np.testing.assert_allclose(np.asarray(model.layers[1].beta[...]), 1 - 1 / tau, rtol=1e-6)
    # the same layers built by hand give the same outputs
    r = nnx.Rngs(0)
    lin = nnx.Linear(3, 4, use_bias=False, rngs=r)
    lin.kernel[...] = jnp.asarray(w_in.T)
    rlif = snn.RLIF((4,), threshold=jnp.full(4, 0.5), rngs=r)
    rlif.recurrent_w[...] = jnp.asarray(w_rec.T)
    rlif.beta = nnx.Param(jnp.asarray(1 - 1 / tau))
    ref, _ = snn.run(snn.Sequential(lin, rlif), x)
    assert float(ref.mean()) > 0.05
    assert np.array_equal(np.asarray(out), np.asarray(ref))
