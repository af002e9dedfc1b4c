"""Parity with the real Spyx 1.0: spyx.bench: the deterministic fields of a BenchResult (name, device, sizes, parameter
count, spike rate, XLA FLOPs, MFU) for a layer, a parallel layer, a dense thunk, a Sequential with a tuple-returning
run_fn, and compare / format_table. Latencies and memory are measurements and are not compared.

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("bench"))
def test_bench(name, parity):
    parity(name)
