"""Parity with the real Spyx 1.0: spyx.nn: every neuron (construction draws, initial_state, single step, run time- and
batch-major, scalar float/int and per-unit parameters, array thresholds, every surrogate),
PSU_LIF/AssociativeLIF.parallel, ActivityRegularization, PopulationCode, sum_pool/SumPool, Flatten, Sequential and
the whole models of the contract's §18.2, with gradients of a loss through each.

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("nn"))
def test_nn(name, parity):
    parity(name)
