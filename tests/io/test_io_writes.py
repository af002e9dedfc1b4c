"""Writes under real process failure: ``kill -9`` mid-write, Ctrl-C (SIGINT) mid-write, 8 concurrent writers.

The interrupted writer is ``spyx-convert convert big.nir out.nir`` (this checkout's ``cli/main.py``) on a
32 MB graph, so that its write takes about a second; the signal is sent as soon as its temporary file
appears in the folder. Nothing here is simulated: the processes, signals and files are real.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import spyx
from spyx.io.atomic import STALE_SECONDS, remove_stale_temporaries
from spyx.ir import Affine, Graph

ROOT = Path(__file__).resolve().parents[2]
F = np.float32
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _graph(value: float, rows: int = 4) -> Graph:
    return Graph.sequential(
        [("fc", Affine(weight=np.full((rows, 3), value, F), bias=np.full(rows, value, F)))], input_shape=(3,)
    )


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """A 32 MB graph (random weights, which gzip cannot shrink much): writing it takes about a second."""
    path = tmp_path_factory.mktemp("big") / "big.nir"
    w = np.random.default_rng(0).standard_normal((2048, 4096)).astype(F)
    spyx.save(Graph.sequential([("fc", Affine(weight=w, bias=np.zeros(2048, F)))], input_shape=(4096,)), path)
    return path


def _temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(".") and ".tmp" in p.name)


def _convert_until_writing(src: Path, dst: Path) -> subprocess.Popen:
    """Start ``spyx-convert convert src dst``; return once its temporary file exists."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "cli" / "main.py"), "convert", str(src), str(dst)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=ROOT,
    )
    deadline = time.monotonic() + 120
    while not _temps(dst.parent):
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the writer ended (exit {proc.returncode}) before it began writing: {err.decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the writer did not begin writing within 120 s")
        time.sleep(0.002)
    return proc


def test_kill_9_mid_write_keeps_the_old_file_and_the_next_write_removes_the_leftover(big, tmp_path):
    dst = tmp_path / "out.nir"
    spyx.save(_graph(1.0), dst)
    before = dst.read_bytes()
    proc = _convert_until_writing(big, dst)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert dst.read_bytes() == before  # never partial
    left = _temps(tmp_path)
    assert len(left) == 1 and f".out.nir.spyx-" in left[0].name and left[0].name.endswith(".tmp.nir"), left
    spyx.save(_graph(2.0), dst)  # the next write into the folder removes the dead writer's file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nir"]
    assert spyx.load(dst) == _graph(2.0)


def test_sigint_mid_write_exits_130_and_writes_nothing(big, tmp_path):
    dst = tmp_path / "out.nir"
    proc = _convert_until_writing(big, dst)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (proc.returncode, err.decode())
    assert out == b"" and b"interrupted" in err
    assert list(tmp_path.iterdir()) == []  # no output file, no temporary file


def test_sigint_mid_write_keeps_an_existing_file(big, tmp_path):
    dst = tmp_path / "out.nir"
    spyx.save(_graph(1.0), dst)
    before = dst.read_bytes()
    proc = _convert_until_writing(big, dst)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert dst.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["out.nir"]


_WRITERS = r"""
import os, sys
import numpy as np
import spyx
from spyx.ir import Affine, Graph
target, n = sys.argv[1], int(sys.argv[2])
r, w = os.pipe()
pids = []
for i in range(n):  # forked after the import, so that the 8 writers start together
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)  # wait for the start signal
        value = float(i + 1)
        g = Graph.sequential([("fc", Affine(weight=np.full((256, 256), value, np.float32),
                                           bias=np.full(256, value, np.float32)))], input_shape=(256,))
        spyx.save(g, target)
        os._exit(0)
    pids.append(pid)
os.close(r)
os.write(w, b"x" * n)
codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]
print(codes)
sys.exit(max(abs(c) for c in codes))
"""


def test_eight_concurrent_writers_leave_one_complete_file(tmp_path):
    target = tmp_path / "shared.nir"
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _WRITERS, str(target), "8"],
        capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["shared.nir"]  # no temporary file left
    g = spyx.load(target)  # complete: it loads and verifies
    value = float(g.nodes["fc"].bias[0])
    assert value in {float(i) for i in range(1, 9)}
    assert np.all(g.nodes["fc"].weight == value) and np.all(g.nodes["fc"].bias == value)  # one writer's, whole


def test_stale_temporaries_by_name_and_age_only(tmp_path):
    """Old leftovers of ours go; fresh ones of live writers, other people's files and look-alikes stay."""
    now = time.time()
    old = now - STALE_SECONDS - 10

    def touch(name: str, mtime: float) -> Path:
        p = tmp_path / name
        p.write_bytes(b"x")
        os.utime(p, (mtime, mtime))
        return p

    host = spyx.io.atomic._host()
    live = touch(f".a.nir.spyx-{host}-{os.getpid()}-abcdefgh.tmp.nir", now)  # this process: a write in progress
    stale_live = touch(f".b.nir.spyx-{host}-{os.getpid()}-abcdefgh.tmp.nir", old)  # too old anyway
    other_host = touch(f".c.nir.spyx-00000000-1-abcdefgh.tmp.nir", now)  # another host's pid: judged by age
    legacy_old = touch(".d.nir.k2j4_x9q.tmp.nir", old)  # the older spelling, old
    legacy_new = touch(".e.nir.k2j4_x9q.tmp.nir", now)
    mine = touch(".notes.tmp", old)  # not a name we make
    wrong_suffix = touch(".f.nir.k2j4_x9q.tmp.npy", old)  # ours keep the target's suffix
    removed = remove_stale_temporaries(tmp_path, now=now)
    assert sorted(p.name for p in removed) == sorted([stale_live.name, legacy_old.name])
    assert all(p.exists() for p in (live, other_host, legacy_new, mine, wrong_suffix))
