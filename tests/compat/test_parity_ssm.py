"""Parity with the real Spyx 1.0: spyx.ssm (spyx-api.md §10): construction draws, outputs and the gradients of a
loss w.r.t. every parameter and input, for LRU, S5Diag (with a zero eigenvalue), Mamba, MambaBlock, ChunkedSSM, the
private scans, a shared nnx.Rngs across layers, and to_nir skipping them.

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("ssm"))
def test_ssm(name, parity):
    parity(name)
