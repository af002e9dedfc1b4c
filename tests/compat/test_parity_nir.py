"""Parity with the real Spyx 1.0: spyx.nir: to_nir of several models (every node, parameter and edge), from_nir of
those graphs and of hand-built graphs (imported classes, parameters, outputs, return_all_states).

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("nir"))
def test_nir(name, parity):
    parity(name)
