"""Parity with the real Spyx 1.0: the top-level names of the package (``spyx.nn``, ``spyx.jnp``, ...), which ours
loads lazily on first use (issue 13) and Spyx 1.0 imported eagerly.

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("package"))
def test_package(name, parity):
    parity(name)
