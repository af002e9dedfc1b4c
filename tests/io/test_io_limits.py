"""Read limits: the memory budget is an option of ``spyx.load``; files that look damaged are read in a
separate process with a time limit, which gives up with a ReadError naming the file (``spyx-convert``
exit 2). The hostile cases themselves run in ``tests/fuzz`` under resource limits."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import spyx
from spyx.errors import ReadError, SizeError
from spyx.io import read_nir, write_nir
from spyx.io.isolate import read_isolated
from spyx.ir import LIF, Affine, Graph

ROOT = Path(__file__).resolve().parents[2]
F = np.float32


def _graph() -> Graph:
    lif = LIF(tau=np.full(4, 0.01, F), r=np.ones(4, F), v_leak=np.zeros(4, F), v_threshold=np.ones(4, F),
              v_reset=np.zeros(4, F))
    return Graph.sequential([("fc", Affine(weight=np.ones((4, 3), F), bias=np.zeros(4, F))), ("lif", lif)],
                            input_shape=(3,))


def _damaged_heap(path: Path) -> None:
    """The string heap's first object made a free-space object of size 0: libhdf5 loops on it for ever."""
    write_nir(_graph(), path)
    data = bytearray(path.read_bytes())
    first = data.find(b"GCOL") + 16
    data[first : first + 2] = b"\0\0"
    data[first + 8 : first + 16] = bytes(8)
    path.write_bytes(bytes(data))


def test_the_memory_budget_is_an_option(tmp_path):
    p = tmp_path / "g.nir"
    g = Graph.sequential([("fc", Affine(weight=np.ones((64, 3), F), bias=np.zeros(64, F)))], input_shape=(3,))
    write_nir(g, p)
    assert spyx.load(p) == g
    with pytest.raises(SizeError) as e:
        spyx.load(p, max_bytes=700)  # strings count 64 bytes each; the weight has 768
    msg = str(e.value)
    assert msg.startswith(f"{p}: dataset /node/nodes/fc/weight declares (64, 3) = 192 elements, 768 bytes")
    assert "memory budget of 700 bytes" in msg and "not read" in msg
    with pytest.raises(SizeError, match=r"the file's datasets declare \d+ bytes together .*budget of 1000 bytes"):
        spyx.load(p, max_bytes=1000)


def test_every_isolation_policy_reads_the_same_graph(tmp_path):
    p = tmp_path / "g.nir"
    write_nir(_graph(), p)
    here = read_nir(p, isolate="never")
    apart = read_nir(p, isolate="always")
    assert apart.graph == here.graph == _graph() and apart.version == here.version == "1.0.8"
    with pytest.raises(spyx.OptionError, match="isolate must be one of auto, always, never"):
        read_nir(p, isolate="sometimes")


def test_appended_bytes_are_read_apart_and_give_the_same_graph(tmp_path):
    p = tmp_path / "g.nir"
    write_nir(_graph(), p)
    with open(p, "ab") as fh:
        fh.write(b"\xff" * 4096)
    assert spyx.load(p) == _graph()  # auto: the size disagrees with the superblock, so it is read apart


def test_an_isolated_read_that_does_not_finish_gives_up(tmp_path):
    p = tmp_path / "hang.nir"
    _damaged_heap(p)
    start = time.monotonic()
    with pytest.raises(ReadError) as e:
        read_isolated(p, str(p), 2**31, why="a test", seconds=1)
    assert time.monotonic() - start < 30
    msg = str(e.value)
    assert msg.startswith(f"{p}: gave up after ") and "did not finish reading" in msg and "(a test)" in msg
    assert e.value.exit_code == 2


def test_the_cli_says_which_file_it_gave_up_on_and_exits_2(tmp_path):
    p = tmp_path / "hang.nir"
    _damaged_heap(p)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu", "SPYX_READ_ISOLATE": "always",
           "SPYX_READ_SECONDS": "1"}
    done = subprocess.run([sys.executable, str(ROOT / "cli" / "main.py"), "validate", str(p)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {p}: gave up after ") and done.stdout == ""
    # by default the damage is found before the HDF5 library sees the file
    env.pop("SPYX_READ_ISOLATE")
    done = subprocess.run([sys.executable, str(ROOT / "cli" / "main.py"), "validate", str(p)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and "damaged global heap" in done.stderr and str(p) in done.stderr, done.stderr
