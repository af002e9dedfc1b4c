"""Parity with the real Spyx 1.0: spyx.phasor (spyx-api.md §11): the codecs, PhasorLinear/Activation/Readout,
PhasorMLP, SpikingPhasor and ResonateFire (construction draws, step, run, parallel), with the gradients of a loss
w.r.t. every parameter and input.

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("phasor"))
def test_phasor(name, parity):
    parity(name)
