"""``spyx-convert quantize``: a stated default width for targets whose width is unknown, exit codes that say
whether a file was written, errors naming the command's flags, ``--profile`` (the report runs what the
exporter ran, the output records it), and no agreement score for two silent networks."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner
from spyx_cli.main import main

import spyx
from spyx.io import read_nir, write_nir
from spyx.ir import LIF, Affine, Graph
from spyx.quant.report import random_inputs, report

F = np.float32


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _net(tau: float, r: float, threshold: float, bias: float = 0.0) -> Graph:
    rng = np.random.default_rng(3)
    return Graph.sequential(
        [("fc", Affine(weight=rng.normal(0.6, 0.3, (5, 4)).astype(F), bias=np.full(5, bias, F))),
         ("lif", LIF(tau=np.full(5, tau, F), r=np.full(5, r, F), v_leak=np.zeros(5, F),
                     v_threshold=np.full(5, threshold, F), v_reset=np.zeros(5, F)))],
        input_shape=(4,),
    )


def test_unknown_width_defaults_to_a_stated_8_bits_and_force_exits_0(tmp_path):
    src, dst = tmp_path / "m.nir", tmp_path / "q.nir"
    write_nir(_net(0.01, 1.0, 1.0, bias=0.1), src)  # loihi2 has no biases: one violation remains
    code, stdout, stderr = cli("quantize", src, dst, "--target", "loihi2", "--dt", "1e-3")
    assert code == 1 and not dst.exists()
    assert "weights: 8-bit (default for loihi2 when unknown; --bits to change)" in stdout
    assert "weights: unknown" not in stdout and "not written" in stdout
    code, stdout, stderr = cli("quantize", src, dst, "--target", "loihi2", "--dt", "1e-3", "--bits", "6", "--force")
    assert code == 0 and dst.exists()  # written: the exit code says so
    assert "weights: 6-bit (--bits)" in stdout and "written anyway (--force)" in stderr
    w = read_nir(dst).graph.nodes["fc"].weight
    assert np.array_equal(w, np.round(w)) and np.abs(w).max() <= 31


def test_missing_dt_names_the_command_flags(tmp_path):
    src = tmp_path / "m.nir"
    write_nir(_net(0.01, 1.0, 1.0), src)
    code, _, stderr = cli("quantize", src, tmp_path / "q.nir", "--target", "loihi2")
    assert code != 0 and "--dt SECONDS" in stderr and "quantize-graph{" not in stderr
    code, _, stderr = cli("quantize", src, tmp_path / "q.nir", "--report")
    assert code != 0 and "--dt SECONDS" in stderr and "--report" in stderr
    code, _, stderr = cli("quantize", src, tmp_path / "q.nir", "--bits", "1")
    assert code == 2 and "--bits 1 is out of range" in stderr and "--ternary" in stderr and "bits=" not in stderr
    assert not (tmp_path / "q.nir").exists()


def test_two_silent_networks_have_no_agreement_score():
    g = _net(0.01, 1.0, 1e6)  # nothing reaches the threshold, before or after quantization
    rep = report(g, g, dt=1e-3, T=20, B=2)
    [lif] = [n for n in rep.nodes if n.name == "lif"]
    assert lif.spiking and lif.agreement is None and lif.rate_float == 0 and lif.rate_quant == 0
    assert rep.min_agreement is None
    assert "no spikes in either: agreement undefined" in rep.table()
    live_g = g.with_nodes({**g.nodes, "lif": g.nodes["lif"].replace(v_threshold=np.full(5, 0.5, F))})
    live = report(live_g, g, dt=1e-3, T=20, B=2)
    assert [n.agreement for n in live.nodes if n.name == "lif"][0] < 1  # one silent, one not: a real score


def test_profile_runs_the_exporters_model_and_is_recorded(tmp_path):
    src, dst = tmp_path / "snn.nir", tmp_path / "q.nir"
    g = _net(2e-3, 2e-3 / 1e-4, 0.8)  # snnTorch's convention: r = tau/dt with its dt = 1e-4
    write_nir(g, src)
    code, stdout, stderr = cli("quantize", src, dst, "--bits", "8", "--report", "--profile", "snntorch")
    assert code == 0, stderr
    assert "dt=0.0001" in stdout and "profile: snntorch" in stdout  # the exporter's dt, no --dt needed
    assert read_nir(dst).graph.metadata["spyx.profile"] == "snntorch"
    # the report's float rate is snnTorch's model (independently compiled here), not the NIR reading
    xs = random_inputs(g, T=100, B=8, seed=0, rate=0.2)
    rates = {}
    for spec in ("snntorch", "nir"):
        prog = spyx.compile(g, profile=spec, dt=1e-4)
        rates[spec] = float(np.mean(np.asarray(prog.run(prog.params, xs)[0])))
    assert rates["snntorch"] != rates["nir"]
    row = [line for line in stdout.splitlines() if line.startswith("lif ")][0].split()
    assert np.isclose(float(row[3]), rates["snntorch"], atol=5e-5)
    # a later run reads the written file with the recorded profile
    np.save(tmp_path / "x.npy", xs["input"])
    code, stdout, _ = cli("run", dst, "--input", tmp_path / "x.npy")
    assert code == 0 and "profile=snntorch" in stdout
