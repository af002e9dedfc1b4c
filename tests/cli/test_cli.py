"""spyx-convert end to end: exit codes, one-line errors without tracebacks, nothing written on failure,
and outputs checked against the library (not against hard-coded numbers)."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

import spyx
from spyx.ir import LIF, Affine, Graph, Linear, Scale
from spyx_cli.main import main

F = np.float32


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _chain() -> Graph:
    return Graph.sequential(
        [("fc", Affine(weight=np.ones((4, 3), F) * F(0.7), bias=np.zeros(4, F))),
         ("lif", LIF(tau=np.full(4, 0.01, F), r=np.ones(4, F), v_leak=np.zeros(4, F), v_threshold=np.ones(4, F),
                     v_reset=np.zeros(4, F)))],
        input_shape=(3,),
    )


def _edit(path, fn):
    with h5py.File(path, "r+") as f:
        fn(f)


def _set_edges(f, edges):
    del f["node/edges"]
    f["node"].create_dataset("edges", data=np.array(edges, dtype=object), dtype=h5py.string_dtype())


def _del_param(f):
    del f["node/nodes/lif/tau"]


def _wrong_shape(f):
    del f["node/nodes/fc/weight"]
    f["node/nodes/fc"].create_dataset("weight", data=np.ones((4, 5), F))


def _nan(f):
    f["node/nodes/lif/v_threshold"][1] = np.nan


def _unknown_type(f):
    del f["node/nodes/lif/type"]
    f["node/nodes/lif"].create_dataset("type", data="Quantum", dtype=h5py.string_dtype())


HOSTILE = {
    "unknown node type": (_unknown_type, 1, "unknown"),
    "missing parameter": (_del_param, 1, "tau"),
    "wrong-shape weight": (_wrong_shape, 1, "edge input -> fc: input produces (3,), fc expects (5,)"),
    "NaN parameter": (_nan, 1, "non-finite"),
    "dangling edge": (lambda f: _set_edges(f, [("input", "fc"), ("fc", "lif"), ("lif", "outptu")]), 1, "outptu"),
    "edge into Input": (lambda f: _set_edges(f, [("input", "fc"), ("fc", "lif"), ("lif", "output"), ("lif", "input")]),
                        1, "an Input node cannot receive edges"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_give_one_line_and_write_nothing(tmp_path, case):
    edit, code, needle = HOSTILE[case]
    path = tmp_path / "bad.nir"
    spyx.save(_chain(), path)
    _edit(path, edit)
    rc, out, err = cli("validate", path)
    assert rc == code
    assert needle in err and "Traceback" not in err
    assert all(line.startswith(str(path)) for line in err.strip().splitlines())
    rc, out, err = cli("convert", path, tmp_path / "out.nir")
    assert rc != 0 and needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.nir").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.nir"]


def test_cycle_through_stateless_nodes(tmp_path):
    g = Graph.sequential([("a", Linear(weight=np.eye(2, dtype=F))), ("b", Scale(scale=np.ones(2, F)))],
                         input_shape=(2,))
    path = tmp_path / "loop.nir"
    spyx.save(g, path)
    _edit(path, lambda f: _set_edges(f, [("input", "a"), ("a", "b"), ("b", "a"), ("b", "output")]))
    rc, _, err = cli("validate", path)
    assert rc == 1 and "cycle a -> b: passes through no stateful node" in err


@pytest.mark.parametrize("content", [b"hello, I am text\n", None])
def test_unreadable_files_exit_2(tmp_path, corpus, content):
    path = tmp_path / "x.nir"
    if content is None:  # a truncated real file
        data = (corpus / "cnn_sinabs.nir").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(content)
    rc, _, err = cli("validate", path)
    assert rc == 2 and str(path) in err and "Traceback" not in err
    rc, _, err = cli("inspect", path)
    assert rc == 2 and len(err.strip().splitlines()) == 1


def test_subgraph_file_needs_repair(corpus, tmp_path):
    path = corpus / "braille_noDelay_bias_zero_subgraph.nir"
    rc, _, err = cli("validate", path)
    assert rc == 1 and "edge input -> lif in subgraph lif1 names node 'lif'" in err
    rc, out, err = cli("validate", "--repair", path)  # notes go to stderr, the verdict to stdout
    assert rc == 0 and "renamed to 'lif1'" in err and out.strip().endswith("valid")
    rc, out, _ = cli("convert", path, tmp_path / "fixed.nir", "--repair", "--passes", "inline,dce")
    assert rc == 0 and "pass inline: 2 nodes removed" in out
    fixed = spyx.load(tmp_path / "fixed.nir")
    flat = spyx.load(corpus / "braille_noDelay_bias_zero.nir")
    assert sorted(fixed.nodes) == sorted(["input", "fc1", "lif1.lif1", "lif1.lin", "fc2", "lif2", "output"])
    np.testing.assert_array_equal(fixed.nodes["lif1.lin"].weight, flat.nodes["lif1.w_rec"].weight)


def test_inspect_json_reports_kinds_shapes_and_ports(corpus):
    for name in sorted(p.name for p in corpus.glob("*.nir")):
        args = ["inspect", "--format", "json", corpus / name]
        if "subgraph" in name:
            args.insert(1, "--repair")
        rc, out, _ = cli(*args)
        assert rc == 0, name
        info = json.loads(out)
        graph = spyx.io.read_nir(corpus / name, repair=True).graph
        assert {n["name"]: n["kind"] for n in info["nodes"]} == {k: v.kind for k, v in graph.nodes.items()}
        shapes = spyx.ir.infer_shapes(graph)
        assert info["inputs"] == {k: list(shapes[k].output) for k in graph.inputs}
        assert info["outputs"] == {k: list(shapes[k].output) for k in graph.outputs}
    info = json.loads(cli("inspect", "--format", "json", corpus / "cnn_sinabs.nir")[1])
    assert info["inputs"] == {"input": [2, 34, 34]} and info["outputs"] == {"output": [10]}
    assert next(n for n in info["nodes"] if n["name"] == "8")["output_shape"] == [128]


def test_inspect_text_and_dot(corpus):
    rc, out, _ = cli("inspect", corpus / "braille_noDelay_bias_zero.nir")
    assert rc == 0 and "lif1.lif -> lif1.w_rec  [feedback]" in out and "nir version: 0.2.0" in out
    rc, out, _ = cli("inspect", "--format", "dot", corpus / "braille_noDelay_bias_zero.nir")
    assert rc == 0 and out.startswith("digraph") and '"lif1.lif" -> "lif1.w_rec" [style=dashed' in out


def test_convert_keeps_every_parameter(corpus, tmp_path):
    import nir

    src = corpus / "cnn_sinabs.nir"
    rc, out, _ = cli("convert", src, tmp_path / "o.nir")
    assert rc == 0
    a, b = nir.read(src), nir.read(tmp_path / "o.nir")
    for name, node in a.nodes.items():
        for k, v in vars(node).items():
            if isinstance(v, np.ndarray) and k not in ("input_type", "output_type"):
                got = getattr(b.nodes[name], k)
                assert got.dtype == v.dtype and np.array_equal(got, v), (name, k)


def test_unknown_pass_and_option_list_the_valid_ones(corpus, tmp_path):
    src = corpus / "lif_norse.nir"
    rc, _, err = cli("convert", src, tmp_path / "o.nir", "--passes", "inline,frobnicate")
    assert rc == 2 and "unknown pass 'frobnicate'; available passes:" in err and "dce" in err  # bad usage
    rc, _, err = cli("convert", src, tmp_path / "o.nir", "--passes", "discretize{dtt=1}")
    assert rc == 2 and "has no option 'dtt'; valid options: delay_rounding, dt, method" in err
    assert not (tmp_path / "o.nir").exists()


def test_passes_lists_every_registered_pass():
    rc, out, _ = cli("passes")
    assert rc == 0
    for name in spyx.passes.PASSES:
        assert any(line.startswith(name + " ") for line in out.splitlines()), name


def test_run_lif_norse_against_lif_exact(corpus, tmp_path):
    ref = np.loadtxt(corpus / "lif_exact.csv", delimiter=",")
    np.save(tmp_path / "x.npy", ref[:, :1].astype(F))  # (T, 1): one sample, B = 1
    rc, out, _ = cli("run", corpus / "lif_norse.nir", "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy",
                     "--dt", "1e-4", "--states", tmp_path / "s.npz")
    assert rc == 0 and "4 spikes" in out
    y = np.load(tmp_path / "y.npy")
    assert y.shape == (1000, 1)
    assert np.nonzero(y[:, 0])[0].tolist() == [460, 510, 710, 760]
    v = np.load(tmp_path / "s.npz")["1.v"][:, 0]
    first = 460
    np.testing.assert_allclose(v[:first], ref[:first, 1], atol=1e-6)


def test_run_errors(corpus, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((10, 2), F))
    rc, _, err = cli("run", corpus / "lif_norse.nir", "--input", tmp_path / "x.npy", "--dt", "1e-4")
    assert rc == 1 and "expected shape (T, B, 1)" in err
    np.save(tmp_path / "x.npy", np.zeros((10, 1, 1), F))
    rc, _, err = cli("run", corpus / "lif_norse.nir", "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy")
    assert rc == 1 and "--dt" in err and not (tmp_path / "y.npy").exists()
    rc, _, err = cli("run", corpus / "lif_norse.nir", "--input", tmp_path / "nope.npy", "--dt", "1e-4")
    assert rc == 2 and "nope.npy" in err


def test_run_random_input_multi_output_npz(tmp_path):
    from tests.graphgen import multi_io_graph

    g = multi_io_graph(np.random.default_rng(0))
    spyx.save(g, tmp_path / "m.nir")
    rc, _, err = cli("run", tmp_path / "m.nir", "--random-input", "5,2", "--dt", "1e-3", "--output", tmp_path / "y.npy")
    assert rc == 1 and ".npz" in err
    rc, out, _ = cli("run", tmp_path / "m.nir", "--random-input", "5,2", "--dt", "1e-3", "--output", tmp_path / "y.npz")
    assert rc == 0
    ys = np.load(tmp_path / "y.npz")
    prog = spyx.compile(g, dt=1e-3)
    assert sorted(ys.files) == sorted(prog.output_names)


def test_console_script_and_demo(tmp_path):
    exe = [sys.executable, "-c", "from spyx_cli.main import main; main()"]
    r = subprocess.run(exe + ["demo", "--out", str(tmp_path / "demo")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "parameters identical: True" in r.stdout
    g = spyx.load(tmp_path / "demo" / "example.nir")
    x = np.load(tmp_path / "demo" / "input.npy")
    prog = spyx.compile(g, dt=1e-3)
    np.testing.assert_allclose(np.load(tmp_path / "demo" / "output.npy"), np.asarray(prog.run(prog.params, x)[0]),
                               rtol=1e-6, atol=1e-6)
    r = subprocess.run(exe + ["validate", str(tmp_path / "nothing.nir")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_quantize_for_a_target_writes_integer_weights_and_validates(corpus, tmp_path):
    from spyx.targets import quantize_for

    src = corpus / "cnn_sinabs.nir"
    rc, _, err = cli("validate", "--target", "speck", src)
    assert rc == 1 and "not integer-valued" in err and "(0)" in err  # names the conv node "0"
    rc, out, _ = cli("quantize", src, tmp_path / "q.nir", "--target", "speck", "--report", "--dt", "1")
    assert rc == 0 and "agreement" in out and "wrote" in out
    q = spyx.load(tmp_path / "q.nir")
    expected = quantize_for(spyx.load(src), "speck", dt=1.0).graph
    for name, node in q.nodes.items():
        if node.kind in ("Conv2d", "Affine"):
            w = node.weight
            assert np.array_equal(w, np.round(w)) and np.abs(w).max() <= 127, name
            assert np.array_equal(w, expected.nodes[name].weight)
    rc, out, _ = cli("validate", "--target", "speck", tmp_path / "q.nir")
    assert rc == 0 and "valid for target speck" in out


def test_quantize_bad_options_and_unknown_target(corpus, tmp_path):
    src = corpus / "lif_norse.nir"
    rc, _, err = cli("quantize", src, tmp_path / "q.nir", "--bits", "0")
    assert rc == 2 and "bits" in err and not (tmp_path / "q.nir").exists()  # bad usage (OptionError)
    rc, _, err = cli("quantize", src, tmp_path / "q.nir", "--target", "truenorth")
    assert rc == 2 and "xylo" in err and "loihi2" in err and not (tmp_path / "q.nir").exists()
