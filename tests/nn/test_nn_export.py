"""spyx.nn.export: native encoding (nir.read, measured agreement), exact cases, and every error path."""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import nir
import numpy as np
import pytest
from flax import nnx

import spyx
import spyx.nn as snn
from tests.nn.models import mlp, neuron, spikes

DT = 1e-3

# Measured by test_native_agreement_is_as_documented and quoted in docs/nn.md (percent of (t, b, neuron)
# entries where the spikes agree; "aligned": native output at t-1 against spyx at t, which removes spyx's
# one-step spike latency). Linear(12, 32) -> layer(32), random decays/threshold, T=200, B=8, p=0.2 input.
NATIVE_AGREEMENT = {
    "LIF": (92.79, 98.41),
    "IF": (88.86, 93.29),
    "CuBaLIF": (90.79, 93.01),
    "RLIF": (92.87, 98.35),
}


def native_case(kind: str):
    model = snn.Sequential(nnx.Linear(12, 32, rngs=nnx.Rngs(0)), neuron(kind, (32,), 1))
    return model, spikes((200, 8, 12), seed=2, p=0.2)


@pytest.mark.parametrize("kind", list(NATIVE_AGREEMENT))
def test_native_agreement_is_as_documented(kind, tmp_path):
    model, x = native_case(kind)
    with pytest.warns(spyx.ApproximationWarning, match="native NIR export approximates"):
        graph = snn.export(model, (12,), dt=DT, encoding="native")
    path = tmp_path / "native.nir"
    spyx.save(graph, path)
    prog = spyx.compile(spyx.load(path), dt=DT, method="exact")
    out, _ = prog.run(prog.params, x)
    ref, _ = snn.run(model, x)
    ref, out = np.asarray(ref), np.asarray(out)
    agree = 100 * float(np.mean(ref == out))
    aligned = 100 * float(np.mean(ref[1:] == out[:-1]))
    print(f"native {kind}: agreement {agree:.2f}%, latency-aligned {aligned:.2f}%")
    assert ref.mean() > 0.01 and out.mean() > 0.01, "both must spike for the comparison to mean anything"
    assert agree < 100.0, "native is documented as approximate; an exact match means the test is wrong"
    assert (round(agree, 2), round(aligned, 2)) == pytest.approx(NATIVE_AGREEMENT[kind], abs=0.3)


def test_native_psu_lif_is_exact_and_silent():
    """PSU_LIF integrates and spikes in the same step without a reset: NIR's LI -> Threshold, exactly."""
    model, x = native_case("PSU_LIF")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph = snn.export(model, (12,), dt=DT, encoding="native")
    assert {n.kind for n in graph.nodes.values()} == {"Input", "Affine", "LI", "Threshold", "Output"}
    prog = spyx.compile(graph, dt=DT)
    out, _ = prog.run(prog.params, x)
    ref, _ = snn.run(model, x)
    assert 0.01 < float(np.mean(ref)) < 0.99
    assert np.array_equal(np.asarray(out), np.asarray(ref))


