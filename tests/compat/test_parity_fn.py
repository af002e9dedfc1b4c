"""Parity with the real Spyx 1.0: spyx.fn: losses, metrics and regularisers with several arguments and time axes,
values and gradients.

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("fn"))
def test_fn(name, parity):
    parity(name)
