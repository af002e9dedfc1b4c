"""The Loihi 2 integer conversion shared by ``lava{fixed_pt=true}`` and ``quantize --target loihi2``
(:mod:`spyx.quant.loihi2`) against the NIR paper converter's formulas (neuromorphs/NIR ``paper/nir_to_lava.py``:
``int(dt/tau * 4095)``, ``int(v * 131071) >> 9``, ``(w * dt/tau * 256).astype(int32)``), written out here."""

from __future__ import annotations

import numpy as np

import spyx
from spyx.quant.loihi2 import decay_tau, dense_weights, lif_codes, voltage_decay_code
from spyx.targets import quantize_for

F = np.float32


def test_codes_follow_the_converters_python_arithmetic():
    rng = np.random.default_rng(3)
    tau = rng.uniform(1e-4, 5e-2, 200).astype(F)
    thr = rng.uniform(0.01, 60.0, 200).astype(F)
    c = lif_codes(tau, thr, 1e-4)
    assert c.dv.tolist() == [int(g * 4095) for g in (1e-4 / tau)]  # numpy float32 scalars, Python int()
    assert c.vth.tolist() == [int(v * 131071) >> 9 for v in thr]
    assert set(c.du.tolist()) == {int(1.0 * 4095)}
    w = rng.normal(0, 0.5, (200, 3))
    want = (w * (1e-4 / tau).astype(np.float64)[:, None] * 256).astype(np.int32)
    want = (np.clip(want, -256, 255) >> 1) << 1  # mixed sign: weightutils clip_weights + truncate_weights
    np.testing.assert_array_equal(dense_weights(w, c.gain), want)
    pos = np.abs(w) * 100
    np.testing.assert_array_equal(dense_weights(pos), np.clip((pos * 256).astype(np.int32), 0, 255))


def test_decay_tau_round_trips_every_code():
    """The converter truncates, so ``dt * 4095 / d`` itself often converts to ``d - 1``; decay_tau does not."""
    d = np.arange(1, 4096)
    for dt in (1e-4, 1e-3):
        np.testing.assert_array_equal(voltage_decay_code(decay_tau(d, dt), dt), d)
    naive = voltage_decay_code(np.asarray(1e-4 * 4095 / d, F), 1e-4)
    assert np.any(naive != d)


def test_quantize_for_loihi2_gives_the_profiles_decay_codes(corpus):
    """quantize --target loihi2 reports the decay codes the lava{fixed_pt=true} profile runs, and the
    quantized graph, converted again, runs them too."""
    g = spyx.load(corpus / "lif_norse.nir")
    prog = spyx.compile(g, profile="lava{fixed_pt=true}")
    r = quantize_for(g, "loihi2", bits=8, dt=1e-4)
    (report,) = [f for f in r.quantized.formats if f.name == "1"]
    (tau,) = [c for c in report.changes if c.param == "tau"]
    np.testing.assert_array_equal(tau.codes, prog.graph.nodes["1"].dv)
    again = spyx.compile(r.quantized.fake_graph, profile="lava{fixed_pt=true}")
    np.testing.assert_array_equal(again.graph.nodes["1"].dv, prog.graph.nodes["1"].dv)
    np.testing.assert_array_equal(again.graph.nodes["1"].vth, prog.graph.nodes["1"].vth)
