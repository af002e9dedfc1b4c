"""Parity with the real Spyx 1.0: Surrogate spike functions (spyx.axn): forward, gradient, VJP, float16 and jit of
every factory with default and non-default arguments, at a grid including 0 and the boxcar window edges; heaviside.

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("axn"))
def test_axn(name, parity):
    parity(name)
