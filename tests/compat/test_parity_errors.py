"""Parity with the real Spyx 1.0: The error catalogue (contract §16) entries that need neither network nor (unless
noted) qwix: ours must raise the same exception type (or a subclass) with the contract's message fragment.

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("errors"))
def test_errors(name, parity):
    parity(name)
