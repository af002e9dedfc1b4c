"""Golden-file support for the pass tests: ``golden(name, text)`` compares ``text`` with
``tests/passes/golden/<name>.txt`` (see :func:`tests.golden.check_golden`; SPYX_REGEN_GOLDEN=1 rewrites)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden import check_golden

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def golden():
    return lambda name, text: check_golden(f"{name}.txt", text, folder=GOLDEN)
