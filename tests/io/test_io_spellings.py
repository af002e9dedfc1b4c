"""Legacy and foreign spellings, in files built with h5py: each reads into the documented spyx form."""

from __future__ import annotations

import h5py
import nir
import numpy as np

import spyx
from spyx.io import read_nir, write_nir
from tests.io.nir_compare import assert_matches_nir

F = np.float32


def _str(group, key, value):
    group.create_dataset(key, data=value, dtype=h5py.string_dtype())


def _file(path, nodes: dict, edges, *, graph_type="NIRGraph", version="0.2.0", edge_dtype=None):
    """A NIR file written field by field: ``nodes`` maps name -> {field: value}, values str or arrays."""
    with h5py.File(path, "w") as f:
        if version is not None:
            _str(f, "version", version)
        g = f.create_group("node")
        _str(g, "type", graph_type)
        data = np.array(edges, dtype=edge_dtype or object)
        g.create_dataset("edges", data=data, dtype=data.dtype if edge_dtype else h5py.string_dtype())
        ng = g.create_group("nodes")
        for name, fields in nodes.items():
            sub = ng.create_group(name)
            for k, v in fields.items():
                if isinstance(v, dict):
                    grp = sub.create_group(k)
                    for kk, vv in v.items():
                        grp.create_dataset(kk, data=vv)
                elif isinstance(v, str):
                    _str(sub, k, v)
                else:
                    sub.create_dataset(k, data=v)


def test_scalar_port_shapes_graph_alias_fixed_length_edges_no_version(tmp_path):
    """nir 0.1.0: no /version, Output ``shape`` stored as a scalar; a writer spelling the graph type
    ``Graph``; edges as fixed-length byte strings."""
    p = tmp_path / "old.nir"
    w = np.arange(12, dtype=F).reshape(4, 3)
    _file(
        p,
        {
            "input": {"type": "Input", "shape": np.int64(3)},
            "lin": {"type": "Linear", "weight": w},
            "output": {"type": "Output", "shape": np.int64(4)},
        },
        [("input", "lin"), ("lin", "output")],
        graph_type="Graph",
        version=None,
        edge_dtype="S6",
    )
    result = read_nir(p)
    g = result.graph
    assert result.version is None and result.repairs == ()
    assert g.nodes["input"].shape.shape == () and g.nodes["input"].shape.dtype == np.int64
    assert g.nodes["output"].shape.tolist() == 4
    assert g.edges == (("input", "lin"), ("lin", "output"))
    assert g.nodes["lin"].weight.dtype == F and np.array_equal(g.nodes["lin"].weight, w)


def test_port_shape_stored_as_in_memory_dict(tmp_path):
    p = tmp_path / "dict.nir"
    _file(
        p,
        {
            "input": {"type": "Input", "input_type": {"input": np.array([3])}},
            "s": {"type": "Scale", "scale": np.ones(3, F)},
            "output": {"type": "Output", "output_type": {"output": np.array([3])}},
        },
        [("input", "s"), ("s", "output")],
    )
    g = spyx.load(p)
    assert g.nodes["input"].shape.tolist() == [3] and g.nodes["output"].shape.tolist() == [3]


def test_conv_padding_string_is_padding_mode_and_written_back(tmp_path):
    p = tmp_path / "same.nir"
    conv = {
        "type": "Conv2d",
        "weight": np.ones((2, 1, 3, 3), F),
        "bias": np.zeros(2, F),
        "stride": np.array([1, 1]),
        "padding": "same",
        "dilation": np.array([1, 1]),
        "groups": np.int64(1),
        "input_shape": np.array([5, 5]),
    }
    _file(
        p,
        {
            "input": {"type": "Input", "shape": np.array([1, 5, 5])},
            "conv": conv,
            "output": {"type": "Output", "shape": np.array([2, 5, 5])},
        },
        [("input", "conv"), ("conv", "output")],
    )
    g = spyx.load(p)
    c = g.nodes["conv"]
    assert c.padding_mode == "same" and c.padding is None
    out = tmp_path / "back.nir"
    write_nir(g, out)
    with h5py.File(out, "r") as f:
        assert f["node/nodes/conv/padding"][()] == b"same"
    assert_matches_nir(g, nir.read(str(out)))
    assert spyx.load(out) == g


def test_missing_w_in_and_v_reset_filled_like_nir(tmp_path):
    p = tmp_path / "cuba.nir"
    pop = {
        k: np.full(2, v, np.float64)
        for k, v in (("tau_syn", 0.005), ("tau_mem", 0.01), ("r", 1.0), ("v_leak", 0.0), ("v_threshold", 1.0))
    }
    _file(
        p,
        {
            "input": {"type": "Input", "shape": np.array([2])},
            "c": {"type": "CubaLIF", **pop},
            "output": {"type": "Output", "shape": np.array([2])},
        },
        [("input", "c"), ("c", "output")],
    )
    result = read_nir(p)
    c = result.graph.nodes["c"]
    assert c.w_in.dtype == np.float64 and c.w_in.tolist() == [1.0, 1.0]
    assert c.v_reset.dtype == np.float64 and c.v_reset.tolist() == [0.0, 0.0]
    assert result.repairs == (
        "c: v_reset missing (not stored before nir 1.0.6), filled with zeros like v_threshold",
        "c: w_in missing (not stored before nir 1.0.0), filled with ones like v_threshold",
    )
    # nir.read fills the same values
    ref = nir.read(str(p)).nodes["c"]
    assert np.array_equal(ref.w_in, c.w_in) and np.array_equal(ref.v_reset, c.v_reset)
