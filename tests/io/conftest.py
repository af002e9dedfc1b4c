"""Fixtures for the NIR I/O tests: files written by real old ``nir`` releases.

``legacy_release(version)`` installs ``nir==version`` with ``pip install --no-deps --target`` into a cache
folder (``$SPYX_NIR_RELEASES`` or ``<tmp>/spyx-nir-releases``; kept between runs) and runs
``tests/io/legacy_writer.py`` under it in a subprocess. Old releases are pure Python and run on the installed
NumPy 2 and h5py (nir 1.0.0/1.0.1 cannot build convolutions under NumPy 2; the script records those as
skipped). When pip cannot reach the package index the tests skip and say so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

WRITER = Path(__file__).with_name("legacy_writer.py")
RELEASES = ("0.1.0", "0.2.0", "1.0.0", "1.0.4", "1.0.6", "1.0.8")


def _cache() -> Path:
    return Path(os.environ.get("SPYX_NIR_RELEASES") or Path(tempfile.gettempdir()) / "spyx-nir-releases")


def _install(version: str) -> Path:
    target = _cache() / version
    if (target / "nir" / "__init__.py").is_file():
        return target
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--target",
        str(target),
        f"nir=={version}",
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"cannot install nir=={version} with pip ({e}); legacy-file tests need the package index")
    if done.returncode != 0 or not (target / "nir" / "__init__.py").is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.skip(
            f"pip could not install nir=={version} ({tail[0]}); legacy-file tests need the package index"
        )
    return target


@pytest.fixture(scope="session")
def legacy_release(tmp_path_factory):
    """``make(version) -> folder`` with the files ``legacy_writer.py`` wrote under ``nir==version``."""
    made: dict[str, Path] = {}

    def make(version: str) -> Path:
        if version in made:
            return made[version]
        target = _install(version)
        out = tmp_path_factory.mktemp(f"nir-{version}")
        env = {**os.environ, "PYTHONPATH": str(target)}
        done = subprocess.run(
            [sys.executable, str(WRITER), str(out)], capture_output=True, text=True, env=env, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"legacy_writer.py failed under nir=={version}:\n{done.stderr}")
        made[version] = out
        return out

    return make
