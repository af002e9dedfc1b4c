"""Golden-file support for the pass tests: ``golden(name, text)`` compares ``text`` with
``tests/passes/golden/<name>.txt``; run with ``SPYX_REGEN_GOLDEN=1`` to (re)write the files instead."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def golden():
    def check(name: str, text: str) -> None:
        path = GOLDEN / f"{name}.txt"
        if os.environ.get("SPYX_REGEN_GOLDEN"):
            path.write_text(text)
            return
        if not path.exists():
            pytest.fail(f"golden file {path} is missing; run with SPYX_REGEN_GOLDEN=1 to create it")
        assert text == path.read_text(), f"text differs from {path} (SPYX_REGEN_GOLDEN=1 rewrites it)"

    return check
