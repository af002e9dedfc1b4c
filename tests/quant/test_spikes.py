"""Quantized NIR files reproduce the fake-quantized float graph's spikes exactly (float32).

For random graphs and corpus files: quantize, save to NIR, load back; the loaded weights are integers in
the bit range; run it and the fake-quantized float graph (weights ``q * s``, neurons unscaled) with the
backend on the same seeded spikes: every spiking node and output agrees exactly. With power-of-two scales
every membrane is the fake graph's divided by an exact power of two, so non-spiking outputs agree bit for
bit too. Agreement with the *unquantized* graph is measured and recorded (``record_property`` and printed
with ``-s``), not asserted: it depends on the network.
"""

from __future__ import annotations

import numpy as np
import pytest

import spyx
import spyx.passes.inline
from spyx.passes.quantize import quantize_graph
from spyx.quant.plan import WEIGHT_KINDS
from spyx.quant.report import random_inputs, report, run_probed
from tests.conftest import corpus_files
from tests.graphgen import DT, random_graph

CONFIGS = [  # (seed, options): every granularity, fold mode, ternary, pow2 and float scales
    (0, dict(bits=8, pow2=True)),
    (1, dict(bits=4, granularity="tensor")),
    (2, dict(bits=8, fold="gain")),
    (4, dict(ternary=True, pow2=True)),
    (5, dict(bits=2, pow2=True, fold="gain")),
    (7, dict(bits=6, threshold_bits=16, decay="shift", dt=DT)),
    (11, dict(bits=8, granularity="tensor", pow2=True)),
    (9, dict(bits=8, pow2=True, readout="gain")),
]


def _spiking(a: np.ndarray) -> bool:
    return bool(np.all((a == 0) | (a == 1)))


def _roundtrip(graph, tmp_path, name="q.nir"):
    path = tmp_path / name
    spyx.save(graph, path)
    return spyx.load(path)


def _check_integers(graph, bits, ternary):
    lo, hi = (-1, 1) if ternary else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    n = 0
    for path, node in graph.walk():
        if node.kind in WEIGHT_KINDS:
            w = np.asarray(node.weight)
            assert np.array_equal(w, np.round(w)), f"{path}: weights are not integers"
            assert w.min() >= lo and w.max() <= hi, f"{path}: weights outside [{lo}, {hi}]"
            n += 1
    assert n > 0


def _assert_identical(fake, quant, x, dt, exact_values: bool):
    vf, _ = run_probed(fake, x, dt=dt)
    vq, _ = run_probed(quant, x, dt=dt)
    assert set(vf) <= set(vq)
    spikes = 0
    for k, a in vf.items():
        b = vq[k]
        if _spiking(a) and _spiking(b):
            np.testing.assert_array_equal(b, a, err_msg=f"spikes of {k} differ")
            spikes += int(a.sum())
        elif k in fake.outputs and (exact_values or np.all(np.isfinite(a))):
            # outputs of non-spiking readouts: the quantize-graph pass restored their scale (Scale fallback)
            if exact_values:
                np.testing.assert_array_equal(b, a, err_msg=f"output {k} differs")
            else:
                np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5, err_msg=f"output {k} differs")
    return spikes


@pytest.mark.parametrize(
    "seed,opts", CONFIGS, ids=[f"seed{s}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for s, o in CONFIGS]
)
def test_random_graph_file_reproduces_fake_quantized_spikes(seed, opts, tmp_path, record_property):
    g = random_graph(seed)
    r = quantize_graph(g, **opts)
    loaded = _roundtrip(r.graph, tmp_path)
    _check_integers(loaded, opts.get("bits", 8), opts.get("ternary", False))
    x = random_inputs(r.fake_graph, T=40, B=3, seed=seed, rate=0.3)
    exact = opts.get("pow2", False) and opts.get("fold", "threshold") == "threshold"
    if opts.get("readout") == "gain":
        assert not r.fallbacks, [f.fallback for f in r.fallbacks]  # the readout took its scale as a gain
    spikes = _assert_identical(r.fake_graph, loaded, x, DT, exact)
    assert spikes > 0, "no neuron fired: the equality above would prove nothing"
    record_property("spikes_checked", spikes)
    print(f"\nseed {seed} {opts}: {spikes} spikes identical to the fake-quantized graph")


@pytest.mark.parametrize("seed,opts", [CONFIGS[3], CONFIGS[5]], ids=["ternary", "int6-formats"])
def test_agreement_with_the_float_graph_is_reported(seed, opts, record_property):
    g = random_graph(seed)
    r = quantize_graph(g, **opts)
    rep = report(g, r, dt=DT, T=40, B=3, seed=seed, rate=0.3)
    names = {n.name for n in rep.nodes}
    assert names and names <= set(spyx.passes.inline.inline_graph(g)[0].nodes)
    for n in rep.nodes + rep.outputs:
        if n.spiking:
            assert 0.0 <= n.agreement <= 1.0
            assert (n.mismatches == 0) == (n.agreement == 1.0)
    assert {w.name for w in rep.weights} == {layer.name for layer in r.layers}
    record_property("min_agreement_vs_float", rep.min_agreement)
    print(f"\nseed {seed} {opts}:\n{rep.table()}")


def _corpus_case(name: str) -> tuple[float, int, int]:
    """(dt, T, B) per corpus file: the NIR paper's dt for the LIF and Braille files, one unit per step for the
    Sinabs/Spyx CNNs (IF with r = 1), fewer steps for the large CNN."""
    if "cnn" in name:
        return 1.0, 12, 2
    return 1e-4, (200 if "lif" in name else 60), 2


@pytest.mark.parametrize("name", corpus_files())
def test_corpus_file_quantized_reproduces_fake_quantized_spikes(corpus, name, tmp_path, record_property):
    dt, T, B = _corpus_case(name)
    g, _ = spyx.passes.inline.inline_graph(spyx.load(corpus / name, repair=True))  # nested graphs fold too
    r = quantize_graph(g, bits=8, pow2=True)
    loaded = _roundtrip(r.graph, tmp_path)
    _check_integers(loaded, 8, False)
    x = random_inputs(r.fake_graph, T=T, B=B, seed=1, rate=0.3)
    spikes = _assert_identical(r.fake_graph, loaded, x, dt, exact_values=True)
    assert spikes > 0
    rep = report(g, r, dt=dt, inputs=x)
    record_property("spikes_checked", spikes)
    record_property("min_agreement_vs_float", rep.min_agreement)
    print(f"\n{name}: {spikes} spikes identical; fallbacks: {[f.name for f in r.fallbacks]}\n{rep.table()}")
    assert not [f for f in r.fallbacks if "Output" not in (f.fallback or "")], "only readouts may fall back"
