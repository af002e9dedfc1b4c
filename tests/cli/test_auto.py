"""``--profile auto`` without the peers: files spyx wrote and hand-written files read as nir, what auto
assumed is said (stderr in the CLI, :class:`spyx.AssumptionWarning` in Python), silent outputs warn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from click.testing import CliRunner
from spyx_cli.main import main

import spyx
from spyx.io import read_nir, write_nir
from spyx.ir import LIF, Affine, Graph
from spyx.profiles import detect, resolve_profile
from spyx.tools.examples import recurrent_snn

F = np.float32


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _lif_chain(tau: float, r: float, threshold: float = 1.0) -> Graph:
    return Graph.sequential(
        [("fc", Affine(weight=np.full((4, 3), 0.7, F), bias=np.zeros(4, F))),
         ("lif", LIF(tau=np.full(4, tau, F), r=np.full(4, r, F), v_leak=np.zeros(4, F),
                     v_threshold=np.full(4, threshold, F), v_reset=np.zeros(4, F)))],
        input_shape=(3,),
    )


def test_spyx_written_and_hand_written_files_are_nir(tmp_path):
    demo = recurrent_snn()  # r == 1, tau = 5..20 ms: what the old rule took for a Norse export
    found = detect(demo)
    assert found.exporter is None and "written by spyx" in found.evidence[0]
    write_nir(demo, tmp_path / "demo.nir")  # the metadata survives the file
    assert "written by spyx" in detect(read_nir(tmp_path / "demo.nir").graph).evidence[0]
    bare = Graph(nodes=demo.nodes, edges=demo.edges, metadata={})
    found = detect(bare)
    assert found.exporter is None and "hand-written" in found.evidence[0]
    assert resolve_profile(bare, "auto")[0].name == "nir"
    # Norse 1.1 writes tau = dt * tau (1e-3 * 10 ms = 1e-5 s): still recognised
    assert detect(_lif_chain(1e-5, 1.0)).exporter == "norse"


def test_compile_and_load_auto_warn_each_assumption(tmp_path):
    g = _lif_chain(2e-3, 2e-3 / 1e-4)  # snnTorch's convention: r = tau/dt, dt = 1e-4
    write_nir(g, tmp_path / "m.nir")
    with pytest.warns(spyx.AssumptionWarning, match=r"snntorch reset=subtract"):
        assert spyx.load(tmp_path / "m.nir", profile="auto").metadata["spyx.profile"] == "snntorch"
    with pytest.warns(spyx.AssumptionWarning) as caught:
        spyx.compile(g, profile="auto")
    text = [str(w.message) for w in caught]
    assert any("snntorch reset=subtract" in t and "snntorch{reset=zero}" in t for t in text), text
    assert any("reset_delay=true" in t for t in text), text
    with warnings.catch_warnings():
        warnings.simplefilter("error", spyx.AssumptionWarning)
        spyx.compile(g, profile="snntorch{reset=zero,reset_delay=false}")  # all named: nothing assumed


def test_guessed_dt_is_a_warning_and_given_dt_silences_it(tmp_path):
    path = tmp_path / "norse.nir"
    write_nir(_lif_chain(1e-5, 1.0), path)
    x = (np.random.default_rng(0).random((20, 2, 3)) < 0.5).astype(F)
    np.save(tmp_path / "x.npy", x)
    code, stdout, stderr = cli("run", path, "--profile", "auto", "--input", tmp_path / "x.npy")
    assert code == 0 and "profile auto: norse" in stdout and "profile=auto -> norse" in stdout
    assert "warning: norse: dt = 0.001 s is a guess" in stderr and "--dt" in stderr
    assert "note: profile auto assumed norse reset_method=value" in stderr
    code, _, stderr = cli("run", path, "--profile", "auto", "--dt", "1e-3", "--input", tmp_path / "x.npy")
    assert code == 0 and "is a guess" not in stderr


def test_silent_output_warns_and_a_live_one_does_not(tmp_path):
    x = np.ones((10, 2, 3), F)
    np.save(tmp_path / "x.npy", x)
    write_nir(_lif_chain(0.01, 1.0, threshold=1e6), tmp_path / "silent.nir")
    code, _, stderr = cli("run", tmp_path / "silent.nir", "--dt", "1e-3", "--input", tmp_path / "x.npy")
    assert code == 0
    assert "warning: output output is zero at every step (10 steps)" in stderr
    write_nir(_lif_chain(0.01, 1.0, threshold=0.5), tmp_path / "live.nir")
    code, _, stderr = cli("run", tmp_path / "live.nir", "--dt", "1e-3", "--input", tmp_path / "x.npy")
    assert code == 0 and "warning" not in stderr


def test_convert_records_the_profile_that_run_and_auto_then_read(tmp_path):
    src, dst = tmp_path / "norse.nir", tmp_path / "out.nir"
    write_nir(_lif_chain(1e-5, 1.0), src)  # Norse 1.1's convention, but this model means NIR semantics
    code, _, stderr = cli("convert", src, tmp_path / "plain.nir", "--passes", "inline")
    assert code == 0 and "follows norse's export convention" in stderr and "--profile norse" in stderr
    code, _, _ = cli("convert", src, dst, "--passes", "inline,dce", "--profile", "nir")
    assert code == 0 and read_nir(dst).graph.metadata["spyx.profile"] == "nir"
    assert resolve_profile(read_nir(dst).graph, "auto")[0].name == "nir"
    np.save(tmp_path / "x.npy", np.ones((5, 1, 3), F))
    code, stdout, _ = cli("run", dst, "--profile", "auto", "--dt", "1e-5", "--input", tmp_path / "x.npy")
    assert code == 0 and "profile auto: nir (recorded in the file's spyx.profile)" in stdout
