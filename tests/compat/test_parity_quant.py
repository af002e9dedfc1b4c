"""Parity with the real Spyx 1.0: spyx.quant: binary_activation_error; the rule builders' fields and a PTQ model (when
qwix is available on both sides).

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("quant"))
def test_quant(name, parity):
    parity(name)
