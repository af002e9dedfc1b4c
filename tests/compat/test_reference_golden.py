"""The reference records against the contract's golden numbers (spyx-api.md §18, printed to 6 decimals).

These check the *reference* (the real Spyx 1.0 run by ``spyx1_reference.py``), not our package: that the generator
imported the right package and that the cases build what the contract describes, so that the parity tests compare
against the numbers the contract was written from. Our package is held to the same numbers through the parity tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from . import compat_record as R

pytestmark = pytest.mark.interop

GOLD_ATOL = 1.5e-6  # the contract prints 6 decimals

# the reference cases these tests read (so that running only this module generates only them)
CASES_USED = ["nn.draws.golden_18_1", "nn.model_18_2.LIF", "nn.model_18_2.CuBaLIF", "nn.model_18_2.ALIF",
              "nn.model_18_2.RCuBaLIF", "nn.golden_18_4", "fn.integral_accuracy.0.golden",
              "data.latency_code", "data.angle_code", "data.rate_code.golden", "data.shift_augment",
              "data.grain_transforms_deterministic", "quant.binary_activation_error", "data.plumbing",
              "optimize.fit.golden_with_eval", "optimize.compile_fit.golden"]


def ref(reference, name: str) -> R.Record:
    rec = reference.record(name)
    if isinstance(rec, str):
        pytest.skip(rec)
    assert rec.error is None, rec.error["traceback"]
    return rec


def close(rec: R.Record, path: str, expected) -> None:
    np.testing.assert_allclose(rec.arrays[path], np.asarray(expected, np.float64), rtol=0, atol=GOLD_ATOL,
                               err_msg=path)


def test_decay_draws_18_1(reference):
    r = ref(reference, "nn.draws.golden_18_1")
    first = [0.735339, 0.286751, 0.323096, 0.227643]
    second = [0.028740, 0.069930, 0.549017, 0.415794]
    close(r, "LIF/beta", first)
    close(r, "ALIF/beta", first)
    close(r, "ALIF/gamma", second)
    close(r, "CuBaLIF/alpha", first)
    close(r, "CuBaLIF/beta", second)
    close(r, "RLIF/recurrent_w", [[0.009414, -0.008530, -0.007076], [-0.010894, -0.008210, 0.005590],
                                  [0.006851, -0.009607, 0.014844]])
    close(r, "RLIF/beta", second[:3])
    close(r, "LI/beta", [0.8] * 4)
    assert r.leaves["LIF_beta_0.8/beta"] == {"kind": "array", "dtype": "float32", "shape": [], "var": "Param"}
    close(r, "LIF_beta_0.8/beta", 0.8)
    lo, hi = r.arrays["large_LIF_beta_min_max/0"], r.arrays["large_LIF_beta_min_max/1"]
    assert 0 < lo < hi < 1


@pytest.mark.parametrize("neuron, rows", [
    ("LIF", [[0, 0], [0, 0], [0, 0], [-0.335376, 0.336898], [-0.603678, 0.606417], [0.274839, 0.163827]]),
    ("CuBaLIF", [[0, 0], [0, 0], [0, 0], [-0.543690, 0.328915], [-0.978642, 0.592048], [-0.897290, 1.661201]]),
    ("ALIF", [[0, 0], [0, 0], [0, 0], [-0.543690, 0.328915], [-0.978642, 0.592048], [-0.353600, 1.332285]]),
    ("RCuBaLIF", [[0, 0], [0, 0], [0, 0], [0.343585, 0.173131], [0.618453, 0.311635], [0.494762, 0.249308]]),
])
def test_whole_model_18_2(reference, neuron, rows):
    r = ref(reference, f"nn.model_18_2.{neuron}")
    np.testing.assert_allclose(r.arrays["out"][:, 0, :], rows, rtol=0, atol=GOLD_ATOL)
    if neuron == "LIF":
        close(r, "state_as_constructed/layers/1/beta", [0.798982, 0.811385, 0.402508, 0.317608])
        np.testing.assert_allclose(r.arrays["final_state/1"][0], [3.350288, -4.946550, -2.259868, -1.517532],
                                   rtol=0, atol=GOLD_ATOL)
        np.testing.assert_allclose(r.arrays["final_state/3"][0], [0.274839, 0.163827], rtol=0, atol=GOLD_ATOL)
        assert r.leaves["final_state/0"]["kind"] == "none" and r.leaves["final_state/2"]["kind"] == "none"


SURROGATE_GRADS = {  # §18.3, at x = [-1, -0.5, -0.25, 0, 0.25, 0.5, 1]
    "superspike.0": [0.001479, 0.005487, 0.019025, 1, 0.019025, 0.005487, 0.001479],
    "arctan.0": [0.007864, 0.029284, 0.091801, 0.318310, 0.091801, 0.029284, 0.007864],
    "tanh.0": [0.419974, 0.786448, 0.940015, 1, 0.940015, 0.786448, 0.419974],
    "tanh.1": [0.070651, 0.419974, 0.786448, 1, 0.786448, 0.419974, 0.070651],
    "triangular.0": [0, 0, 0.5, 1, 0.5, 0, 0],
    "boxcar.0": [0, 0.5, 0.5, 0.5, 0.5, 0.5, 0],
    "custom.0": [-1, -0.5, -0.25, 0, 0.25, 0.5, 1],
}


CASES_USED += [f"axn.{c}" for c in SURROGATE_GRADS]


@pytest.mark.parametrize("case", sorted(SURROGATE_GRADS))
def test_surrogate_grads_18_3(reference, case):
    r = ref(reference, f"axn.{case}")
    grid = r.arrays["inputs/grid"]
    idx = [int(np.flatnonzero(grid == v)[0]) for v in (-1, -0.5, -0.25, 0, 0.25, 0.5, 1)]
    np.testing.assert_allclose(r.arrays["grad"][idx], SURROGATE_GRADS[case], rtol=0, atol=GOLD_ATOL)
    np.testing.assert_array_equal(r.arrays["fwd"][idx], [0, 0, 0, 0, 1, 1, 1])
    if case == "boxcar.0":  # exactly 0 at the window edges +-1
        edges = [int(np.flatnonzero(grid == v)[0]) for v in (-1.0, 1.0)]
        np.testing.assert_array_equal(r.arrays["grad"][edges], [0, 0])


def test_single_steps_18_4(reference):
    r = ref(reference, "nn.golden_18_4")
    np.testing.assert_array_equal(r.arrays["cubalif/spikes"], [[1]])
    close(r, "cubalif/state", [[1.55, 0.75]])
    np.testing.assert_array_equal(r.arrays["alif/spikes"], [[1, 0]])
    close(r, "alif/state", [[0.55, 0.68, 0.44, 0.48]])
    np.testing.assert_array_equal(r.arrays["lif_run/spikes"][:, 0, 0], [0, 0, 1, 0])
    close(r, "lif_run/state", np.ones((2, 3)))
    np.testing.assert_array_equal(r.arrays["psu_parallel/spikes"][:, 0, :],
                                  [[0, 1, 0, 1], [0, 0, 0, 0], [1, 1, 1, 0], [1, 0, 1, 0], [1, 0, 0, 0]])


LOSSES = [
    ("integral_crossentropy.0.golden", 0.7860149), ("integral_crossentropy.1.golden", 0.6110150),
    ("integral_crossentropy.2.golden", 0.7860149), ("mse_spikerate.0.golden", 0.0516667),
    ("mse_spikerate.1.golden", 0.0538889), ("silence_reg.0.silence_golden", 2.0),
    ("sparsity_reg.0.sparsity_golden", 11.22),
]
CASES_USED += [f"fn.{c}" for c, _ in LOSSES]


@pytest.mark.parametrize("case, value", LOSSES)
def test_losses_18_5(reference, case, value):
    close(ref(reference, f"fn.{case}"), "value", value)


def test_accuracy_18_5(reference):
    r = ref(reference, "fn.integral_accuracy.0.golden")
    close(r, "value/0", 1.0)
    np.testing.assert_array_equal(r.arrays["value/1"], [0, 1])


def _spike_times(train):  # [T, ...] one-hot -> first index, -1 when silent
    t = np.argmax(train, axis=0)
    return np.where(train.any(axis=0), t, -1)


def test_encoders_18_6(reference):
    r = ref(reference, "data.latency_code")
    np.testing.assert_array_equal(_spike_times(r.arrays["golden"]), [0, 0, 2, 2, 2, -1, 4, -1, 0])
    r = ref(reference, "data.angle_code")
    np.testing.assert_array_equal(np.argmax(r.arrays["golden"], -1), [0, 0, 1, 2, 3, 4, 4])
    r = ref(reference, "data.rate_code.golden")
    np.testing.assert_array_equal(r.arrays["a"], [[[0, 1, 1], [0, 1, 1], [0, 0, 1], [0, 1, 0]]])
    assert r.leaves["a"]["dtype"] == "uint8"
    np.testing.assert_array_equal(r.arrays["b"][0].T, [[0, 0, 0, 0, 0, 0], [1, 1, 0, 1, 0, 1], [1, 1, 1, 0, 0, 0]])
    r = ref(reference, "data.shift_augment")
    np.testing.assert_array_equal(r.arrays["golden"], [1, 2, 3, 4, 5, 0])
    r = ref(reference, "data.grain_transforms_deterministic")
    assert r.leaves["latency"]["shape"] == [2, 3]
    times = _spike_times(np.unpackbits(r.arrays["latency"], axis=0)[:10])
    np.testing.assert_array_equal(times, [0, 4, -1])
    r = ref(reference, "quant.binary_activation_error")
    assert r.leaves["golden.int8"]["kind"] == "float"
    np.testing.assert_allclose(r.leaves["golden.int8"]["value"], 7.873774e-05, rtol=1e-6)


def test_grain_loader_order_18_7(reference):
    r = ref(reference, "data.plumbing")
    np.testing.assert_array_equal(r.arrays["plain/0/labels"], [0, 1, 2, 3])
    np.testing.assert_array_equal(r.arrays["plain/1/labels"], [4, 5, 6, 7])
    np.testing.assert_array_equal(r.arrays["shuffled_labels_seed0/0"], [0, 4, 6, 7])
    np.testing.assert_array_equal(r.arrays["shuffled_labels_seed0/1"], [8, 3, 1, 9])


@pytest.mark.parametrize("case, key", [("fit.golden_with_eval", "history/{e}/train_loss"),
                                       ("compile_fit.golden", "history/train_loss")])
def test_training_18_2(reference, case, key):
    r = ref(reference, f"optimize.{case}")
    gold = [1.643214, 1.459069, 1.298351]
    if "{e}" in key:
        got = [r.leaves[key.format(e=e)]["value"] for e in range(3)]
    else:
        got = r.arrays[key]
    np.testing.assert_allclose(got, gold, rtol=0, atol=GOLD_ATOL)
