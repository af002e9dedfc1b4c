"""Parity with the real Spyx 1.0: spyx.optimize: fit and compile_fit on the contract's §18.2 model and data (per-epoch
histories, trained parameters), the step builders and backprop.

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("optimize"))
def test_optimize(name, parity):
    parity(name)
