"""The one lowering pipeline (spyx.profiles.pipeline): every entry point gives the same lowered graph, the
dt rule of spyx.profiles.resolve in its order, per-node options that name nothing are errors, and
``spyx-convert lower`` prints the lowered graph with the closed-form factors of each profile."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from spyx_cli.main import main

import spyx
from spyx.errors import MissingDtError, OptionError
from spyx.ir import LIF, Affine, Graph
from spyx.ir.digest import graph_digest
from spyx.passes.retime import DT_KEY
from spyx.profiles import lower, lowering_passes, get_profile

F = np.float32
TAU = np.array([0.01, 0.02], F)


def _graph(metadata=None) -> Graph:
    lif = LIF(tau=TAU, r=TAU / F(1e-4), v_leak=np.zeros(2, F), v_threshold=np.full(2, 0.5, F),
              v_reset=np.zeros(2, F))
    return Graph.sequential([("fc", Affine(weight=np.eye(2, dtype=F), bias=np.zeros(2, F))), ("lif", lif)],
                            input_shape=(2,), metadata=metadata)


def test_every_entry_point_lowers_the_same_way(tmp_path):
    g = _graph()
    spyx.save(g, tmp_path / "m.nir")
    want = graph_digest(lower(g, "snntorch", dt=1e-4).graph)
    assert graph_digest(spyx.compile(g, profile="snntorch", dt=1e-4).graph) == want
    assert graph_digest(spyx.compile(spyx.load(tmp_path / "m.nir", profile="snntorch"), dt=1e-4).graph) == want
    assert graph_digest(spyx.nn.from_nir(g, profile="snntorch", dt=1e-4).program.graph) == want
    lowered = lower(g, "snntorch", dt=1e-4).graph
    assert graph_digest(lower(lowered).graph) == graph_digest(lowered)  # nothing continuous left: a fixed point
    assert [p.name for p in lowering_passes(get_profile("spyx1"))] == [
        "drop-batch-axis", "spyx1-rnn-edges", "inline", "spyx1-channels-last", "lower-neurons", "verify",
    ]


def test_dt_rule_in_order():
    beta = lambda out: out.graph.nodes["lif"].beta.astype(np.float64)  # noqa: E731
    euler = lambda dt: 1 - dt / TAU.astype(np.float64)  # noqa: E731  (snnTorch's beta = 1 - dt/tau)
    recorded = _graph({DT_KEY: 2e-4})
    assert lower(recorded, "snntorch", dt=5e-4).dt == 5e-4  # 1. the caller's
    np.testing.assert_allclose(beta(lower(recorded, "snntorch", dt=5e-4)), euler(5e-4), rtol=1e-6)
    out = lower(recorded, "snntorch{dt=3e-4}")  # 2. the profile's option, set
    assert out.dt == 3e-4 and any("dt option" in n for n in out.notes)
    out = lower(recorded, "snntorch")  # 3. the graph's recorded step
    assert out.dt == 2e-4 and any("recorded" in n for n in out.notes)
    np.testing.assert_allclose(beta(out), euler(2e-4), rtol=1e-6)
    out = lower(_graph(), "snntorch")  # 4. the framework's default
    assert out.dt == 1e-4 and any("export_to_nir" in n for n in out.notes)
    assert out.graph.metadata[DT_KEY] == 1e-4 and "spyx.profile" not in out.graph.metadata
    assert lower(recorded).dt == 2e-4  # nir: the recorded step, no note
    with pytest.raises(MissingDtError):  # 5. none
        lower(_graph())


def test_per_node_options_must_name_a_node():
    with pytest.raises(OptionError, match=r"per-node options for 'lfi' name no node of the graph .*lif"):
        lower(_graph(), "snntorch{reset@lfi=zero}")
    out = lower(_graph(), "snntorch{reset@lif=zero}")
    assert out.graph.nodes["lif"].reset == "value"


def test_cli_lower_prints_the_lowered_graph(tmp_path):
    spyx.save(_graph(), tmp_path / "m.nir")
    run = CliRunner().invoke(main, ["lower", str(tmp_path / "m.nir"), "--dt", "1e-3"], catch_exceptions=False)
    assert run.exit_code == 0, run.stderr
    exact = np.exp(-1e-3 / TAU.astype(np.float64)).astype(F)  # nir: the exact zero-order hold
    assert "lif: spyx.Neuron (2,) -> (2,)" in run.stdout
    assert np.array2string(exact, separator=",", precision=8) in run.stdout
    run = CliRunner().invoke(main, ["lower", str(tmp_path / "m.nir"), "--profile", "snntorch"],
                             catch_exceptions=False)
    assert run.exit_code == 0 and "# snntorch: dt = 0.0001" in run.stdout
    euler = np.clip((1 - 1e-4 / TAU.astype(np.float64)).astype(F), 0, 1)
    assert np.array2string(euler, separator=",", precision=8) in run.stdout
    run = CliRunner().invoke(main, ["lower", str(tmp_path / "m.nir")])
    assert run.exit_code == 1 and "pass dt" in run.stderr


def test_old_names_still_compile_through_the_pipeline():
    import spyx.backend
    import spyx.backend.compile  # noqa: F401  (the old module path; the package attribute is then the module)
    from spyx.backend import lower as backend_lower
    from spyx.backend import run_file

    g = _graph()
    want = graph_digest(lower(g, dt=1e-3).graph)
    assert graph_digest(spyx.backend.compile(g, dt=1e-3).graph) == want
    assert graph_digest(backend_lower(g, dt=1e-3)) == want
    assert run_file(g, np.zeros((3, 2), F), dt=1e-3).outputs["output"].shape == (3, 2)
