"""Run a script under the real Spyx 1.0 (``spyx==1.0.0`` in its own environment) and read back its JSON.

Spyx 1.0's package is also named ``spyx``, so the script runs in a subprocess of that environment's Python,
from a temporary folder (never the repository root, whose ``spyx/`` would shadow it). The Python is
``SPYX1_PYTHON`` if set, else ``.venv-spyx1/bin/python`` in the repository (``scripts/test.sh`` creates it);
without either the calling test skips and says why.

:func:`start_spyx1` starts the subprocess and returns at once, so that a test module can start it when its
first test runs and collect the result (:meth:`Spyx1Job.result`) in its interop tests at the end, while the
other tests run on the other core.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_FOUND = "Spyx 1.0 environment not found (set SPYX1_PYTHON or run scripts/test.sh to create .venv-spyx1)"


def spyx1_python() -> str | None:
    for py in filter(None, [os.environ.get("SPYX1_PYTHON"), str(ROOT / ".venv-spyx1" / "bin" / "python")]):
        if Path(py).exists():
            return py
    return None


class Spyx1Job:
    """A running Spyx 1.0 script; ``result()`` waits for it and returns the dict it printed last."""

    def __init__(self, python: str, script: str, timeout: float):
        self._cwd = tempfile.TemporaryDirectory()
        self._timeout = timeout
        env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": ""}
        self._proc = subprocess.Popen(
            [python, "-c", script], cwd=self._cwd.name, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self._out: dict | None = None

    def result(self) -> dict:
        if self._out is None:
            try:
                stdout, stderr = self._proc.communicate(timeout=self._timeout)
            finally:
                self.close()
            if self._proc.returncode != 0:
                raise AssertionError(f"the Spyx 1.0 script failed:\n{stderr[-3000:]}")
            out = json.loads(stdout.strip().splitlines()[-1])
            assert out.pop("spyx_version", None) == "1.0.0", "the subprocess did not import the real spyx 1.0.0"
            self._out = out
        return self._out

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._cwd.cleanup()


def start_spyx1(script: str, *, timeout: float = 300) -> Spyx1Job | None:
    """Start ``script`` (which must ``print(json.dumps({..., "spyx_version": spyx.__version__}))`` last) under
    Spyx 1.0; ``None`` when the environment is missing. The script may put plain files of this repository on
    ``sys.path`` itself (e.g. a test's model module) but must not import our ``spyx``."""
    python = spyx1_python()
    return None if python is None else Spyx1Job(python, script, timeout)


def interop_selected(request) -> bool:
    """Whether this session runs any ``interop``-marked test of the requesting module."""
    return any(
        getattr(item, "module", None) is request.module and item.get_closest_marker("interop") is not None
        for item in request.session.items
    )


def result_or_skip(job: Spyx1Job | None) -> dict:
    if job is None:
        pytest.skip(NOT_FOUND)
    return job.result()
