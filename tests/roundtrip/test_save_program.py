"""The interchange loop closes (issue 13, item 3): a peer's file, compiled with its profile and fine-tuned,
written back with ``spyx.save(program)`` and read again with the same profile, runs the fine-tuned program.

For every peer (Norse, snnTorch, Sinabs, Spyx 1.0 from ``../shared/nir-corpus``; Rockpool from its real
exporter, one fixture case generated here): 20 Adam steps on random data, then ``save -> load(profile) ->
compile`` must give back (a) every parameter of the fine-tuned program, (b) its outputs and final state on a
fresh input, and (c) parameters that differ from the file's (so a save that wrote the original parameters
fails). The fine-tuning trains the weight layers and the thresholds: every peer's convention expresses those;
a parameter a convention ties to another (Norse's ``g_x = 1 - beta``) is refused by name, tested below. The
``nir`` profile writes every discrete parameter of a LIF, so there all of them are trained.

Tolerances: the reloaded discrete factors are recomputed in float32 from float64 time constants, so they may
differ from the trained ones by float32 rounding (``rtol = 1e-6``, what the writer's check allows); the runs
use the same float32 kernels, so outputs are compared at ``1e-6`` too (observed: exactly equal).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import spyx
from spyx.errors import ArgumentError, ExportError

ROOT = Path(__file__).resolve().parents[2]
STEPS = 20
T, B = 3, 1

# peer -> (file in ../shared/nir-corpus, profile it is compiled and reloaded with)
CORPUS_CASES = {
    "norse": ("lif_norse.nir", "norse"),
    "snntorch": ("braille_noDelay_bias_zero.nir", "snntorch"),
    "sinabs": ("cnn_sinabs.nir", "sinabs"),
    "spyx1": ("scnn_mnist_spyx.nir", "spyx1"),
}


def _trainable(prog, train_all: bool):
    """Which leaves are trained (the others get zero gradients): the weight layers' arrays and the neurons'
    thresholds, or everything."""
    neurons = {n for n, v in prog.graph.nodes.items() if v.kind == "spyx.Neuron"}

    def train(path, _leaf) -> bool:
        node, name = path[0].key, path[-1].key
        if train_all:
            return True
        return name == "v_threshold" or (node not in neurons and name in ("weight", "bias"))

    return jax.tree_util.tree_map_with_path(train, prog.params)


def _fine_tune(prog, train_all: bool = False):
    """20 Adam steps of a squared error to random targets; the trained parameters."""
    mask = _trainable(prog, train_all)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.random((T, B, *prog.input_shapes[prog.input_names[0]])) < 0.3, jnp.float32)
    shape = (T, B, *prog.output_shapes[prog.output_names[0]])
    target = jnp.asarray(rng.random(shape), jnp.float32)
    opt = optax.adam(3e-2)  # frozen leaves get zero gradients, so Adam leaves them exactly as they are

    @jax.jit
    def step(params, state):
        def loss(p):
            y, final = prog.run(p, x)
            # the final membranes carry a gradient to every neuron even where the readout spikes rarely
            v = sum(jnp.mean(s["v"] ** 2) for s in final.values() if "v" in s)
            return jnp.mean((y - target) ** 2) + 1e-2 * v

        g = jax.tree.map(lambda gi, train: gi if train else jnp.zeros_like(gi), jax.grad(loss)(params), mask)
        updates, state = opt.update(g, state, params)
        return optax.apply_updates(params, updates), state

    params, state = prog.params, opt.init(prog.params)
    for _ in range(STEPS):
        params, state = step(params, state)
    return params


def _max_rel(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / (np.abs(b) + 1e-30))) if a.size else 0.0


def _check_round_trip(prog, path: Path, profile: str, train_all: bool = False):
    """(a), (b), (c) of the module docstring for ``prog`` fine-tuned, saved to ``path``, loaded with ``profile``."""
    tuned = _tune_and_save(prog, path, train_all)
    _check_reloaded(prog, tuned, path, profile)
    return tuned


def _tune_and_save(prog, path: Path, train_all: bool = False):
    tuned = _fine_tune(prog, train_all)
    # (c) the fine-tuning moved the parameters well beyond the tolerance of (a): a stale save fails (a)
    moved = max(_max_rel(a, b) for a, b in zip(jax.tree.leaves(tuned), jax.tree.leaves(prog.params), strict=True))
    assert moved > 1e-3, f"the fine-tuning changed nothing (max relative change {moved:g})"
    spyx.save(prog, path, params=tuned)
    return tuned


def _check_reloaded(prog, tuned, path: Path, profile: str) -> None:
    again = spyx.compile(spyx.load(path, profile=profile))
    assert again.profile.split("{")[0] == profile

    # (a) every parameter, node by node, as trained
    assert jax.tree.structure(again.params) == jax.tree.structure(tuned)
    flat_a = jax.tree_util.tree_leaves_with_path(again.params)
    for (where, got), want in zip(flat_a, jax.tree.leaves(tuned), strict=True):
        np.testing.assert_allclose(
            np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-7, err_msg=jax.tree_util.keystr(where)
        )
    # (b) outputs and final state on a fresh input
    x = jnp.asarray(np.random.default_rng(7).random((T, B, *prog.input_shapes[prog.input_names[0]])) < 0.4,
                    jnp.float32)
    y_tuned, s_tuned = prog.run(tuned, x)
    y_again, s_again = again.run(again.params, x)
    np.testing.assert_allclose(np.asarray(y_again), np.asarray(y_tuned), rtol=1e-6, atol=1e-6)
    for a, b in zip(jax.tree.leaves(s_again), jax.tree.leaves(s_tuned), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("peer", sorted(set(CORPUS_CASES) - {"spyx1"}))
def test_fine_tuned_peer_file_round_trips(corpus, tmp_path, peer):
    name, profile = CORPUS_CASES[peer]
    prog = spyx.compile(spyx.load(corpus / name, profile=profile))
    _check_round_trip(prog, tmp_path / f"{peer}.nir", profile)


@pytest.fixture(scope="module")
def spyx1_saved(corpus, tmp_path_factory):
    """Spyx 1.0's ``scnn_mnist_spyx.nir`` compiled with ``spyx1``, fine-tuned and saved: (program, params, path)."""
    prog = spyx.compile(spyx.load(corpus / CORPUS_CASES["spyx1"][0], profile="spyx1"))
    path = tmp_path_factory.mktemp("spyx1") / "tuned.nir"
    return prog, _tune_and_save(prog, path), path


