"""QAT with qwix on a spyx.nn model: int8 stays within a few points of float on a temporal task (int4 and
ternary are measured and reported), and the exported integer NIR file reproduces the QAT model's spikes."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("qwix")
if not hasattr(__import__("spyx.nn", fromlist=["Sequential"]), "Sequential"):
    pytest.skip("spyx.nn is not in this build", allow_module_level=True)

import jax.numpy as jnp  # noqa: E402

import spyx  # noqa: E402
import spyx.nn as snn  # noqa: E402
from spyx.errors import OptionError  # noqa: E402
from spyx.quant.qat import FORMATS, export_quantized, qat_model, qat_weights, weight_layers  # noqa: E402
from spyx.quant.report import run_probed  # noqa: E402
from tests.quant.qat_task import DT, C, accuracy, make_model, order_task, train  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    model = make_model()
    train(model, 150)
    return model


@pytest.fixture(scope="module")
def test_set():
    return order_task(999, 256)


@pytest.mark.slow
def test_int8_qat_is_within_a_few_points_of_float(trained, test_set, record_property):
    x, y = test_set
    acc = {"float": accuracy(trained, x, y)}
    assert acc["float"] > 0.85, f"the float model did not learn the task ({acc['float']:.3f})"
    for fmt, pow2 in [("int8", False), ("int8", True), ("int4", False), ("ternary", False)]:
        label = fmt + (" pow2" if pow2 else "")
        qm, _ = qat_model(trained, x[0], fmt, pow2=pow2)
        acc[f"{label} before QAT"] = accuracy(qm, x, y)
        train(qm, 60, lr=5e-3, seed0=1000)
        acc[label] = accuracy(qm, x, y)
    for k, v in acc.items():
        record_property(f"accuracy {k}", v)
    print("\n" + "\n".join(f"{k:<20} {v:.3f}" for k, v in acc.items()))
    assert acc["int8"] >= acc["float"] - 0.05
    assert acc["int8 pow2"] >= acc["float"] - 0.05


EXPORTS = [(f, p) for f in FORMATS for p in (True, False) if not (f == "ternary" and not p)] + [
    ("ternary", False)
]


@pytest.mark.parametrize("fmt,pow2", EXPORTS, ids=[f"{f}{'-pow2' if p else ''}" for f, p in EXPORTS])
def test_export_reproduces_the_qat_model_spikes(trained, test_set, fmt, pow2, tmp_path, record_property):
    x, y = test_set
    x = x[:, :32]
    qm, _ = qat_model(trained, x[0], fmt, pow2=pow2)
    train(qm, 10, lr=5e-3, seed0=2000)
    ex = export_quantized(qm, (C,), fmt=fmt, dt=DT, pow2=pow2)
    path = tmp_path / "qat.nir"
    spyx.save(ex.graph, path)
    loaded = spyx.load(path)
    lo, hi = {"int8": (-128, 127), "int4": (-8, 7), "ternary": (-1, 1)}[fmt]
    for name, q, _ in qat_weights(qm, fmt, pow2=pow2).values():
        w = loaded.nodes[name].weight
        assert np.array_equal(w, np.round(w)) and w.min() >= lo and w.max() <= hi
        assert np.array_equal(w, q.T)  # the very integers the QAT forward pass used
    # hidden spikes of the QAT model (its first two layers, quantized by the same rule)
    hidden, _ = qat_model(snn.Sequential(qm.layers[0], qm.layers[1]), x[0], fmt, pow2=pow2)
    spikes_qat = np.asarray(snn.run(hidden, x)[0])
    out_qat = np.asarray(snn.run(qm, x)[0])
    values, _ = run_probed(loaded, {"input": np.asarray(x)}, dt=DT, names=["1_lif_delay"])
    spikes_nir = values["1_lif_delay"]
    out_nir = values[next(iter(loaded.outputs))]
    # the fake-quantized graph computes what the QAT model computes: identical spikes
    fake, _ = run_probed(ex.quantized.fake_graph, {"input": np.asarray(x)}, dt=DT, names=["1_lif_delay"])
    np.testing.assert_array_equal(fake["1_lif_delay"], spikes_qat)
    assert spikes_qat.sum() > 0
    flips = int(np.count_nonzero(spikes_nir != spikes_qat))
    record_property("spike_flips", flips)
    print(
        f"\n{fmt} pow2={pow2}: {flips} of {spikes_qat.size} hidden spike entries differ, "
        f"{int(spikes_qat.sum())} spikes"
    )
    if pow2 or fmt == "ternary":
        np.testing.assert_array_equal(spikes_nir, spikes_qat)  # exact by construction
    else:
        assert (
            flips <= 1e-3 * spikes_qat.size
        )  # float rounding of membranes divided by a non-power-of-2 scale
    if flips == 0:  # readout membranes equal up to float rounding (a flipped spike moves them, of course)
        np.testing.assert_allclose(
            out_nir, out_qat, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(out_qat).max()))
        )
    assert np.mean(np.argmax(out_nir[-1], -1) == np.argmax(out_qat[-1], -1)) >= 0.95
    assert ex.float_layers == ()
    assert [r.name for r in ex.quantized.fallbacks] == ["2_linear"]  # the LI readout keeps a Scale node


def test_rules_that_match_nothing_are_errors(trained, test_set):
    x, _ = test_set
    assert set(weight_layers(trained)) == {"layers/0", "layers/2"}
    with pytest.raises(OptionError, match="matched no module: 'layers/7'"):
        qat_model(trained, x[0], "int8", module_path="layers/7")
    with pytest.raises(OptionError, match="QAT format 'int3' is not one of int8, int4, ternary"):
        qat_model(trained, x[0], "int3")


def test_only_the_matched_layer_is_quantized(trained, test_set):
    x, _ = test_set
    qm, _ = qat_model(trained, x[0], "int4", module_path="layers/0")
    ex = export_quantized(qm, (C,), fmt="int4", dt=DT, module_path="layers/0")
    assert ex.float_layers == ("2_linear",)
    assert np.array_equal(ex.graph.nodes["2_linear"].weight, ex.float_graph.nodes["2_linear"].weight)
    w0 = ex.graph.nodes["0_linear"].weight
    assert np.array_equal(w0, np.round(w0)) and jnp.max(jnp.abs(w0)) <= 8
