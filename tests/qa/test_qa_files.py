"""Files a new user brings that spyx had not seen: hand-edited HDF5 and real peer quirks.

Each test starts from a graph spyx writes, edits the HDF5 the way another writer could have, and checks
that the file loads, round-trips bit-exactly, runs to the same numbers as the unedited file, or fails with
one spyx error that names the file and node.
"""

from __future__ import annotations

import re

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from spyx_cli.main import main

import spyx
from spyx.ir import LIF, Affine, Graph, Input, Linear, Output, Scale

F = np.float32


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _rnn() -> Graph:
    rng = np.random.default_rng(3)
    g = Graph.sequential(
        [
            (
                "aff",
                Affine(weight=rng.standard_normal((4, 3)).astype(F), bias=rng.standard_normal(4).astype(F)),
            ),
            (
                "lif",
                LIF(
                    tau=np.full(4, 0.02, F),
                    r=np.ones(4, F),
                    v_leak=np.zeros(4, F),
                    v_threshold=np.full(4, 0.5, F),
                    v_reset=np.zeros(4, F),
                ),
            ),
        ],
        input_shape=(3,),
    )
    rec = Linear(weight=rng.standard_normal((4, 4)).astype(F))
    return g.replace(nodes={**g.nodes, "rec": rec}, edges=(*g.edges, ("lif", "rec"), ("rec", "lif")))


def _datasets(f: h5py.File) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out


def _big_endian(path) -> None:
    """Rewrite every numeric dataset as big-endian (same values)."""
    with h5py.File(path, "r+") as f:
        for name, v in _datasets(f).items():
            v = np.asarray(v)
            if v.dtype.kind in "iuf":
                del f[name]
                f.create_dataset(name, data=v.astype(v.dtype.newbyteorder(">")))


def test_big_endian_file_runs_like_native(tmp_path):
    native, swapped = tmp_path / "native.nir", tmp_path / "be.nir"
    spyx.save(_rnn(), native)
    spyx.save(_rnn(), swapped)
    _big_endian(swapped)
    x = (np.random.default_rng(0).random((6, 2, 3)) < 0.5).astype(F)
    ref = spyx.compile(native, dt=1e-3)
    prog = spyx.compile(swapped, dt=1e-3)
    np.testing.assert_array_equal(
        np.asarray(prog.run(prog.params, x)[0]), np.asarray(ref.run(ref.params, x)[0])
    )
    code, out, err = cli(
        "run", swapped, "--dt", "1e-3", "--random-input", "4,2", "--states", tmp_path / "s.npz"
    )
    assert code == 0, err
    assert "output output: (4, 2, 4)" in out


def test_big_endian_round_trip_keeps_bytes_and_byte_order(tmp_path):
    src, dst = tmp_path / "be.nir", tmp_path / "out.nir"
    spyx.save(_rnn(), src)
    _big_endian(src)
    spyx.save(spyx.load(src), dst)
    with h5py.File(src) as a, h5py.File(dst) as b:
        da, db = _datasets(a["node"]), _datasets(b["node"])
    for name, v in da.items():
        if isinstance(v, np.ndarray) and v.dtype.kind in "iuf":
            assert db[name].dtype == v.dtype and db[name].tobytes() == v.tobytes(), name


def test_convert_names_the_file_and_original_node_when_input_is_invalid(tmp_path):
    src = tmp_path / "bad.nir"
    spyx.save(_rnn(), src)
    with h5py.File(src, "r+") as f:
        bias = f["node/nodes/aff/bias"][()]
        bias[1] = np.nan
        del f["node/nodes/aff/bias"]
        f.create_dataset("node/nodes/aff/bias", data=bias)
    code, _, err = cli(
        "convert", src, tmp_path / "out.nir", "--passes", "inline,dce,infer-shapes,reorder{rename=true}"
    )
    assert code == 1
    assert err.startswith(f"error: {src}: node aff (Affine)") and "bias" in err, err
    assert not (tmp_path / "out.nir").exists()


def test_complex_parameter_is_one_short_line(tmp_path):
    src = tmp_path / "c.nir"
    spyx.save(_rnn(), src)
    with h5py.File(src, "r+") as f:
        w = f["node/nodes/rec/weight"][()]
        del f["node/nodes/rec/weight"]
        f.create_dataset("node/nodes/rec/weight", data=w.astype(np.complex64))
    code, _, err = cli("validate", src)
    assert code == 1
    assert err.strip() == (
        f"{src}: node 'rec' (Linear) field 'weight' must be an integer or float array, "
        "got complex64 array of shape (4, 4)"
    )


def test_half_written_file_says_re_export(tmp_path):
    # what nir.write leaves when it fails after creating the groups (seen with norse and sinabs exports)
    src = tmp_path / "partial.nir"
    with h5py.File(src, "w") as f:
        f.create_dataset("version", data="1.0.8")
        f.create_group("node").create_group("nodes")
    code, _, err = cli("inspect", src)
    assert code == 1
    assert err.startswith(f"error: {src}: node '<top>' has no 'type' string (fields: nodes)")
    assert "re-export" in err and len(err.strip().splitlines()) == 1