def test_native_file_reads_in_nir_with_one_neuron_node_per_layer(tmp_path):
    model = snn.Sequential(
        nnx.Linear(6, 8, rngs=nnx.Rngs(0)),
        neuron("LIF", (8,), 1),
        neuron("RCuBaLIF", (8,), 2),
        neuron("IF", (8,), 3),
        nnx.Linear(8, 3, rngs=nnx.Rngs(4)),
        neuron("LI", (3,), 5),
    )
    path = tmp_path / "native.nir"
    with pytest.warns(spyx.ApproximationWarning):
        spyx.save(model, path, input_shape=(6,), dt=DT, encoding="native")
    g = nir.read(str(path))
    kinds = {name: type(node).__name__ for name, node in g.nodes.items()}
    assert kinds == {
        "input": "Input",
        "0_linear": "Affine",
        "1_lif": "LIF",
        "2_rcubalif": "CubaLIF",
        "2_rcubalif_rec": "Linear",
        "3_if": "IF",
        "4_linear": "Affine",
        "5_li": "LI",
        "output": "Output",
    }
    assert ("2_rcubalif_rec", "2_rcubalif") in g.edges and ("2_rcubalif", "2_rcubalif_rec") in g.edges
    beta = np.clip(np.asarray(model.layers[1].beta[...], np.float64), 0, 1)
    np.testing.assert_allclose(np.exp(-DT / g.nodes["1_lif"].tau), beta, rtol=1e-6)
    np.testing.assert_allclose(g.nodes["1_lif"].r * (1 - beta), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(g.nodes["1_lif"].v_reset, 0.0)


def test_faithful_file_reads_in_nir(tmp_path):
    path = tmp_path / "faithful.nir"
    spyx.save(mlp(0, "RLIF"), path, input_shape=(12,), dt=DT)
    g = nir.read(str(path))
    assert {type(n).__name__ for n in g.nodes.values()} == {
        "Input",
        "Affine",
        "LI",
        "Threshold",
        "Delay",
        "Scale",
        "Linear",
        "Output",
    }
    np.testing.assert_allclose(g.nodes["1_rlif_delay"].delay, DT)
    # the file records its dt ("spyx.dt"), so spyx.compile and from_nir need none
    graph = spyx.load(path)
    assert graph.metadata["spyx.dt"] == DT
    x = spikes((15, 2, 12), seed=3)
    ref, _ = snn.run(mlp(0, "RLIF"), x)
    out, _ = snn.run(snn.from_nir(path), x)
    np.testing.assert_allclose(
        np.asarray(out), np.asarray(ref), rtol=0, atol=1e-6 * max(1.0, float(np.abs(ref).max()))
    )


def test_native_li_only_is_exact_and_silent():
    model = mlp(3, "LIF")
    readout = snn.Sequential(model.layers[2], model.layers[3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph = snn.export(readout, (16,), dt=DT, encoding="native")
    x = spikes((25, 2, 16), seed=4)
    prog = spyx.compile(graph, dt=DT)
    out, _ = prog.run(prog.params, x)
    ref, _ = snn.run(readout, x)
    np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_faithful_edge_decays(beta):
    """beta = 0 (tau = dt/1000) and beta = 1 everywhere (an I node) stay exact."""
    layer = snn.LIF((5,), beta=beta, threshold=0.7, rngs=nnx.Rngs(0))
    model = snn.Sequential(nnx.Linear(4, 5, rngs=nnx.Rngs(1)), layer)
    kinds = {type(n).__name__ for n in snn.export(model, (4,), dt=DT).nodes.values()}
    assert ("I" if beta == 1.0 else "LI") in kinds
    x = spikes((40, 3, 4), seed=6)
    prog = spyx.compile(snn.export(model, (4,), dt=DT), dt=DT)
    out, _ = prog.run(prog.params, x)
    ref, _ = snn.run(model, x)
    assert np.asarray(ref).sum() > 0
    assert np.array_equal(np.asarray(out), np.asarray(ref))


# -- errors ---------------------------------------------------------------------------------------------
class Custom(nnx.Module):
    def __call__(self, x):
        return x


def test_unknown_layer_is_named():
    model = snn.Sequential(nnx.Linear(3, 4, rngs=nnx.Rngs(0)), Custom(), snn.IF((4,)))
    for fn in (lambda: snn.lower(model, (3,)), lambda: snn.export(model, (3,), dt=DT)):
        with pytest.raises(spyx.UnsupportedError, match=r"layer 1_custom \(.*Custom\) has no lowering"):
            fn()


def test_alif_lowers_but_has_no_nir_form(tmp_path):
    model = snn.Sequential(nnx.Linear(3, 4, rngs=nnx.Rngs(0)), snn.ALIF((4,), rngs=nnx.Rngs(1)))
    graph = snn.lower(model, (3,))
    assert (
        graph.nodes["1_alif"].kind == "spyx.AdaptiveNeuron"
        and graph.nodes["1_alif_shift"].kind == "spyx.Shift"
    )
    with pytest.raises(spyx.ExportError, match=r"1_alif \(ALIF\).*no NIR primitive"):
        snn.export(model, (3,), dt=DT)
    path = tmp_path / "alif.nir"
    with pytest.raises(spyx.ExportError, match=r"1_alif \(ALIF\).*product of two signals"):
        spyx.save(model, path, input_shape=(3,), dt=DT)
    with pytest.raises(spyx.ExportError, match=r"node 1_alif is a spyx.AdaptiveNeuron.*no NIR equivalent"):
        spyx.save(graph, path)
    assert not path.exists()


def test_dt_and_encoding_errors(tmp_path):
    model = mlp(0)
    with pytest.raises(spyx.MissingDtError, match="dt"):
        snn.export(model, (12,))
    with pytest.raises(spyx.OptionError, match="> 0"):
        snn.export(model, (12,), dt=-1.0)
    with pytest.raises(spyx.OptionError, match="encoding"):
        snn.export(model, (12,), dt=DT, encoding="lossy")
    with pytest.raises(spyx.ExportError, match="input_shape"):
        spyx.save(model, tmp_path / "m.nir", dt=DT)
    assert not list(tmp_path.iterdir()), "no partial file may be written"
    exported = snn.export(model, (12,), dt=DT)
    without_dt = spyx.Graph(nodes=exported.nodes, edges=exported.edges)  # continuous, no recorded spyx.dt
    with pytest.raises(spyx.MissingDtError):
        snn.from_nir(without_dt)


def test_shape_errors_name_the_layer():
    with pytest.raises(spyx.ShapeError, match=r"layer 0_linear .*\(12,\).*\(10,\)"):
        snn.lower(mlp(0), (10,))
    model = snn.Sequential(nnx.Linear(4, 6, rngs=nnx.Rngs(0)), snn.IF((5,)))
    with pytest.raises(spyx.ShapeError, match=r"layer 1_if \(IF\) expects per-sample input \(5,\)"):
        snn.lower(model, (4,))
    conv = snn.Sequential(nnx.Conv(2, 3, (3, 3), rngs=nnx.Rngs(0)))
    with pytest.raises(spyx.ShapeError, match="channels-last"):
        snn.lower(conv, (8, 8))
    with pytest.raises(spyx.ShapeError, match="input_shape"):
        snn.lower(conv, (8, 0, 2))


def test_layouts_without_nir_form_are_refused():
    r = nnx.Rngs(0)
    with pytest.raises(spyx.UnsupportedError, match="asymmetric padding"):
        snn.lower(snn.Sequential(nnx.Conv(2, 3, (4, 4), strides=2, padding="SAME", rngs=r)), (9, 9, 2))
    with pytest.raises(spyx.UnsupportedError, match="1-D"):
        snn.lower(snn.Sequential(nnx.Linear(2, 3, rngs=r)), (5, 2))
    with pytest.raises(spyx.UnsupportedError, match="CIRCULAR"):
        snn.lower(snn.Sequential(nnx.Conv(2, 3, (3, 3), padding="CIRCULAR", rngs=r)), (6, 6, 2))


def test_conv_same_padding_with_even_kernel_round_trips():
    """JAX's SAME at stride 1 with an even kernel pads (low, high) = (t//2, t - t//2): NIR's "same"."""
    r = nnx.Rngs(0)
    model = snn.Sequential(nnx.Conv(2, 3, (4, 2), padding="SAME", rngs=r), neuron("LIF", (6, 6, 3), 1))
    graph = snn.lower(model, (6, 6, 2))
    assert graph.nodes["0_conv"].padding_mode == "same"
    x = spikes((15, 2, 6, 6, 2), seed=3)
    ref, _ = snn.run(model, x)
    prog = spyx.compile(graph)
    out, _ = prog.run(prog.params, jnp.moveaxis(x, -1, 2))
    assert np.asarray(ref).sum() > 0
    assert np.array_equal(np.moveaxis(np.asarray(out), 2, -1), np.asarray(ref))


def test_nested_sequential_bias_free_layers_and_map_readout_lower_exactly():
    r = nnx.Rngs(0)
    inner = snn.Sequential(
        nnx.Conv(2, 3, (3, 3), padding=1, use_bias=False, rngs=r), neuron("LIF", (5, 5, 3), 1)
    )
    model = snn.Sequential(
        inner, neuron("LI", (5, 5, 3), 2), snn.Flatten(), nnx.Linear(75, 4, use_bias=False, rngs=r)
    )
    graph = snn.lower(model, (5, 5, 2))
    assert {"0_0_conv", "0_1_lif", "1_li", "3_linear"} <= set(graph.nodes)
    assert graph.nodes["3_linear"].kind == "Linear"
    x = spikes((20, 2, 5, 5, 2), seed=8)
    ref, _ = snn.run(model, x)
    prog = spyx.compile(graph)
    out, _ = prog.run(prog.params, jnp.moveaxis(x, -1, 2))
    scale = max(1.0, float(np.max(np.abs(ref))))
    np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=0, atol=1e-6 * scale)
