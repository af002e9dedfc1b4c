"""Hostile input: every broken file raises the right spyx exception, naming the file and what is wrong;
a failed save leaves an existing file byte-identical."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import spyx
from spyx.errors import (
    CycleError,
    DanglingEdgeError,
    ExportError,
    FormatError,
    ParameterError,
    ReadError,
    ShapeError,
    VerifyError,
)
from spyx.io import read_nir, write_nir
from spyx.ir import LIF, Affine, Graph, Input, Linear, Neuron, Output, Scale

F = np.float32


def _chain(path) -> Graph:
    """input(3) -> fc(Affine 4x3) -> lif(4) -> output(4), written to ``path``."""
    g = Graph.sequential(
        [
            ("fc", Affine(weight=np.ones((4, 3), F), bias=np.zeros(4, F))),
            (
                "lif",
                LIF(
                    tau=np.full(4, 0.01, F),
                    r=np.ones(4, F),
                    v_leak=np.zeros(4, F),
                    v_threshold=np.ones(4, F),
                    v_reset=np.zeros(4, F),
                ),
            ),
        ],
        input_shape=(3,),
    )
    write_nir(g, path)
    return g


def test_missing_file(tmp_path):
    with pytest.raises(ReadError, match="no such file") as e:
        spyx.load(tmp_path / "absent.nir")
    assert "absent.nir" in str(e.value) and e.value.exit_code == 2


def test_text_file_named_nir(tmp_path):
    p = tmp_path / "notes.nir"
    p.write_text("this is not HDF5\n")
    with pytest.raises(ReadError, match=r"notes\.nir: not an HDF5 file \(") as e:
        spyx.load(p)
    assert e.value.exit_code == 2


def test_truncated_file(tmp_path, corpus):
    data = (corpus / "cnn_sinabs.nir").read_bytes()
    p = tmp_path / "half.nir"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReadError) as e:
        spyx.load(p)
    assert "half.nir" in str(e.value)


def test_no_node_group(tmp_path):
    p = tmp_path / "empty.nir"
    with h5py.File(p, "w") as f:
        f.create_dataset("version", data="1.0.8")
    with pytest.raises(FormatError, match=r"empty\.nir: no 'node' group"):
        spyx.load(p)


def test_unknown_node_type(tmp_path):
    p = tmp_path / "g.nir"
    _chain(p)
    with h5py.File(p, "r+") as f:
        del f["node/nodes/lif/type"]
        f["node/nodes/lif"].create_dataset("type", data="Izhikevich", dtype=h5py.string_dtype())
    with pytest.raises(FormatError) as e:
        spyx.load(p)
    msg = str(e.value)
    assert "g.nir" in msg and "node 'lif'" in msg and "'Izhikevich'" in msg
    assert "known types:" in msg and "LIF" in msg and "CubaLIF" in msg and "spyx.Neuron" not in msg


def test_missing_parameter(tmp_path):
    p = tmp_path / "g.nir"
    _chain(p)
    with h5py.File(p, "r+") as f:
        del f["node/nodes/lif/tau"]
    with pytest.raises(FormatError, match=r"g\.nir: node 'lif' \(LIF\) lacks required field 'tau'"):
        spyx.load(p)


def test_wrong_shape_weight(tmp_path):
    p = tmp_path / "g.nir"
    _chain(p)
    with h5py.File(p, "r+") as f:
        del f["node/nodes/fc/weight"]
        f["node/nodes/fc"].create_dataset("weight", data=np.ones((4, 5), F))
    with pytest.raises(ShapeError) as e:
        spyx.load(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}: ") and "fc" in msg and "(3,)" in msg and "(5,)" in msg


def test_nan_parameter(tmp_path):
    p = tmp_path / "g.nir"
    _chain(p)
    with h5py.File(p, "r+") as f:
        f["node/nodes/lif/v_threshold"][1] = np.nan
    with pytest.raises(ParameterError) as e:
        spyx.load(p)
    assert (
        "node lif (LIF)" in str(e.value) and "'v_threshold'" in str(e.value) and "non-finite" in str(e.value)
    )


def _set_edges(p, edges, group="node"):
    with h5py.File(p, "r+") as f:
        del f[f"{group}/edges"]
        f[group].create_dataset("edges", data=np.array(edges, dtype=object), dtype=h5py.string_dtype())


def test_dangling_edge(tmp_path):
    p = tmp_path / "g.nir"
    _chain(p)
    _set_edges(p, [("input", "fc"), ("fc", "lif"), ("lif", "out")])
    with pytest.raises(DanglingEdgeError) as e:
        spyx.load(p)
    msg = str(e.value)
    assert (
        "edge lif -> out in the top graph names node 'out'" in msg and "nodes: input, fc, lif, output" in msg
    )


def test_dangling_edge_repair_ambiguous_lists_candidates(tmp_path):
    g = Graph(
        nodes={
            "input": Input(shape=np.array([2])),
            "lin1": Linear(weight=np.eye(2, dtype=F)),
            "lin2": Linear(weight=np.eye(2, dtype=F)),
            "output": Output(shape=np.array([2])),
        },
        edges=(("input", "lin1"), ("lin1", "output")),
    )
    p = tmp_path / "g.nir"
    write_nir(g, p)
    _set_edges(p, [("input", "lin"), ("lin", "output")])
    with pytest.raises(DanglingEdgeError, match="cannot repair: candidates lin1, lin2"):
        read_nir(p, repair=True)


def test_edge_into_input(tmp_path):
    p = tmp_path / "g.nir"
    _chain(p)
    _set_edges(p, [("input", "fc"), ("fc", "lif"), ("lif", "output"), ("lif", "input")])
    with pytest.raises(VerifyError, match="edge lif -> input: an Input node cannot receive edges"):
        spyx.load(p)


def test_cycle_through_stateless_nodes_only(tmp_path):
    g = Graph(
        nodes={
            "input": Input(shape=np.array([2])),
            "a": Linear(weight=np.eye(2, dtype=F)),
            "b": Scale(scale=np.ones(2, F)),
            "output": Output(shape=np.array([2])),
        },
        edges=(("input", "a"), ("a", "b"), ("b", "output")),
    )
    p = tmp_path / "g.nir"
    write_nir(g, p)
    _set_edges(p, [("input", "a"), ("a", "b"), ("b", "a"), ("b", "output")])
    with pytest.raises(CycleError, match="cycle a -> b") as e:
        spyx.load(p)
    assert "g.nir" in str(e.value)


def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path):
    p = tmp_path / "model.nir"
    good = _chain(p)
    before = p.read_bytes()
    bad = good.replace_node("lif", good.nodes["lif"].replace(tau=np.full(4, -1.0, F)))
    with pytest.raises(ParameterError, match="'tau' must be > 0"):
        spyx.save(bad, p)
    assert p.read_bytes() == before
    assert [q.name for q in tmp_path.iterdir()] == ["model.nir"]
    assert spyx.load(p) == good


def test_spyx_only_kinds_need_an_encoding(tmp_path):
    pop = np.full(3, 0.9, F)
    g = Graph.sequential(
        [
            (
                "neu",
                Neuron(
                    beta=pop,
                    g_x=np.ones(3, F),
                    bias=np.zeros(3, F),
                    v_threshold=np.ones(3, F),
                    v_reset=np.zeros(3, F),
                ),
            )
        ],
        input_shape=(3,),
    )
    with pytest.raises(ExportError, match="node neu is a spyx.Neuron.*encoding"):
        spyx.save(g, tmp_path / "x.nir")
    assert list(tmp_path.iterdir()) == []


def test_unknown_field_kept_as_metadata_and_reported(tmp_path):
    p = tmp_path / "g.nir"
    _chain(p)
    with h5py.File(p, "r+") as f:
        f["node/nodes/lif"].create_dataset("refractory", data=np.float32(0.002))
    result = read_nir(p)
    assert result.graph.nodes["lif"].metadata["spyx.extra.refractory"] == np.float32(0.002)
    assert result.repairs == (
        "lif: field 'refractory' is not a LIF field; kept as metadata 'spyx.extra.refractory'",
    )


def test_error_while_writing_hdf5_removes_temp_and_keeps_old_file(tmp_path):
    """The failure happens inside h5py writing (a metadata value HDF5 cannot hold), after the temporary
    file exists: it is removed and the old file stays byte-identical."""
    p = tmp_path / "model.nir"
    good = _chain(p)
    before = p.read_bytes()
    bad = good.replace_node("fc", good.nodes["fc"].replace(metadata={"callback": object()}))
    with pytest.raises(ExportError, match="node/nodes/fc/metadata/callback: cannot store object"):
        spyx.save(bad, p)
    assert p.read_bytes() == before
    assert [q.name for q in tmp_path.iterdir()] == ["model.nir"]


def test_damaged_bytes_raise_spyx_errors_only(corpus, tmp_path):
    """40 copies of a real file with 8 random bytes overwritten: each loads or raises a SpyxError, never a
    raw h5py/NumPy exception. (Seeded; some other damage makes the HDF5 library itself hang while reading a
    string heap, which no reader above it can catch: docs/nir-io.md.)"""
    data = (corpus / "lif_norse.nir").read_bytes()
    rng = np.random.default_rng(0)
    outcomes = {"loaded": 0, "error": 0}
    p = tmp_path / "damaged.nir"
    for _ in range(40):
        b = bytearray(data)
        for j in rng.integers(0, len(b), size=8):
            b[j] = rng.integers(0, 256)
        p.write_bytes(bytes(b))
        try:
            spyx.load(p)
            outcomes["loaded"] += 1
        except spyx.SpyxError as e:
            assert "damaged.nir" in str(e)
            outcomes["error"] += 1
    assert outcomes["error"] > 20  # most damage is detected


def test_encoder_hook_writes_the_replacement_graph(tmp_path):
    """A registered encoder's NIR graph is written in the spyx-only node's place (ports keep the edges)."""
    from spyx.io import ENCODERS

    pop = np.full(3, 0.9, F)
    neuron = Neuron(
        beta=pop, g_x=np.ones(3, F), bias=np.zeros(3, F), v_threshold=np.ones(3, F), v_reset=np.zeros(3, F)
    )
    g = Graph.sequential([("neu", neuron)], input_shape=(3,))
    scale = Scale(scale=np.full(3, 2.0, F))

    def encode(path, node):
        assert path == "neu" and node is neuron
        return Graph.sequential([("s", scale)], input_shape=(3,))

    ENCODERS["spyx.Neuron"] = encode
    try:
        spyx.save(g, tmp_path / "x.nir")
    finally:
        del ENCODERS["spyx.Neuron"]
    back = spyx.load(tmp_path / "x.nir")
    assert back.nodes["neu"].kind == "NIRGraph" and back.nodes["neu"].nodes["s"] == scale
    assert back.edges == g.edges


@pytest.mark.parametrize("fill", [0.0, 7.5])
def test_unwritten_datasets_read_as_their_fill_value(tmp_path, fill):
    # chunked datasets with no stored chunk are read from the fill value, not chunk by chunk; the values are what
    # h5py itself gives for them
    path = tmp_path / "m.nir"
    write_nir(Graph.sequential([("fc", Affine(weight=np.ones((2, 3), np.float32), bias=np.zeros(2, np.float32)))],
                               input_shape=(3,)), path)
    with h5py.File(path, "r+") as f:
        m = f["node/nodes/fc"].create_group("metadata")
        m.create_dataset("sparse", shape=(5, 3), dtype=np.float32, chunks=(2, 3), fillvalue=fill)
        part = m.create_dataset("part", shape=(6,), dtype=np.float64, chunks=(2,), fillvalue=fill)
        part[2:4] = [1.0, 2.0]
    with h5py.File(path, "r") as f:
        want = {k: f[f"node/nodes/fc/metadata/{k}"][()] for k in ("sparse", "part")}
    meta = read_nir(path).graph.nodes["fc"].metadata
    for k, v in want.items():
        assert meta[k].dtype == v.dtype and np.array_equal(meta[k], v), k
    assert np.array_equal(want["part"], [fill, fill, 1.0, 2.0, fill, fill])
