"""Run a script under the real Spyx 1.0 (``spyx==1.0.0`` in its own environment) and read back its JSON.

Spyx 1.0's package is also named ``spyx``, so the script runs in a subprocess of that environment's Python,
from a temporary folder (never the repository root, whose ``spyx/`` would shadow it). The Python is
``SPYX1_PYTHON`` if set, else ``.venv-spyx1/bin/python`` in the repository (``scripts/test.sh`` creates it);
without either the calling test skips and says why.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def spyx1_python() -> str | None:
    for py in filter(None, [os.environ.get("SPYX1_PYTHON"), str(ROOT / ".venv-spyx1" / "bin" / "python")]):
        if Path(py).exists():
            return py
    return None


def run_spyx1(script: str, *, timeout: float = 300) -> dict:
    """Run ``script`` (which must ``print(json.dumps(...))`` as its last line) under Spyx 1.0; return the dict.

    The script must not import anything from this repository except plain files it puts on ``sys.path``
    itself (e.g. a test's model module)."""
    python = spyx1_python()
    if python is None:
        pytest.skip("Spyx 1.0 environment not found (set SPYX1_PYTHON or run scripts/test.sh to create .venv-spyx1)")
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": ""}
    with tempfile.TemporaryDirectory() as cwd:
        r = subprocess.run(
            [python, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
    if r.returncode != 0:
        raise AssertionError(f"the Spyx 1.0 script failed:\n{r.stderr[-3000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out.pop("spyx_version", None) == "1.0.0", "the subprocess did not import the real spyx 1.0.0"
    return out
