"""The real NIR files of ../shared/nir-corpus: they load, verify, and survive save -> nir.read / spyx.load."""

from __future__ import annotations

import nir
import numpy as np
import pytest

import spyx
from spyx.errors import DanglingEdgeError
from spyx.io import read_nir, write_nir
from spyx.ir import infer_shapes, verify
from tests.conftest import corpus_files
from tests.io.nir_compare import assert_matches_nir

SUBGRAPH = "braille_noDelay_bias_zero_subgraph.nir"


def _load(corpus, name):
    return read_nir(corpus / name, repair=name == SUBGRAPH)


@pytest.mark.parametrize("name", corpus_files())
def test_corpus_file_loads_and_verifies(corpus, name):
    result = _load(corpus, name)
    assert verify(result.graph) is result.graph
    assert result.version in ("0.1.1", "0.2.0")
    assert result.path == corpus / name


@pytest.mark.parametrize("name", corpus_files())
def test_corpus_round_trip_through_nir_read(corpus, name, tmp_path):
    graph = _load(corpus, name).graph
    out = tmp_path / "out.nir"
    write_nir(graph, out)
    assert_matches_nir(graph, nir.read(str(out)))
    again = read_nir(out)
    assert again.graph == graph
    assert again.repairs == ()  # the legacy defaults are now stored
    assert again.version == spyx.io.NIR_VERSION


def test_subgraph_file_fails_without_repair_naming_the_edge(corpus):
    with pytest.raises(DanglingEdgeError) as e:
        spyx.load(corpus / SUBGRAPH)
    msg = str(e.value)
    assert SUBGRAPH in msg
    assert "subgraph lif1" in msg and "'lif'" in msg and "nodes: input, lif1, lin, output" in msg
    assert "--repair" in msg


def test_subgraph_file_loads_with_repair_and_reports_it(corpus):
    result = read_nir(corpus / SUBGRAPH, repair=True)
    edge_lines = [r for r in result.repairs if "edge endpoint" in r]
    assert len(edge_lines) == 1 and "'lif'" in edge_lines[0] and "'lif1'" in edge_lines[0]
    sub = result.graph.nodes["lif1"]
    assert set(sub.edges) == {("input", "lif1"), ("lif1", "lin"), ("lin", "lif1"), ("lif1", "output")}
    # same parameters as the flat file, where the recurrent layer is stored as lif1.lif / lif1.w_rec
    flat = read_nir(corpus / "braille_noDelay_bias_zero.nir").graph
    assert sub.nodes["lif1"] == flat.nodes["lif1.lif"]
    assert sub.nodes["lin"] == flat.nodes["lif1.w_rec"]


def test_legacy_v_reset_fills_are_reported(corpus):
    result = read_nir(corpus / "cnn_sinabs.nir")
    if_nodes = [k for k, n in result.graph.nodes.items() if n.kind == "IF"]
    assert len(if_nodes) == 5
    for k in if_nodes:
        node = result.graph.nodes[k]
        assert node.v_reset.dtype == node.v_threshold.dtype and not node.v_reset.any()
        assert any(r.startswith(f"{k}: v_reset missing") for r in result.repairs)
    assert len(result.repairs) == 5


def test_braille_matches_readme(corpus):
    g = spyx.load(corpus / "braille_noDelay_bias_zero.nir")
    kinds = {k: n.kind for k, n in g.nodes.items()}
    assert kinds == {
        "fc1": "Affine",
        "fc2": "Affine",
        "input": "Input",
        "lif1.lif": "CubaLIF",
        "lif1.w_rec": "Affine",
        "lif2": "CubaLIF",
        "output": "Output",
    }
    assert g.nodes["fc1"].weight.shape == (38, 12) and g.nodes["fc2"].weight.shape == (7, 38)
    assert g.nodes["lif1.w_rec"].weight.shape == (38, 38)
    assert g.nodes["lif1.lif"].tau_mem.shape == (38,) and g.nodes["lif2"].tau_mem.shape == (7,)
    assert ("lif1.w_rec", "lif1.lif") in g.edges and ("lif1.lif", "lif1.w_rec") in g.edges
    # snnTorch convention from the README: r = tau_mem / dt, w_in = tau_syn / dt with dt = 1e-4
    lif = g.nodes["lif2"]
    np.testing.assert_allclose(lif.r, lif.tau_mem / 1e-4, rtol=1e-6)
    np.testing.assert_allclose(lif.w_in, lif.tau_syn / 1e-4, rtol=1e-6)


def test_cnn_sinabs_matches_readme(corpus):
    g = spyx.load(corpus / "cnn_sinabs.nir")
    shapes = infer_shapes(g)
    assert shapes["input"].output == (2, 34, 34)
    convs = [n for n in g.nodes.values() if n.kind == "Conv2d"]
    assert [c.weight.shape for c in convs] == [(16, 2, 5, 5), (16, 16, 3, 3), (8, 16, 3, 3)]
    assert shapes["0"].output == (16, 16, 16)
    assert shapes["8"].input == (8, 4, 4) and shapes["8"].output == (128,)
    assert g.nodes["9"].weight.shape == (256, 128) and g.nodes["11"].weight.shape == (10, 256)
    assert shapes["output"].input == (10,)
    assert sum(n.kind == "IF" for n in g.nodes.values()) == 5
    assert sum(n.kind == "SumPool2d" for n in g.nodes.values()) == 2


def test_spyx_repository_copy_equals_sinabs_file(corpus):
    a, b = spyx.load(corpus / "scnn_mnist_spyx.nir"), spyx.load(corpus / "cnn_sinabs.nir")
    assert dict(a.nodes) == dict(b.nodes)
    assert set(a.edges) == set(b.edges) and len(a.edges) == len(b.edges) == 14  # stored in another order


def test_lif_norse_matches_readme(corpus):
    g = spyx.load(corpus / "lif_norse.nir")
    assert [n.kind for n in g.nodes.values()] == ["Affine", "LIF", "Input", "Output"]
    lif = g.nodes["1"]
    assert lif.tau.dtype == np.float32 and lif.tau.tolist() == [np.float32(0.0025)]
    assert (
        lif.v_threshold.tolist() == [np.float32(0.1)]
        and lif.r.tolist() == [1.0]
        and lif.v_leak.tolist() == [0.0]
    )
    assert g.nodes["0"].weight.shape == (1, 1)
