"""CLI basics (issue 13, item 4): exit 2 for bad usage and a missing output folder, outputs that respect the
umask, notes summarised on stderr, ``--quiet``, and a progress line only on a terminal."""

from __future__ import annotations

import io
import os
import stat
import time

import numpy as np
import pytest
from click.testing import CliRunner

import spyx
from spyx.errors import WriteError
from spyx.io.atomic import atomic_save_npy
from spyx.ir import LIF, Affine, Graph
from spyx.tools.notes import summarise
from spyx_cli import progress as progress_mod
from spyx_cli.main import main

F = np.float32


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _chain(n_lif: int = 1) -> Graph:
    layers = [("fc", Affine(weight=np.full((2, 3), 0.5, F), bias=np.zeros(2, F)))]
    for k in range(n_lif):
        layers.append((f"lif{k}", LIF(tau=np.full(2, 0.01, F), r=np.ones(2, F), v_leak=np.zeros(2, F),
                                      v_threshold=np.ones(2, F), v_reset=np.zeros(2, F))))
    return Graph.sequential(layers, input_shape=(3,))


@pytest.fixture
def umask():
    """Set a umask for the test, restore the previous one after."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield lambda m: os.umask(m)
    os.umask(previous)


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_new_files_get_0666_less_the_umask(tmp_path, umask, mask):
    umask(mask)
    atomic_save_npy(tmp_path / "x.npy", np.ones(3))
    spyx.save(_chain(), tmp_path / "g.nir")
    # the reference: a file created the ordinary way under the same umask
    with open(tmp_path / "plain", "w"):
        pass
    expected = stat.S_IMODE((tmp_path / "plain").stat().st_mode)
    assert expected == 0o666 & ~mask
    for name in ("x.npy", "g.nir"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == expected, name


def test_a_replaced_file_keeps_its_permissions(tmp_path, umask):
    umask(0o022)
    target = tmp_path / "x.npy"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic_save_npy(target, np.arange(4))
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    np.testing.assert_array_equal(np.load(target), np.arange(4))


def test_missing_output_folder_is_exit_2_naming_the_folder(tmp_path):
    spyx.save(_chain(), tmp_path / "in.nir")
    with pytest.raises(WriteError, match="folder .*nofolder does not exist"):
        atomic_save_npy(tmp_path / "nofolder" / "x.npy", np.ones(2))
    code, stdout, stderr = cli("convert", tmp_path / "in.nir", tmp_path / "nofolder" / "out.nir")
    assert code == 2, stderr
    assert stderr.count("\n") == 1 and "nofolder" in stderr and ".tmp" not in stderr and "Traceback" not in stderr
    assert not (tmp_path / "nofolder").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.nir"]  # no temporary file left either


@pytest.mark.parametrize("args", [
    ["frobnicate"],                                   # unknown command
    ["inspect"],                                      # missing argument
    ["inspect", "{model}", "--colour"],               # unknown option
    ["convert", "{model}", "{out}", "--passes", "nosuchpass"],   # unknown pass
    ["run", "{model}"],                               # neither --input nor --random-input
    ["run", "{model}", "--random-input", "ten,2", "--dt", "1e-3"],  # malformed option value
])
def test_bad_usage_exits_2_with_one_error(tmp_path, args):
    spyx.save(_chain(), tmp_path / "model.nir")
    argv = [a.format(model=tmp_path / "model.nir", out=tmp_path / "out.nir") for a in args]
    code, stdout, stderr = cli(*argv)
    assert code == 2, (argv, stdout, stderr)
    assert "Traceback" not in stderr and ("error" in stderr.lower())
    assert not (tmp_path / "out.nir").exists()


def test_summarise_groups_identical_messages_and_keeps_the_rest():
    msg = "v_reset missing (not stored before nir 1.0.6), filled with zeros like v_threshold"
    notes = [f"lif{k}: {msg}" for k in range(12)] + ["fc: field foo moved to metadata", f"lif0: {msg}",
                                                     "port shapes not repaired: odd"]
    out = summarise(notes)
    assert out == [f"12 nodes (lif0, lif1, lif2, ...): {msg}", "fc: field foo moved to metadata",
                   "port shapes not repaired: odd"]
    assert summarise([f"a: {msg}"]) == [f"a: {msg}"]


def test_notes_are_one_summary_line_on_stderr_and_quiet_drops_them(tmp_path):
    import h5py

    path = tmp_path / "old.nir"
    spyx.save(_chain(n_lif=4), path)
    with h5py.File(path, "r+") as f:  # a pre-1.0.6 file: no v_reset stored on any LIF
        for k in range(4):
            del f[f"node/nodes/lif{k}/v_reset"]
    code, stdout, stderr = cli("validate", path)
    assert code == 0 and stdout == f"{path}: valid\n"
    notes = [ln for ln in stderr.splitlines() if ln.startswith("note:")]
    assert len(notes) == 1 and notes[0].startswith("note: 4 nodes (lif0, lif1, lif2, ...): v_reset missing"), stderr
    code, stdout, stderr = cli("--quiet", "validate", path)
    assert code == 0 and stdout == f"{path}: valid\n" and stderr == ""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_only_and_erases_itself(monkeypatch):
    monkeypatch.setattr(progress_mod, "DELAY", 0.0)
    tty, pipe = _Terminal(), io.StringIO()
    for stream in (tty, pipe):
        with progress_mod.progress("compiling", stream=stream, interval=0.01):
            time.sleep(0.1)
    assert pipe.getvalue() == ""
    text = tty.getvalue()
    assert "compiling" in text and " s" in text and text.endswith("\r\033[K")
    quiet = _Terminal()
    with progress_mod.progress("compiling", stream=quiet, quiet=True, interval=0.01):
        time.sleep(0.05)
    assert quiet.getvalue() == ""


@pytest.mark.interop
def test_a_rockpool_file_runs_without_repair_with_one_note(tmp_path):
    # written by rockpool 3.1 itself: Input (1, 3), Output (1, 1, 2), the batch axis of its traced sample
    pytest.importorskip("rockpool", reason="writes the file with rockpool's to_nir (pip install rockpool)")
    import warnings

    import nir

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from rockpool.nn.combinators import Sequential
        from rockpool.nn.modules import LIFTorch, LinearTorch
        from rockpool.nn.modules.torch.nir import to_nir

        nir.write(tmp_path / "lif_rockpool.nir", to_nir(Sequential(LinearTorch((3, 2)), LIFTorch(2))))
    path = tmp_path / "lif_rockpool.nir"
    code, stdout, stderr = cli("validate", path)
    assert code == 0 and stdout == f"{path}: valid\n", stderr
    (note,) = [ln for ln in stderr.splitlines() if ln.startswith("note:")]
    assert "batch axis" in note and "input (1, 3) -> (3,)" in note and "output (1, 1, 2) -> (2,)" in note
    # the same graph as the explicit --repair reads, so the same outputs
    repaired = spyx.io.read_nir(path, repair=True, verify=True).graph
    assert spyx.to_text(spyx.load(path)) == spyx.to_text(repaired)
    x = (np.random.default_rng(0).random((5, 2, 3)) < 0.5).astype(F)
    np.save(tmp_path / "x.npy", x)
    code, stdout, stderr = cli("run", path, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy",
                               "--dt", "1e-3")
    assert code == 0, stderr
    prog = spyx.compile(repaired, dt=1e-3)
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), np.asarray(prog.run(prog.params, x)[0]))


def _invoke(args, stdin: bytes | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], input=stdin, catch_exceptions=False)


def test_dash_reads_stdin_and_writes_stdout(tmp_path):
    src = tmp_path / "in.nir"
    spyx.save(_chain(), src)
    data = src.read_bytes()
    r = _invoke(["validate", "-"], data)
    assert r.exit_code == 0 and r.stdout == "<stdin>: valid\n", r.stderr
    # NIR bytes on stdout, the report on stderr; the bytes are a NIR file with the same graph
    r = _invoke(["convert", src, "-", "--passes", "inline"])
    assert r.exit_code == 0 and "wrote <stdout>" in r.stderr, r.stderr
    (tmp_path / "piped.nir").write_bytes(r.stdout_bytes)
    assert spyx.to_text(spyx.load(tmp_path / "piped.nir")) == spyx.to_text(spyx.load(src))
    r = _invoke(["convert", "-", tmp_path / "out.nir"], data)
    assert r.exit_code == 0 and "read <stdin>" in r.stdout
    assert spyx.to_text(spyx.load(tmp_path / "out.nir")) == spyx.to_text(spyx.load(src))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.nir", "out.nir", "piped.nir"]


def test_run_reads_npy_from_stdin_and_writes_npy_to_stdout(tmp_path):
    src = tmp_path / "in.nir"
    spyx.save(_chain(), src)
    x = (np.random.default_rng(3).random((6, 2, 3)) < 0.5).astype(F)
    buf = io.BytesIO()
    np.save(buf, x)
    r = _invoke(["run", src, "--input", "-", "--output", "-", "--dt", "1e-3"], buf.getvalue())
    assert r.exit_code == 0, r.stderr
    assert "output output: (6, 2, 2)" in r.stderr and "wrote <stdout>" in r.stderr
    prog = spyx.compile(spyx.load(src), dt=1e-3)
    np.testing.assert_array_equal(np.load(io.BytesIO(r.stdout_bytes)), np.asarray(prog.run(prog.params, x)[0]))


def test_dash_errors_name_stdin_not_the_temporary_file():
    r = _invoke(["validate", "-"], b"not an hdf5 file at all")
    assert r.exit_code == 2 and r.stderr.startswith("error: <stdin>: ") and "spyx-convert-" not in r.stderr
    r = _invoke(["inspect", "-"], b"")
    assert r.exit_code == 2 and "nothing on standard input" in r.stderr


def test_run_and_quantize_report_as_json(tmp_path):
    import json

    src = tmp_path / "in.nir"
    spyx.save(_chain(), src)
    x = (np.random.default_rng(5).random((8, 2, 3)) < 0.7).astype(F)
    np.save(tmp_path / "x.npy", x)
    r = _invoke(["--quiet", "run", src, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy", "--dt", "1e-3",
                 "--format", "json"])
    assert r.exit_code == 0, r.stderr
    info = json.loads(r.stdout)  # stdout is the JSON object and nothing else
    y = np.load(tmp_path / "y.npy")
    assert info["outputs"] == {"output": list(y.shape)} and info["inputs"] == {"input": list(x.shape)}
    assert info["spike_counts"]["output"] == float(y.sum()) and info["dt"] == 1e-3
    assert info["files"] == [str(tmp_path / "y.npy")]

    r = _invoke(["--quiet", "quantize", src, tmp_path / "q.nir", "--dt", "1e-3", "--report", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["written"] == str(tmp_path / "q.nir") and info["violations"] == 0
    assert [n["name"] for n in info["report"]["nodes"]] == ["lif0"]
    node = info["report"]["nodes"][0]
    if node["agreement"] is None:  # undefined only when neither network spiked (spyx/quant/report.py)
        assert node["rate_float"] == 0 and node["rate_quant"] == 0, node
    else:
        assert 0.0 <= node["agreement"] <= 1.0
    assert [w["name"] for w in info["report"]["weights"]] == ["fc"]
    spyx.load(tmp_path / "q.nir")  # what it says it wrote is a valid file