def _with_batch_ports(path) -> None:
    """Port shapes as rockpool 3.1's to_nir writes them: Input (1, 3), Output (1, 1, 4)."""
    with h5py.File(path, "r+") as f:
        for name, shape in (("input", [1, 3]), ("output", [1, 1, 4])):
            del f[f"node/nodes/{name}/shape"]
            f.create_dataset(f"node/nodes/{name}/shape", data=np.array(shape, np.int64))


def test_port_shapes_with_a_batch_axis_are_repaired_and_run_like_the_original(tmp_path):
    clean, batched = tmp_path / "clean.nir", tmp_path / "rockpool.nir"
    spyx.save(_rnn(), clean)
    spyx.save(_rnn(), batched)
    _with_batch_ports(batched)
    # Rockpool's convention is unambiguous: read without --repair, with one note for both ports (issue 13)
    plain = spyx.io.read_nir(batched, verify=True)
    assert len(plain.repairs) == 1 and "input (1, 3) -> (3,), output (1, 1, 4) -> (4,)" in plain.repairs[0]
    assert spyx.to_text(spyx.load(batched)) == spyx.to_text(spyx.load(clean))
    code, out, err = cli("validate", batched)
    assert code == 0 and out.strip().endswith("valid") and err.count("note:") == 1 and "batch axis" in err

    result = spyx.io.read_nir(batched, repair=True, verify=True)
    assert [r.split(":")[1].split(" shape")[0].strip() for r in result.repairs] == [
        "Input input",
        "Output output",
    ]
    x = (np.random.default_rng(1).random((6, 2, 3)) < 0.5).astype(F)
    ref, prog = spyx.compile(clean, dt=1e-3), spyx.compile(result.graph, dt=1e-3)
    np.testing.assert_array_equal(
        np.asarray(prog.run(prog.params, x)[0]), np.asarray(ref.run(ref.params, x)[0])
    )
    code, out, _ = cli("run", batched, "--repair", "--dt", "1e-3", "--random-input", "3,2")
    assert code == 0 and "output output: (3, 2, 4)" in out


def test_port_repair_leaves_agreeing_and_ambiguous_shapes_alone(tmp_path):
    path = tmp_path / "ok.nir"
    spyx.save(_rnn(), path)
    assert spyx.io.read_nir(path, repair=True).repairs == ()
    with h5py.File(path, "r+") as f:  # (2, 3): not a batch axis of 1, so no repair and still an error
        del f["node/nodes/input/shape"]
        f.create_dataset("node/nodes/input/shape", data=np.array([2, 3], np.int64))
    with pytest.raises(spyx.VerifyError) as e:
        spyx.io.read_nir(path, repair=True, verify=True)
    assert "input produces (2, 3)" in str(e.value) and "--repair" not in str(e.value)


_DOT_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _dot_ids(text: str) -> tuple[set[str], list[tuple[str, str]]]:
    """Declared node ids and edges of our DOT output, strings unescaped (a tiny reader for this layout)."""
    declared, edges = set(), []
    for line in text.splitlines():
        quoted = [re.sub(r"\\(.)", r"\1", s) for s in _DOT_STRING.findall(line)]
        if " -> " in line:
            edges.append((quoted[0], quoted[1]))
        elif "[label=" in line:
            declared.add(quoted[0])
    return declared, edges


def test_dot_escapes_names_and_draws_nested_graphs_as_clusters(tmp_path):
    inner = Graph.sequential([("s", Scale(scale=np.ones(2, F)))], input_shape=(2,))
    g = Graph.sequential(
        [('a"q\\b', Affine(weight=np.eye(2, dtype=F), bias=np.zeros(2, F))), ("sub", inner)], input_shape=(2,)
    )
    path = tmp_path / "n.nir"
    spyx.save(g, path)
    code, out, _ = cli("inspect", path, "--format", "dot")
    assert code == 0
    declared, edges = _dot_ids(out)
    assert 'a"q\\b' in declared and {"sub.input", "sub.s", "sub.output"} <= declared
    assert 'subgraph "cluster_sub"' in out
    assert all(a in declared and b in declared for a, b in edges), edges
    assert ("sub.output", "output") in edges and ('a"q\\b', "sub.input") in edges


@pytest.mark.parametrize(
    "args",
    [
        ("run", "{src}", "--dt", "1e-3", "--random-input", "3,1", "--profile", "frobnicate"),
        ("convert", "{src}", "{tmp}/o.nir", "--to-profile", "frobnicate"),
        ("validate", "{src}", "--target", "frobnicate"),
    ],
    ids=["run-profile", "convert-to-profile", "validate-target"],
)
def test_unknown_profile_or_target_is_one_spyx_line(tmp_path, args):
    src = tmp_path / "m.nir"
    spyx.save(_rnn(), src)
    code, _, err = cli(*(a.format(src=src, tmp=tmp_path) for a in args))
    assert code in (1, 2) and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "frobnicate" in err
    assert not (tmp_path / "o.nir").exists()


