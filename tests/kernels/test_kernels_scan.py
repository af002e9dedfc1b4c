"""The ``lax.scan`` implementation (the CPU default) of every fused neuron family equals ``spyx.nn.run`` of the
real layer, values and gradients; each ``spyx.axn`` surrogate appears in at least one case (the Pallas tests
cover them again), and the recurrent layers, whose only fused implementation this is, get their own cases."""

from __future__ import annotations

import zlib

import pytest

from spyx.kernels import KernelConfig
from tests.kernels.cases import FAMILIES, SURROGATES, assert_match, inputs, run_both

CASES = [
    ("lif", "superspike", (11, 3, 37), False),
    ("lif", "boxcar", (11, 3, 37), True),
    ("if", "arctan", (11, 3, 37), False),
    ("if", "custom", (11, 3, 37), False),
    ("cuba_lif", "triangular", (11, 3, 37), False),
    ("cuba_lif", "tanh", (7, 2, 4, 5), True),  # conv-shaped hidden (channels-last), 0-d parameters
    ("psu_lif", "straight_through", (11, 3, 37), False),
    ("psu_lif", "custom_pair", (11, 3, 37), False),
    ("alif", "superspike", (11, 3, 37), False),
    ("li", None, (11, 3, 37), False),
    ("value_reset", "arctan", (11, 3, 37), False),
    ("delayed_subtract", "triangular", (11, 3, 37), False),
    ("rif", "arctan", (9, 4, 13), False),
    ("rlif", "superspike", (9, 4, 13), False),
    ("rcuba_lif", "custom_pair", (9, 4, 13), False),
]


@pytest.mark.parametrize(("family", "surrogate", "shape", "scalar"), CASES)
def test_scan_matches_nn(family, surrogate, shape, scalar):
    fam = FAMILIES[family]
    x, states, params = inputs(fam, shape, seed=zlib.crc32(f"{family}/{surrogate}".encode()), scalar_params=scalar)
    sg = SURROGATES[surrogate] if surrogate else None
    result = run_both(fam, sg, x, states, params, impl="scan")
    assert_match(fam, result, what=f"{family}/{surrogate}/scan")


@pytest.mark.parametrize("family", ["lif", "rcuba_lif"])
def test_scan_unrolled_matches_nn(family):
    """``scan_unroll`` that does not divide ``T`` (11 steps by 4) changes nothing but speed."""
    fam = FAMILIES[family]
    x, states, params = inputs(fam, (11, 2, 13), seed=99)
    result = run_both(fam, SURROGATES["arctan"], x, states, params, impl="scan", config=KernelConfig(scan_unroll=4))
    assert_match(fam, result, what=f"{family}/scan_unroll=4")


def test_every_surrogate_is_covered():
    """The case lists of this file and the Pallas file together name every surrogate of ``cases.SURROGATES``."""
    from tests.kernels.test_kernels_pallas import CASES as PALLAS

    scan = {c[1] for c in CASES} - {None}
    pallas = {c[1] for c in PALLAS} - {None}
    assert scan == set(SURROGATES)
    assert pallas == set(SURROGATES)
    assert {c[0] for c in PALLAS} == {f for f, fam in FAMILIES.items() if not fam.recurrent}
