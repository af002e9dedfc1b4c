"""Fixtures for the spyx.data tests: the real Spyx 1.0's outputs, and small SHD / N-MNIST trees on disk."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from tests.data import files

ROOT = Path(__file__).resolve().parents[2]
HAVE_GRAIN = importlib.util.find_spec("grain") is not None
HAVE_TONIC = importlib.util.find_spec("tonic") is not None
NO_GRAIN = "grain is not installed (pip install 'spyx[loaders]'; scripts/test.sh installs it)"
NO_TONIC = "tonic is not installed (pip install 'spyx[loaders]'; scripts/test.sh installs it)"
needs_grain = pytest.mark.skipif(not HAVE_GRAIN, reason=NO_GRAIN)
needs_loaders = pytest.mark.skipif(not (HAVE_GRAIN and HAVE_TONIC), reason=NO_TONIC if HAVE_GRAIN else NO_GRAIN)


def run_python(code: str, *, python: str = sys.executable, isolated: bool = False, timeout: int = 120) -> str:
    """Run ``code`` in a fresh interpreter (this checkout on the path unless ``isolated``); its stdout."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    if isolated:
        args, cwd = [python, "-I", "-c", code], tempfile.gettempdir()
    else:
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        args, cwd = [python, "-c", code], ROOT
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"subprocess failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
    return r.stdout


@pytest.fixture(scope="session")
def spyx1_reference() -> dict:
    """What the real spyx==1.0.0 returns for the cases of ``spyx1_reference.py`` (run in its own venv)."""
    py = os.environ.get("SPYX1_PYTHON") or str(ROOT / ".venv-spyx1" / "bin" / "python")
    if not Path(py).exists():
        pytest.skip("Spyx 1.0 environment not found (.venv-spyx1 or SPYX1_PYTHON; scripts/test.sh creates it)")
    script = (Path(__file__).parent / "spyx1_reference.py").read_text()
    return json.loads(run_python(script, python=py, isolated=True, timeout=300))


# ------------------------------------------------------------------------------------------------- SHD
SHD_T, SHD_C = 13, 20  # odd T (two packed bytes, three padding bits), channels not dividing 700


def _shd_split(rng, n: int, nan_at: int | None, time_dtype):
    times, units = [], []
    for i in range(n):
        t, u = files.random_shd_sample(rng, int(rng.integers(0, 60)) if i else 0, SHD_T, SHD_C, time_dtype)
        if i == nan_at:  # the contract's example, plus -inf
            t = np.array([0.1, np.nan, np.inf, 0.3, -np.inf, 0.55], dtype=np.float32)
            u = np.array([5, 6, 7, 8, 9, 699])
        times.append(t)
        units.append(u)
    return times, units, rng.integers(0, 20, n)


@pytest.fixture(scope="session")
def shd_root(tmp_path_factory):
    """``root/SHD/shd_train.h5`` (11 samples, float32 times; sample 0 empty, sample 3 with NaN/inf) and
    ``shd_test.h5`` (7 samples, float16 times as some SHD releases store them). Returns (root, splits)
    with ``splits[split] = (times, units, labels)`` as written."""
    root = tmp_path_factory.mktemp("shd")
    rng = np.random.default_rng(11)
    splits = {"train": _shd_split(rng, 11, 3, np.float32), "test": _shd_split(rng, 7, None, np.float16)}
    for split, dtype in (("train", np.float32), ("test", np.float16)):
        times, units, labels = splits[split]
        files.write_shd(root / "SHD" / f"shd_{split}.h5", times, units, labels, time_dtype=dtype)
    return root, splits


# --------------------------------------------------------------------------------------------- N-MNIST
NMNIST_T = 11


@pytest.fixture(scope="session")
def nmnist_root(tmp_path_factory):
    """An N-MNIST tree of 10 recordings (digit 9's is empty) hard-linked into 10000 files per split.
    Returns (root, frames) with ``frames[digit]`` the reference binary frames ``[T, 2, 34, 34]``."""
    root = tmp_path_factory.mktemp("nmnist")
    rng = np.random.default_rng(7)
    recordings, frames = {}, {}
    for digit in range(10):
        events = files.random_nmnist_events(rng, 0 if digit == 9 else int(rng.integers(20, 400)))
        recordings[digit] = files.nmnist_bytes(*events)
        frames[digit] = files.nmnist_frames_reference(*events, NMNIST_T)
    files.write_nmnist_tree(root, recordings)
    return root, frames
