"""Parity with the real Spyx 1.0 for issue 17: ``compile_fit`` and ``fit`` with a (one-device) mesh, and
``sweep`` over learning rates and member keys, against the Spyx 1.0 calls they must equal (no mesh; one
``compile_fit`` per member). The cases are in the sharding section of ``compat_cases.py``; the multi-device
checks are in ``tests/sharding``.
"""

from __future__ import annotations

import pytest

from .compat_cases import names

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("name", names("sharding"))
def test_sharding(name, parity):
    parity(name)
