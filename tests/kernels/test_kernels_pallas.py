"""The Pallas kernels (interpret mode on CPU) equal ``spyx.nn.run`` of the real layer, values and gradients:
every family, every surrogate (across the families), ragged lane counts over several blocks, and the edge
shapes of the time loop (``T = 1``, a tail chunk, a head chunk in the backward)."""

from __future__ import annotations

import pytest

from spyx.kernels import KernelConfig
from tests.kernels.cases import FAMILIES, SURROGATES, assert_match, inputs, run_both

# B * N = 111 lanes over blocks of 32: four programs, the last one 17 lanes of data and 15 of padding.
RAGGED = (10, 3, 37)
SMALL_BLOCKS = KernelConfig(block=32, num_warps=1, unroll=4)

CASES = [
    ("lif", "superspike"), ("lif", "arctan"), ("lif", "tanh"), ("lif", "custom_pair"),
    ("cuba_lif", "boxcar"), ("cuba_lif", "triangular"),
    ("if", "straight_through"), ("psu_lif", "custom"), ("li", None),
]


@pytest.mark.parametrize(("family", "surrogate"), CASES)
def test_pallas_matches_nn(family, surrogate):
    fam = FAMILIES[family]
    x, states, params = inputs(fam, RAGGED, seed=len(family) * 7 + len(surrogate or ""))
    sg = SURROGATES[surrogate] if surrogate else None
    result = run_both(fam, sg, x, states, params, impl="pallas", interpret=True, config=SMALL_BLOCKS)
    assert_match(fam, result, what=f"{family}/{surrogate}/pallas")


@pytest.mark.parametrize(
    ("shape", "config"),
    [
        ((1, 2, 5), KernelConfig(block=128, unroll=8)),  # T = 1; 10 lanes in one block shrunk to 16
        ((6, 3, 4, 5), KernelConfig(block=16, unroll=4)),  # conv-shaped hidden, 60 lanes in 4 blocks
    ],
)
def test_pallas_edge_shapes(shape, config):
    fam = FAMILIES["lif"]
    x, states, params = inputs(fam, shape, seed=sum(shape), scalar_params=len(shape) > 3)
    result = run_both(fam, SURROGATES["superspike"], x, states, params, impl="pallas", interpret=True,
                      config=config)
    assert_match(fam, result, what=f"lif/pallas/{shape}")