def test_fine_tuned_spyx1_file_round_trips(spyx1_saved):
    prog, tuned, path = spyx1_saved
    _check_reloaded(prog, tuned, path, "spyx1")


@pytest.mark.interop
def test_the_real_spyx1_runs_the_file_written_back(spyx1_saved, tmp_path):
    """The independent check of the Spyx 1.0 convention: the real ``spyx==1.0.0`` (its own environment)
    reads the fine-tuned file with ``spyx.nir.from_nir`` and computes the fine-tuned program's outputs, which
    the original file's parameters do not."""
    from tests.compat.compat_harness import spyx1_python  # finds it in the main checkout from a worktree

    py, why = spyx1_python()
    if py is None:
        pytest.skip(why)
    prog, tuned, path = spyx1_saved
    x = (np.random.default_rng(8).random((6, 2, 2, 34, 34)) < 0.4).astype(np.float32)  # (T, B, C, H, W)
    np.save(tmp_path / "x.npy", np.moveaxis(x, 2, -1))  # Spyx 1.0 is channels-last
    script = (
        "import sys, numpy as np, nir, spyx.nir\n"
        "model, y = spyx.nir.from_nir(nir.read(sys.argv[1]), np.load(sys.argv[2]), dt=1)\n"
        "np.save(sys.argv[3], np.asarray(y))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"JAX_PLATFORMS": "cpu"}
    r = subprocess.run(  # from outside the repository, so that its spyx is the installed 1.0.0
        [py, "-c", script, str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    run = jax.jit(lambda p: prog.run(p, x)[0])  # one compilation for both parameter sets
    ours = np.asarray(run(tuned))
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), ours)
    assert not np.array_equal(np.asarray(run(prog.params)), ours)


@pytest.fixture(scope="module")
def rockpool_file(tmp_path_factory) -> Path:
    """Rockpool's own export of Linear-LIFTorch x2 (the interop suite's ``lif_cuba`` case), generated by the
    real Rockpool in a subprocess: no Rockpool file is in the corpus."""
    from tests.interop.conftest import peers_python

    py, why = peers_python()
    if py is None:
        pytest.skip(why)
    out = tmp_path_factory.mktemp("rockpool")
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1"}
    args = [py, "-m", "tests.interop.peers.generate", str(out), "--peer", "rockpool", "--case", "lif_cuba"]
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    path = out / "rockpool" / "lif_cuba" / "model.nir"
    if r.returncode != 0 or not path.exists():
        pytest.fail(f"the Rockpool fixture was not written ({' '.join(args)}):\n{r.stderr[-2000:]}")
    return path


def test_fine_tuned_rockpool_file_round_trips(rockpool_file, tmp_path):
    prog = spyx.compile(spyx.load(rockpool_file, profile="rockpool"))
    _check_round_trip(prog, tmp_path / "rockpool.nir", "rockpool")


def test_nir_profile_writes_every_trained_neuron_parameter(corpus, tmp_path):
    """Read as plain NIR, a LIF's five discrete parameters (beta, g_x, bias, threshold, reset) are all
    expressible (tau, r, v_leak, v_threshold, v_reset): train them all; the file is plain NIR at dt."""
    prog = spyx.compile(spyx.load(corpus / "lif_norse.nir"), dt=1e-3)
    assert prog.profile == "nir"
    _check_round_trip(prog, tmp_path / "nir.nir", "nir", train_all=True)
    graph = spyx.load(tmp_path / "nir.nir")
    assert graph.nodes["1"].kind == "LIF" and graph.metadata["spyx.dt"] == pytest.approx(1e-3)


def test_nirmodule_saves_its_own_parameters(corpus, tmp_path):
    """``spyx.nn.from_nir`` of a ``nir.NIRGraph`` (what ``nir.read`` returns), fine-tuned through its
    ``nnx.Param``s, written with ``spyx.save(module, path)``: the file runs the module's outputs."""
    import nir

    module = spyx.nn.from_nir(nir.read(corpus / "lif_norse.nir"), profile="norse")
    before = module.param_values()
    module.params["0"]["weight"][...] = module.params["0"]["weight"][...] * 1.7  # what an optimizer step does
    module.params["1"]["v_threshold"][...] = module.params["1"]["v_threshold"][...] * 0.8
    spyx.save(module, tmp_path / "module.nir")
    again = spyx.compile(spyx.load(tmp_path / "module.nir", profile="norse"))
    x = jnp.asarray(np.random.default_rng(3).random((12, 2, 1)) < 0.5, jnp.float32)
    y_module, _ = spyx.nn.run(module, x)
    np.testing.assert_allclose(np.asarray(again.run(again.params, x)[0]), np.asarray(y_module), atol=1e-6)
    w = np.asarray(again.params["0"]["weight"])
    np.testing.assert_allclose(w, 1.7 * np.asarray(before["0"]["weight"]), rtol=1e-6)


def test_a_tied_parameter_is_refused_by_name(corpus, tmp_path):
    """Norse writes one time constant per LIF (``beta = 1 - a``, ``g_x = a``): a program whose ``g_x`` was
    trained alone cannot be written in its convention; the error names the node and the way out, and plain
    NIR (``profile="nir"``) writes it."""
    prog = spyx.compile(spyx.load(corpus / "lif_norse.nir", profile="norse"))
    params = jax.tree.map(lambda a: a, prog.params)
    params["1"] = {**params["1"], "g_x": params["1"]["g_x"] * 1.5}
    with pytest.raises(ExportError, match=r"node 1 .*norse convention.*profile='nir'"):
        spyx.save(prog, tmp_path / "bad.nir", params=params)
    assert not (tmp_path / "bad.nir").exists()
    spyx.save(prog, tmp_path / "plain.nir", params=params, profile="nir")
    again = spyx.compile(spyx.load(tmp_path / "plain.nir"))
    np.testing.assert_allclose(np.asarray(again.params["1"]["g_x"]), np.asarray(params["1"]["g_x"]), rtol=1e-6)


def test_save_names_the_argument_order(corpus, tmp_path):
    prog = spyx.compile(spyx.load(corpus / "lif_norse.nir", profile="norse"))
    with pytest.raises(ArgumentError, match=r"spyx\.save\(graph, path\)"):
        spyx.save(tmp_path / "x.nir", prog)


def test_nir_graph_is_accepted_everywhere(corpus, tmp_path):
    """A ``nir.NIRGraph`` goes to ``spyx.compile``, ``spyx.save`` and ``spyx.nn.from_nir`` as its file does."""
    import nir

    path = corpus / "lif_norse.nir"
    ng = nir.read(path)
    spyx.save(ng, tmp_path / "copy.nir")
    assert spyx.to_text(spyx.load(tmp_path / "copy.nir")) == spyx.to_text(spyx.load(path))
    x = jnp.asarray(np.random.default_rng(5).random((10, 1, 1)) < 0.5, jnp.float32)
    from_file = spyx.compile(spyx.load(path, profile="norse"))
    from_object = spyx.compile(ng, profile="norse")
    np.testing.assert_array_equal(
        np.asarray(from_object.run(from_object.params, x)[0]), np.asarray(from_file.run(from_file.params, x)[0])
    )
    module = spyx.nn.from_nir(ng, profile="norse")
    y_file = np.asarray(from_file.run(from_file.params, x)[0])
    np.testing.assert_array_equal(np.asarray(spyx.nn.run(module, x)[0]), y_file)


def test_plain_nir_refuses_a_step_it_cannot_express(corpus, tmp_path):
    """snnTorch's subtract reset with a delayed reset is no NIR neuron's discretisation: ``profile="nir"``
    names the node, says what was tried, and points back to the program's own profile."""
    prog = spyx.compile(spyx.load(corpus / "braille_noDelay_bias_zero.nir", profile="snntorch"))
    with pytest.raises(ExportError, match=r"node lif1\.lif: no NIR neuron discretises exactly to it.*tried.*LIF"):
        spyx.save(prog, tmp_path / "plain.nir", profile="nir")
    assert not (tmp_path / "plain.nir").exists()


@pytest.mark.parametrize("profile", ["snntorch", "nir"])
def test_trained_decays_come_back_bit_for_bit(corpus, tmp_path, profile):
    """Decays moved by training (every neuron's ``alpha`` and ``beta`` of snnTorch's Braille network, 45
    neurons; a LIF read as plain NIR) come back bit for bit: the time constants are written in float64. With
    float32 time constants the recomputed ``1 - dt/tau`` misses some trained decays by an ulp or more (the
    snnTorch case of this test then fails)."""
    if profile == "nir":
        prog = spyx.compile(spyx.load(corpus / "lif_norse.nir"), dt=1e-3)
    else:
        prog = spyx.compile(spyx.load(corpus / "braille_noDelay_bias_zero.nir", profile="snntorch"))
    rng = np.random.default_rng(11)

    def nudge(path, a):
        if path[-1].key not in ("alpha", "beta"):
            return a
        return np.clip(np.asarray(a) * (1 + 1e-3 * rng.standard_normal(a.shape)), 0, 0.999).astype(a.dtype)

    params = jax.tree_util.tree_map_with_path(nudge, prog.params)
    spyx.save(prog, tmp_path / "d.nir", params=params)
    again = spyx.compile(spyx.load(tmp_path / "d.nir", profile=profile))
    for (where, got), want in zip(
        jax.tree_util.tree_leaves_with_path(again.params), jax.tree.leaves(params), strict=True
    ):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=jax.tree_util.keystr(where))