def test_convert_with_rename_says_which_port_became_which(tmp_path):
    # two inputs and two outputs whose canonical order is not the file's: o2 (fed by y alone) comes first
    g = Graph(
        nodes={
            "x": Input(shape=np.array([3])),
            "y": Input(shape=np.array([3])),
            "a": Scale(scale=np.full(3, 2.0, F)),
            "o1": Output(shape=np.array([3])),
            "o2": Output(shape=np.array([3])),
        },
        edges=(("x", "a"), ("y", "a"), ("a", "o1"), ("y", "o2")),
    )
    src, dst = tmp_path / "m.nir", tmp_path / "c.nir"
    spyx.save(g, src)
    code, out, _ = cli("convert", src, dst, "--passes", "reorder{rename=true}")
    assert code == 0
    said = dict(re.findall(r"^\s+(?:input|output) (\S+) is now (\S+)$", out, re.M))
    assert set(said) == {"x", "y", "o1", "o2"}, out
    x = {"x": np.ones((2, 1, 3), F), "y": np.full((2, 1, 3), 5.0, F)}
    p1, p2 = spyx.compile(src), spyx.compile(dst)
    y1 = p1.run(p1.params, x)[0]
    y2 = p2.run(p2.params, {said[k]: v for k, v in x.items()})[0]
    for name in ("o1", "o2"):
        np.testing.assert_array_equal(np.asarray(y2[said[name]]), np.asarray(y1[name]))


@pytest.mark.parametrize("kind", ["soft", "external"])
def test_broken_links_are_named_as_links(tmp_path, kind):
    src = tmp_path / "l.nir"
    spyx.save(_rnn(), src)
    with h5py.File(src, "r+") as f:
        del f["node/nodes/aff/bias"]
        f["node/nodes/aff/bias"] = (
            h5py.SoftLink("/nowhere")
            if kind == "soft"
            else h5py.ExternalLink(str(tmp_path / "gone.h5"), "/b")
        )
    code, _, err = cli("validate", src)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "/node/nodes/aff/bias" in err and f"{kind} link to " in err and "truncated" not in err, err


def _lif(shape, *, tau, thr) -> LIF:
    full = lambda v: np.full(shape, v, F)  # noqa: E731
    return LIF(tau=full(tau), r=full(1.0), v_leak=full(0.0), v_threshold=full(thr), v_reset=full(0.0))


def test_scalar_neuron_parameters_broadcast_like_per_neuron_ones(tmp_path):
    # norse 1.1's to_nir writes LIF parameters as 0-d scalars shared by the population
    rng = np.random.default_rng(5)
    w = rng.standard_normal((4, 3)).astype(F)
    rec = rng.standard_normal((4, 4)).astype(F) * F(0.3)

    def net(lif: LIF) -> Graph:
        g = Graph.sequential([("aff", Affine(weight=w, bias=np.zeros(4, F))), ("lif", lif)], input_shape=(3,))
        return g.replace(
            nodes={**g.nodes, "rec": Linear(weight=rec)}, edges=(*g.edges, ("lif", "rec"), ("rec", "lif"))
        )

    scalar, full = tmp_path / "scalar.nir", tmp_path / "full.nir"
    spyx.save(net(_lif((), tau=0.005, thr=0.3)), scalar)
    spyx.save(net(_lif((4,), tau=0.005, thr=0.3)), full)
    with h5py.File(scalar) as f:
        assert f["node/nodes/lif/tau"].shape == ()  # kept as the file had it
    x = (rng.random((30, 2, 3)) < 0.5).astype(F)
    ps, pf = spyx.compile(scalar, dt=1e-3), spyx.compile(full, dt=1e-3)
    ys, yf = np.asarray(ps.run(ps.params, x)[0]), np.asarray(pf.run(pf.params, x)[0])
    assert ys.shape == (30, 2, 4) and yf.sum() > 0
    np.testing.assert_array_equal(ys, yf)
    code, out, err = cli("inspect", scalar)
    assert code == 0 and "lif: LIF (4,) -> (4,)" in out, out


def test_scalar_neuron_with_no_shape_upstream_is_a_named_error():
    g = Graph(nodes={"lif": _lif((), tau=0.01, thr=1.0)}, edges=())
    with pytest.raises(spyx.SpyxError, match="lif"):
        spyx.compile(g, dt=1e-3)


def test_inputs_of_different_lengths_are_named(tmp_path):
    g = Graph(
        nodes={
            "x": Input(shape=np.array([3])),
            "y": Input(shape=np.array([3])),
            "o": Output(shape=np.array([3])),
        },
        edges=(("x", "o"), ("y", "o")),
    )
    src, inp = tmp_path / "two.nir", tmp_path / "in.npz"
    spyx.save(g, src)
    np.savez(inp, x=np.ones((4, 1, 3), F), y=np.ones((5, 1, 3), F))
    code, _, err = cli("run", src, "--input", inp)
    assert code == 1 and "x (4, 1)" in err and "y (5, 1)" in err, err
