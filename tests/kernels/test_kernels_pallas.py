"""The Pallas kernels (interpret mode on CPU) equal ``spyx.nn.run`` of the real layer, values and gradients:
every non-recurrent family, every surrogate, ragged lane counts over several blocks (the last block padded), and
the edge shapes of the time loop (``T = 1``; a forward tail chunk and a backward head chunk)."""

from __future__ import annotations

import zlib

import pytest

from spyx.kernels import KernelConfig
from tests.kernels.cases import FAMILIES, SURROGATES, assert_match, inputs, run_both

# B * N = 111 lanes over blocks of 32: four programs, the last with 17 lanes of data and 15 of padding.
# T = 10 with unroll 4: forward 2 chunks + a tail of 2; backward (steps 9..1) a head of 1 + 2 chunks, then t = 0.
RAGGED = (10, 3, 37)
BLOCK32 = KernelConfig(block=32, num_warps=1, unroll=4)

CASES = [
    ("lif", "superspike", RAGGED, BLOCK32, False),
    ("lif", "custom_pair", RAGGED, BLOCK32, False),
    ("if", "arctan", RAGGED, BLOCK32, False),
    ("if", "straight_through", (1, 2, 5), KernelConfig(block=128, unroll=8), False),  # T = 1; 10 lanes -> 16
    ("cuba_lif", "boxcar", RAGGED, BLOCK32, False),
    ("cuba_lif", "triangular", (6, 3, 4, 5), KernelConfig(block=16, unroll=4), True),  # conv hidden, 0-d params
    ("psu_lif", "tanh", RAGGED, BLOCK32, False),
    ("psu_lif", "custom", RAGGED, KernelConfig(block=64, unroll=3), False),
    ("alif", "arctan", RAGGED, BLOCK32, False),
    ("li", None, RAGGED, BLOCK32, False),
    ("value_reset", "superspike", RAGGED, BLOCK32, False),
    ("value_reset", "custom_pair", (1, 2, 5), KernelConfig(block=128, unroll=8), True),  # T = 1, 0-d params
    ("delayed_subtract", "arctan", RAGGED, BLOCK32, False),
    ("delayed_subtract", "boxcar", (1, 2, 5), KernelConfig(block=128, unroll=8), True),  # T = 1, 0-d params
]


@pytest.mark.parametrize(("family", "surrogate", "shape", "config", "scalar"), CASES)
def test_pallas_matches_nn(family, surrogate, shape, config, scalar):
    fam = FAMILIES[family]
    x, states, params = inputs(fam, shape, seed=zlib.crc32(f"pallas/{family}/{surrogate}".encode()),
                               scalar_params=scalar)
    sg = SURROGATES[surrogate] if surrogate else None
    result = run_both(fam, sg, x, states, params, impl="pallas", interpret=True, config=config)
    assert_match(fam, result, what=f"{family}/{surrogate}/pallas")
