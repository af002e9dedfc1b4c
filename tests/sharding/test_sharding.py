"""Sharding (issue 17): data-parallel ``fit``/``compile_fit``, population ``sweep`` and population inference of an
imported NIR graph give the single-device results on 8 devices, with the placements they promise.

The multi-device checks run in one separate process (``sharded_checks.py``) with
``XLA_FLAGS=--xla_force_host_platform_device_count=8``: the flag must be set before jax is imported, and this
process (the rest of the suite) keeps one device. The references there are single-device: the same call without
a mesh and, for populations, a loop over members of a plain jax/optax training function (written from the
contract) or of ``program.run``. Argument errors and the helpers are checked here, on one device.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from click.testing import CliRunner
from flax import nnx
from jax.sharding import AxisType, Mesh

import spyx
import spyx.optimize as so
from spyx.backend import perturb_params, run_population, stack_params
from spyx.errors import ArgumentError
from spyx.sharding import check_mesh, make_mesh, shard_batch
from tests.conftest import CORPUS
from tests.optimize.tiny_model import TinyNet, task

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TOL = 1e-5  # float32 training over 4 steps: a reduction in another order moves the last bits only
BRAILLE = "braille_noDelay_bias_zero.nir"


@pytest.fixture(scope="module")
def sharded():
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8").strip()
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).strip(os.pathsep)
    proc = subprocess.run([sys.executable, str(HERE / "sharded_checks.py"), str(CORPUS)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"sharded_checks.py failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def test_the_checks_ran_on_eight_devices(sharded):
    assert sharded["device_count"] == 8
    assert jax.device_count() == 1  # and this process still sees one


def test_data_parallel_fit_equals_single_device(sharded):
    r = sharded["data_parallel"]["fit"]
    assert r["history_diff"] <= TOL and r["params_diff"] <= TOL
    # parameters replicated on all 8 devices; each device holds 1 of the 8 samples of a batch
    assert r["params_placement"] == {"spec": [], "devices": 8, "replicated": True, "shard_shape": [3, 4],
                                     "shape": [3, 4]}
    assert r["batch_placement"]["spec"] == ["data", None, None]
    assert r["batch_placement"]["shard_shape"] == [1, 5, 3] and r["batch_placement"]["devices"] == 8
    assert r["step_has_all_reduce"]  # the gradient is reduced by an XLA collective


def test_data_parallel_compile_fit_equals_single_device(sharded):
    r = sharded["data_parallel"]["compile_fit"]
    assert r["history_diff"] <= TOL and r["params_diff"] <= TOL
    for key in ("params_placement", "history_placement"):
        assert r[key]["replicated"] and r[key]["devices"] == 8


def test_population_sweep_equals_per_member_training(sharded):
    r = sharded["population"]["seeds"]
    for key in ("vs_reference_params", "vs_reference_loss", "vs_reference_metric", "vs_unsharded",
                "unsharded_vs_reference"):
        assert r[key] <= TOL, (key, r[key])
    assert r["frozen_kept"] == 0.0  # the non-Param state (a threshold variable) is not trained
    # one member per device: parameters and history split on their leading axis
    assert r["params_placement"]["spec"] == ["population"]
    assert r["params_placement"]["shard_shape"] == [1, 3, 4] and r["params_placement"]["devices"] == 8
    assert r["history_placement"]["spec"] == ["population"] and r["history_placement"]["shard_shape"] == [1, 2]


def test_hyperparameter_sweep_on_a_2d_mesh_equals_per_member_training(sharded):
    r = sharded["population"]["hparams"]
    assert r["vs_reference_params"] <= TOL and r["vs_reference_loss"] <= TOL
    assert r["distinct_members"] == 8  # eight learning rates, eight different runs
    # mesh population=4 x data=2: two members per device pair, replicated over the data axis
    assert r["params_placement"]["spec"] == ["population"] and r["params_placement"]["shard_shape"] == [2, 3, 4]


def test_population_inference_of_an_imported_graph(sharded, corpus):
    r = sharded.get("inference")
    assert r is not None, "the checks process did not find the corpus"
    assert r["vs_reference"] == 0.0 and r["unsharded_vs_reference"] == 0.0 and r["cli_vs_reference"] == 0.0
    assert len(set(r["member_spikes"])) > 1  # the perturbed members really differ
    assert r["cli_shape"] == [8, 20, 4, 7] and r["cli_devices_line"] == [
        "population 8 members (perturb=0.1) on 8 device(s)"]
    assert r["output_placement"]["spec"] == ["population", None, "data"]
    assert r["output_placement"]["shard_shape"] == [2, 20, 2, 7]
    assert r["state_placement"]["spec"] == ["population", "data"]


def test_sizes_the_mesh_does_not_divide_are_named(sharded):
    r = sharded["errors"]
    assert r["population"] == ["ArgumentError", True], r
    assert r["batch"] == ["ArgumentError", True], r


# -- one device: the helpers and the argument errors ----------------------------------------------------------
def test_make_mesh_sizes_and_errors():
    mesh = make_mesh()
    assert mesh.axis_names == ("population", "data") and dict(mesh.shape) == {"population": 1, "data": 1}
    assert all(t == AxisType.Auto for t in mesh.axis_types)
    for kw, fragment in (({"population": 2}, "needs at least 2 devices"), ({"population": 0}, "population"),
                         ({"data": 0}, "data"), ({"population": 1, "data": 3}, "needs 3 devices")):
        with pytest.raises(ArgumentError, match=fragment):
            make_mesh(**kw)


def test_check_mesh_wants_named_axes_and_makes_explicit_axes_auto():
    explicit = jax.make_mesh((1,), ("data",), axis_types=(AxisType.Explicit,))
    assert check_mesh(explicit, where="x").axis_types == (AxisType.Auto,)
    other = Mesh(np.array(jax.devices()[:1]), ("batch",))
    model = TinyNet(0)
    x, y = task(n_batches=1)
    with pytest.raises(ArgumentError, match=r"fit\(\): mesh axes are \('batch',\); this needs an axis named 'data'"):
        so.fit(model, optax.sgd(0.1), lambda m, x, y: 0.0, lambda: [(x[0], y[0])], epochs=1, mesh=other)
    with pytest.raises(ArgumentError, match="needs a 'population' or a 'data' axis"):
        so.sweep([model, model], optax.sgd(0.1), lambda m, x, y: 0.0, (x, y), epochs=1, mesh=other)
    with pytest.raises(ArgumentError, match="must be a jax.sharding.Mesh"):
        so.compile_fit(model, optax.sgd(0.1), lambda m, x, y: 0.0, (x, y), epochs=1, mesh="data")


def test_shard_batch_axes():
    mesh = make_mesh()
    x, y = np.zeros((3, 8, 2), np.float32), np.zeros((8,), np.int32)
    xs, ys = shard_batch(mesh, (x, y), (1, 0))
    assert tuple(xs.sharding.spec) == (None, "data", None) and tuple(ys.sharding.spec) == ("data",)
    assert shard_batch(mesh, {"a": x}, None)["a"].sharding.is_fully_replicated
    with pytest.raises(ArgumentError, match=r"batch_axis 3 is out of range for batch\[0\] of shape \(3, 8, 2\)"):
        shard_batch(mesh, (x, y), 3)
    with pytest.raises(ArgumentError, match="must be an int or None"):
        shard_batch(mesh, (x,), "0")


def test_stack_unstack_round_trip_and_population_errors():
    members = [TinyNet(s) for s in range(3)]
    pop = so.stack(members)
    assert so.population_size(pop) == 3 and pop.fc1.kernel[...].shape == (3, 3, 4)
    for m, back in zip(members, so.unstack(pop), strict=True):
        for a, b in zip(jax.tree.leaves(nnx.state(m)), jax.tree.leaves(nnx.state(back)), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ArgumentError, match="model 1 .* differs in structure"):
        so.stack([TinyNet(0), TinyNet(0, hidden=5)])
    with pytest.raises(ArgumentError, match=r"leaf .*theta.* is 0-d"):
        so.population_size(TinyNet(0))  # one model is not a population
    x, y = task(n_batches=1)
    with pytest.raises(ArgumentError, match=r"hparams\['lr'\] has shape \(2,\); .* population size 3"):
        so.sweep(members, lambda h: optax.sgd(h["lr"]), lambda m, x, y: 0.0, (x, y), epochs=1,
                 hparams={"lr": jnp.ones(2)})
    with pytest.raises(ArgumentError, match="metric_fn is required when eval_data is given"):
        so.sweep(members, optax.sgd(0.1), lambda m, x, y: 0.0, (x, y), epochs=1, eval_data=(x, y))


def test_perturb_params_member_zero_is_the_original_and_the_rest_are_relative():
    params = {"a": {"w": jnp.linspace(-2.0, 2.0, 4000).reshape(40, 100), "z": jnp.zeros(3)},
              "b": {"n": jnp.arange(3, dtype=jnp.int32)}}
    out = perturb_params(params, 5, sigma=0.1, key=jax.random.PRNGKey(1))
    np.testing.assert_array_equal(np.asarray(out["a"]["w"][0]), np.asarray(params["a"]["w"]))
    np.testing.assert_array_equal(np.asarray(out["a"]["z"]), 0.0)  # relative: zeros stay zero
    np.testing.assert_array_equal(np.asarray(out["b"]["n"]), np.tile(np.arange(3), (5, 1)))
    rel = np.asarray(out["a"]["w"][1:]) / np.asarray(params["a"]["w"]) - 1
    assert abs(rel.std() - 0.1) < 0.005 and abs(rel.mean()) < 0.005  # 16000 draws of N(0, 0.1^2)
    assert not np.allclose(rel[0], rel[1])  # members draw independently
    copies = stack_params(params, 2)
    np.testing.assert_array_equal(np.asarray(copies["a"]["w"][1]), np.asarray(params["a"]["w"]))
    with pytest.raises(ArgumentError, match="sigma"):
        perturb_params(params, 2, sigma=-1.0, key=jax.random.PRNGKey(0))
    with pytest.raises(ArgumentError, match="population size"):
        stack_params(params, 0)


def test_run_population_checks_the_parameter_stack(corpus):
    prog = spyx.compile(spyx.load(corpus / BRAILLE), dt=1e-4)
    x = np.zeros((2, 1, 12), np.float32)
    with pytest.raises(ArgumentError, match="program.params's structure"):
        run_population(prog, {"fc1": prog.params["fc1"]}, x)
    with pytest.raises(ArgumentError, match=r"\['fc1'\]\['weight'\] has shape \(38, 12\); expected \(P, 38, 12\)"):
        run_population(prog, prog.params, x)


def test_cli_population_runs_the_members_and_rejects_perturb_alone(corpus, tmp_path):
    from spyx_cli.main import main

    model = str(corpus / BRAILLE)
    base = ["run", model, "--random-input", "6,2,0.3", "--dt", "1e-4", "--seed", "3"]
    runner = CliRunner()
    single = runner.invoke(main, [*base, "--output", str(tmp_path / "one.npy")])
    pop = runner.invoke(main, [*base, "--population", "3", "--output", str(tmp_path / "pop.npy")])
    assert single.exit_code == 0 and pop.exit_code == 0, (single.output, pop.output)
    assert "population 3 members (perturb=0) on 1 device(s)" in pop.output
    one, three = np.load(tmp_path / "one.npy"), np.load(tmp_path / "pop.npy")
    assert three.shape == (3, *one.shape)
    for member in three:  # no perturbation: every member is the single run
        np.testing.assert_array_equal(member, one)
    bad = runner.invoke(main, [*base, "--perturb", "0.1"])
    assert bad.exit_code == 2 and "--perturb needs --population" in bad.output  # bad usage
