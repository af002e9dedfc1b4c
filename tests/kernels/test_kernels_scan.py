"""The ``lax.scan`` implementation of every fused neuron family equals ``spyx.nn.run`` of the real layer, values
and gradients, for every ``spyx.axn`` surrogate (the recurrent layers for a few)."""

from __future__ import annotations

import zlib

import pytest

from tests.kernels.cases import FAMILIES, SURROGATES, assert_match, inputs, run_both

SPIKING = ["lif", "if", "cuba_lif", "psu_lif"]


@pytest.mark.parametrize("surrogate", sorted(SURROGATES))
@pytest.mark.parametrize("family", SPIKING)
def test_scan_matches_nn_every_surrogate(family, surrogate):
    fam = FAMILIES[family]
    x, states, params = inputs(fam, (11, 3, 37), seed=zlib.crc32(f"{family}/{surrogate}".encode()))
    result = run_both(fam, SURROGATES[surrogate], x, states, params, impl="scan")
    assert_match(fam, result, what=f"{family}/{surrogate}/scan")


@pytest.mark.parametrize("scalar", [False, True])
def test_scan_li_matches_nn(scalar):
    fam = FAMILIES["li"]
    x, states, params = inputs(fam, (11, 3, 37), seed=5, scalar_params=scalar)
    assert_match(fam, run_both(fam, None, x, states, params, impl="scan"), what="li/scan")


@pytest.mark.parametrize(
    ("family", "surrogate"),
    [("rlif", "superspike"), ("rlif", "boxcar"), ("rif", "arctan"), ("rcuba_lif", "triangular"),
     ("rcuba_lif", "custom_pair")],
)
def test_recurrent_scan_matches_nn(family, surrogate):
    fam = FAMILIES[family]
    x, states, params = inputs(fam, (9, 4, 13), seed=11)
    result = run_both(fam, SURROGATES[surrogate], x, states, params, impl="scan")
    assert_match(fam, result, what=f"{family}/{surrogate}/scan")


def test_scan_conv_shaped_hidden_and_scalar_params():
    """``hidden = (4, 5)`` (a conv map, channels-last) with 0-d decay and threshold."""
    fam = FAMILIES["cuba_lif"]
    x, states, params = inputs(fam, (7, 2, 4, 5), seed=3, scalar_params=True)
    assert_match(fam, run_both(fam, SURROGATES["tanh"], x, states, params, impl="scan"), what="cuba_lif/conv")
