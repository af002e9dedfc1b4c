"""Parity with the real Spyx 1.0: spyx.data: rate_code, latency_code, angle_code, shift_augment, shuffler with fixed
keys; the Grain transforms; TonicSource/GrainLoader plumbing (first epoch).

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("data"))
def test_data(name, parity):
    parity(name)
