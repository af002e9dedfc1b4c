"""Peer fixtures for the interop suite, generated once per session into a temporary folder by running the
real frameworks (``python -m tests.interop.peers.generate``) in a subprocess.

Which Python runs the generator: ``SPYX_PEERS_PYTHON`` if set, else this interpreter when it has the peers
(CI: ``scripts/test.sh`` installs them into the test venv). Spyx 1.0 needs its own environment
(``SPYX1_PYTHON``, else ``.venv-spyx1/bin/python`` in the repository when present). Without them the tests
skip and say why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TORCH_PEERS = ("snntorch", "norse", "sinabs", "rockpool")

_CHECK = "import torch, nir, nirtorch, snntorch, norse, sinabs, rockpool"


def peers_python() -> tuple[str | None, str]:
    """(python with the four torch peers, or None; why not)."""
    cands = [os.environ.get("SPYX_PEERS_PYTHON"), sys.executable]
    for py in filter(None, cands):
        if not Path(py).exists():
            continue
        r = subprocess.run(
            [py, "-c", _CHECK + "; from norse.torch import to_nir"], capture_output=True, text=True, cwd=ROOT
        )
        if r.returncode == 0:
            return py, ""
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
    return None, (
        "peer frameworks not importable (" + last + "); run scripts/test.sh (installs them) or set "
        "SPYX_PEERS_PYTHON to a Python that has torch, nirtorch, snntorch, norse>=1.1, sinabs, rockpool"
    )


def spyx1_python() -> tuple[str | None, str]:
    for py in filter(None, [os.environ.get("SPYX1_PYTHON"), str(ROOT / ".venv-spyx1" / "bin" / "python")]):
        if Path(py).exists():
            return py, ""
    return None, "Spyx 1.0 environment not found (.venv-spyx1 or SPYX1_PYTHON; scripts/test.sh creates it)"


def _generate(python: str, out: Path, peers: tuple[str, ...]) -> None:
    args = [python, "-m", "tests.interop.peers.generate", str(out)]
    for p in peers:
        args += ["--peer", p]
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1"}
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"fixture generator failed ({' '.join(args)}):\n{r.stderr[-3000:]}")


@pytest.fixture(scope="session")
def peers_python_exe() -> str:
    py, why = peers_python()
    if py is None:
        pytest.skip(why)
    return py


@pytest.fixture(scope="session")
def peer_fixtures(tmp_path_factory, peers_python_exe) -> Path:
    """OUT/<peer>/<case>/{model.nir,input.npy,output.npy,meta.json} for the four torch peers."""
    out = tmp_path_factory.mktemp("peer-fixtures")
    _generate(peers_python_exe, out, TORCH_PEERS)
    return out


def spikingjelly_python() -> tuple[str | None, str]:
    """(python with SpikingJelly 2.0's NIR exchange besides the torch peers, or None; why not)."""
    py, why = peers_python()
    if py is None:
        return None, why
    r = subprocess.run(
        [py, "-c", "import spikingjelly.activation_based.nir_exchange"], capture_output=True, text=True, cwd=ROOT
    )
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
        return None, (
            f"SpikingJelly 2.0 not importable ({last}); scripts/test.sh installs it "
            "(pip install --no-deps spikingjelly==2.0.0 loguru)"
        )
    return py, ""


@pytest.fixture(scope="session")
def spikingjelly_python_exe() -> str:
    py, why = spikingjelly_python()
    if py is None:
        pytest.skip(why)
    return py


@pytest.fixture(scope="session")
def spikingjelly_fixtures(tmp_path_factory, spikingjelly_python_exe) -> Path:
    """OUT/spikingjelly/<case>/... (a generator run of its own: the other peers' suites do not need it)."""
    out = tmp_path_factory.mktemp("spikingjelly-fixtures")
    _generate(spikingjelly_python_exe, out, ("spikingjelly",))
    return out


@pytest.fixture(scope="session")
def spyx1_fixtures(tmp_path_factory) -> Path:
    py, why = spyx1_python()
    if py is None:
        pytest.skip(why)
    out = tmp_path_factory.mktemp("spyx1-fixtures")
    _generate(py, out, ("spyx1",))
    return out


def cases(root: Path, peer: str) -> list[tuple[Path, dict]]:
    return [(m.parent, json.loads(m.read_text())) for m in sorted((root / peer).glob("*/meta.json"))]