def _plain_nir_graphs():
    from tests.graphgen import primitive_graphs

    graphs = dict(primitive_graphs(seed=4))
    keep = ("LIF", "IF", "LI", "I", "CubaLIF", "CubaLI", "Scale+Delay+Linear+Threshold", "nested")
    return [(k, graphs[k]) for k in keep]


@pytest.mark.parametrize("kind,graph", _plain_nir_graphs(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_nir_kind_written_back_as_plain_nir(tmp_path, kind, graph):
    """Each NIR neuron kind (and a Delay, a nested graph with a recurrent cycle), compiled with the ``nir``
    profile, its weights, thresholds and resets changed, saved and read back as plain NIR: the same program
    (every parameter, the outputs and final state on random spikes)."""
    from tests.graphgen import DT

    prog = spyx.compile(graph, dt=DT)
    rng = np.random.default_rng(5)
    neurons = {n for n, v in prog.graph.nodes.items() if v.kind == "spyx.Neuron"}

    def change(path, a):  # a neuron's bias is NIR's leak, which IF and I do not have
        node, name = path[0].key, path[-1].key
        if name in ("weight", "v_threshold", "v_reset") or (name == "bias" and node not in neurons):
            return (np.asarray(a) + 0.1 * rng.standard_normal(a.shape)).astype(a.dtype)
        return a

    params = jax.tree_util.tree_map_with_path(change, prog.params)
    spyx.save(prog, tmp_path / "g.nir", params=params)
    again = spyx.compile(spyx.load(tmp_path / "g.nir"))  # the file records dt (spyx.dt)
    for (where, got), want in zip(
        jax.tree_util.tree_leaves_with_path(again.params), jax.tree.leaves(params), strict=True
    ):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, err_msg=jax.tree_util.keystr(where))
    x = {n: jnp.asarray(rng.random((8, 2, *s)) < 0.5, jnp.float32) for n, s in prog.input_shapes.items()}
    y, s = prog.run(params, x)
    y2, s2 = again.run(again.params, x)
    for a, b in zip(jax.tree.leaves((y2, s2)), jax.tree.leaves((y, s)), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)


_DUMP = """
import sys, numpy as np, nir
g = nir.read(sys.argv[1])
out = {}
def walk(graph, prefix):
    for name, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            walk(node, prefix + name + ".")
            continue
        for field, value in vars(node).items():
            if isinstance(value, np.ndarray) and field not in ("input_type", "output_type"):
                out[prefix + name + "/" + field] = value
walk(g, "")
np.savez(sys.argv[2], **out)
"""


@pytest.mark.parametrize("version", ["1.0.6"])
def test_older_nir_reads_a_saved_program(corpus, tmp_path, version):
    """A program written back (snnTorch's recurrent Braille network, changed weights; float64 time
    constants, gzip datasets) is read by ``nir.read`` of nir 1.0.6, every array as spyx reads it. (nir 1.0.4
    cannot: its LIF, IF and CubaLIF have no ``v_reset``, which every file nir >= 1.0.6 writes has.)"""
    from tests.io.conftest import _install  # pip-installs the release into a cache kept between runs

    target = _install(version)
    prog = spyx.compile(spyx.load(corpus / "braille_noDelay_bias_zero.nir", profile="snntorch"))
    params = jax.tree.map(lambda a: a, prog.params)
    params["fc1"] = {**params["fc1"], "weight": params["fc1"]["weight"] * 0.5}
    spyx.save(prog, tmp_path / "p.nir", params=params)
    env = {**os.environ, "PYTHONPATH": str(target)}
    r = subprocess.run([sys.executable, "-c", _DUMP, str(tmp_path / "p.nir"), str(tmp_path / "d.npz")],
                       cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    graph = spyx.load(tmp_path / "p.nir")
    ours = {f"{n}/{k}": v for n, node in graph.nodes.items() if n not in ("input", "output")
            for k, v in node.params().items()}
    with np.load(tmp_path / "d.npz") as theirs:
        assert set(theirs.files) >= set(ours)
        for key, value in ours.items():
            np.testing.assert_array_equal(theirs[key], value, err_msg=key)
