"""Parity with the real Spyx 1.0: spyx.experimental.rf_ssm (spyx-api.md §13.9): RFSSM with both pole
initialisations, a reset, multi-axis hidden shapes; step, run, parallel, the drive and their gradients; the alias
and the re-exports; to_nir skipping it.

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("experimental.rf_ssm"))
def test_rf_ssm(name, parity):
    parity(name)
