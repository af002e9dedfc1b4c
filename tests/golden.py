"""Golden-file comparison for the IR text form. Set SPYX_REGEN_GOLDEN=1 to rewrite the files."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str, folder: Path = GOLDEN) -> None:
    """Compare ``text`` with ``folder/name``; with SPYX_REGEN_GOLDEN=1, (re)write the file instead."""
    path = folder / name
    if os.environ.get("SPYX_REGEN_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    if not path.exists():
        raise AssertionError(f"golden file {path} is missing; run with SPYX_REGEN_GOLDEN=1 to create it")
    expected = path.read_text()
    assert text == expected, f"text differs from golden {path}:\n--- got ---\n{text}\n--- expected ---\n{expected}"
