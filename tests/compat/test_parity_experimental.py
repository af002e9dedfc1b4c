"""Parity with the real Spyx 1.0: spyx.experimental (without rf_ssm): the namespace; ParallelResetLIF (run and the
parallel solver, values and gradients); the stochastic neurons with fixed keys; the routing slot memories; compress
bit layouts and packed-residual gradients; the hybrid/ES estimators and train steps; the ES solver through
compile_fit; matfree layers; onnx.step_signature; the zoo's registry and recipes.

Each case is defined once in ``compat_cases.py`` and run with both packages; see README.md for the tolerances.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("experimental"))
def test_experimental(name, parity):
    parity(name)
