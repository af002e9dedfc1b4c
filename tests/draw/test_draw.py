"""spyx.draw: the DOT text (colours by kind, labels, clusters, direction, the fault of a broken file) checked on
hand-built graphs and corpus files against what the graph itself says (read independently with ``nir.read``
where a file is involved); pictures rendered when Graphviz's ``dot`` is installed."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

import spyx
from spyx.errors import ExportError, OptionError
from spyx.ir import LIF, Affine, Graph, Input, Output, Scale
from tests.conftest import CORPUS

graphviz = pytest.importorskip("graphviz", reason="the graphviz package (pip install 'spyx[draw]') is not installed")
from spyx.draw import draw  # noqa: E402

F = np.float32
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot program is not on PATH (apt-get install graphviz)")
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"NIR corpus not found at {CORPUS}")

# The NIR paper's palette as nirviz's style.yml gives it (the reference the module claims to follow)
NIRVIZ = {"dense": "#71c8b0", "conv": "#ffc655", "reshape": "#e4b9dd", "pool": "#4a9bff", "neuron": "#a0d5f1"}
RED = "#d62728"


# -- reading DOT text back --------------------------------------------------------------------------------------
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')


def _ident(text: str) -> str:
    bare = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?)", text)  # DOT's unquoted ids
    return text if bare else '"' + text + '"'


def _attrs(line: str) -> dict[str, str]:
    body = line[line.index("[") + 1: line.rindex("]")]
    return {k: v.strip('"') for k, v in _ATTR.findall(body)}


def node_attrs(source: str, name: str) -> dict[str, str]:
    lines = [ln.strip() for ln in source.splitlines() if ln.strip().startswith(_ident(name) + " [")]
    assert len(lines) == 1, f"node {name!r}: {lines}"
    return _attrs(lines[0])


def edge_attrs(source: str, a: str, b: str) -> dict[str, str]:
    head = f"{_ident(a)} -> {_ident(b)}"
    lines = [ln.strip() for ln in source.splitlines() if ln.strip() == head or ln.strip().startswith(head + " [")]
    assert len(lines) == 1, f"edge {a} -> {b}: {lines}"
    return _attrs(lines[0]) if "[" in lines[0] else {}


def cluster_members(source: str, cluster: str) -> set[str]:
    """Node ids declared directly or nested inside ``subgraph cluster {...}``."""
    lines = source.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip() == f"subgraph {_ident(cluster)} {{")
    depth, members = 0, set()
    for ln in lines[start:]:
        depth += ln.count("{") - ln.count("}")
        m = re.match(r'\s*("(?:[^"\\]|\\.)*"|\w+) \[label=', ln)
        if m:
            members.add(m.group(1).strip('"'))
        if depth == 0:
            return members
    raise AssertionError(f"cluster {cluster} is not closed")


# -- graphs -----------------------------------------------------------------------------------------------------
def _lif(n):
    return LIF(tau=np.full(n, 0.01, F), r=np.ones(n, F), v_leak=np.zeros(n, F), v_threshold=np.ones(n, F),
               v_reset=np.zeros(n, F))


def _chain() -> Graph:
    return Graph.sequential([("fc", Affine(weight=np.ones((4, 3), F), bias=np.zeros(4, F))), ("lif", _lif(4))],
                            input_shape=(3,))


def _wide(k: int = 6) -> Graph:
    nodes = {"input": Input(shape=np.array([2]))}
    edges = []
    for i in range(k):
        nodes[f"g{i}"] = Scale(scale=np.full(2, i, F))
        nodes[f"out{i}"] = Output(shape=np.array([2]))
        edges += [("input", f"g{i}"), (f"g{i}", f"out{i}")]
    return Graph(nodes=nodes, edges=tuple(edges))


def test_chain_colours_labels_and_direction():
    d = draw(_chain())
    assert d.categories == {"input": "port", "fc": "dense", "lif": "neuron", "output": "port"}
    fc, lif, port = (node_attrs(d.source, n) for n in ("fc", "lif", "input"))
    assert fc["fillcolor"] == NIRVIZ["dense"] and lif["fillcolor"] == NIRVIZ["neuron"]
    assert "dashed" in port["style"] and "fillcolor" not in port
    assert fc["label"] == "fc\\nAffine 3 -> 4"          # weight (out, in) = (4, 3): in -> out
    assert lif["label"] == "lif\\nLIF (4,)"
    assert d.rankdir == "TB" and "rankdir=TB" in d.source  # a chain runs top to bottom
    assert d.problems == () and d.fault == () and RED not in d.source


def test_wide_graph_runs_left_to_right_and_rankdir_overrides():
    g = _wide()
    assert draw(g).rankdir == "LR"
    assert draw(g, rankdir="TB").rankdir == "TB" and "rankdir=TB" in draw(g, rankdir="TB").source
    assert draw(g).categories["g0"] == "gain"
    with pytest.raises(OptionError, match="rankdir"):
        draw(g, rankdir="BT")


def test_nested_graph_is_a_cluster_and_edges_reach_its_ports():
    inner = Graph.sequential([("lif", _lif(4))], input_shape=(4,))
    outer = Graph(
        nodes={"input": Input(shape=np.array([3])), "fc": Affine(weight=np.ones((4, 3), F), bias=np.zeros(4, F)),
               "sub": inner, "output": Output(shape=np.array([4]))},
        edges=(("input", "fc"), ("fc", "sub"), ("sub", "output")),
    )
    d = draw(outer)
    assert cluster_members(d.source, "cluster_sub") == {"sub.input", "sub.lif", "sub.output"}
    edge_attrs(d.source, "fc", "sub.input")
    edge_attrs(d.source, "sub.output", "output")


def test_names_that_are_dot_syntax_stay_names():
    g = Graph.sequential([('a"b\\n', _lif(2))], input_shape=(2,))
    d = draw(g)
    assert 'a\\"b\\\\n' in d.source  # the quote escaped and the backslash doubled: no line break, no syntax
    if HAS_DOT:
        assert b"<svg" in d.render("svg")


def test_exported_layers_are_clusters_and_survive_a_file(tmp_path):
    from flax import nnx

    import spyx.nn as snn

    rngs = nnx.Rngs(0)
    model = snn.Sequential(nnx.Linear(3, 4, rngs=rngs), snn.LIF((4,), rngs=rngs), nnx.Linear(4, 2, rngs=rngs),
                           snn.LI((2,), rngs=rngs))
    graph = snn.export(model, (3,), dt=1e-3)
    layer_of = {n: node.metadata.get("spyx.layer") for n, node in graph.nodes.items()}
    groups: dict[str, set[str]] = {}
    for n, layer in layer_of.items():
        if layer is not None:
            groups.setdefault(layer, set()).add(n)
    spyx.save(graph, tmp_path / "m.nir")
    for source in (graph, tmp_path / "m.nir"):
        d = draw(source)
        multi = {k: v for k, v in groups.items() if len(v) > 1}
        assert multi, "the faithful LIF export is several nodes"
        for layer, members in multi.items():
            assert cluster_members(d.source, f"cluster_layer_{layer}") == members
        assert d.categories["0_linear"] == "dense"
        assert node_attrs(d.source, "0_linear")["label"].endswith(" 3 -> 4")


# -- corpus -----------------------------------------------------------------------------------------------------
@needs_corpus
def test_corpus_cnn_colours_and_conv_labels_from_nir_read():
    import nir

    path = CORPUS / "cnn_sinabs.nir"
    ref = nir.read(str(path))
    d = draw(path)
    expect = {"Conv2d": "conv", "SumPool2d": "pool", "Flatten": "reshape", "Affine": "dense", "IF": "neuron",
              "Input": "port", "Output": "port"}
    for name, node in ref.nodes.items():
        cat = expect[type(node).__name__]
        assert d.categories[name] == cat, name
        if cat in NIRVIZ:
            assert node_attrs(d.source, name)["fillcolor"] == NIRVIZ[cat]
        if isinstance(node, nir.Conv2d):
            w = np.asarray(node.weight)
            label = node_attrs(d.source, name)["label"]
            assert f"{w.shape[1] * int(np.asarray(node.groups))} -> {w.shape[0]} ({w.shape[2]}x{w.shape[3]})" in label
    assert d.rankdir == "TB" and d.problems == ()
    assert draw(ref).source == d.source  # nir's own object draws as its file does
    with pytest.raises(OptionError, match="nir.NIRGraph"):
        draw(42)


@needs_corpus
def test_corpus_recurrent_edge_is_dashed():
    d = draw(CORPUS / "braille_noDelay_bias_zero.nir")
    g = spyx.load(CORPUS / "braille_noDelay_bias_zero.nir")
    (fb,) = spyx.ir.feedback_edges(g)
    attrs = edge_attrs(d.source, *fb)
    assert attrs == {"label": "t-1", "style": "dashed"}


@needs_corpus
def test_corpus_broken_subgraph_shows_the_missing_node_and_repair_clears_it():
    path = CORPUS / "braille_noDelay_bias_zero_subgraph.nir"
    with pytest.raises(spyx.DanglingEdgeError):
        spyx.load(path)
    d = draw(path)
    assert "names no node" in d.problems[0] and d.categories["lif1.lif"] == "missing"
    (edge,) = d.fault
    a, b = edge.split(" -> ")
    assert edge_attrs(d.source, a, b)["color"] == RED
    assert node_attrs(d.source, "lif1.lif")["color"] == RED
    assert "names no node" in re.search(r'\blabel="([^"]*)" labelloc=b', d.source).group(1)
    fixed = draw(path, repair=True)
    assert fixed.problems == () and "lif1.lif" not in fixed.categories and RED not in fixed.source


# -- broken files -----------------------------------------------------------------------------------------------
def _broken(tmp_path, edit):
    path = tmp_path / "bad.nir"
    spyx.save(_chain(), path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def _nan(f):
    f["node/nodes/lif/v_threshold"][1] = np.nan


def _unknown_type(f):
    del f["node/nodes/lif/type"]
    f["node/nodes/lif"].create_dataset("type", data="Quantum", dtype=h5py.string_dtype())


def _wide_weight(f):
    del f["node/nodes/fc/weight"]
    f["node/nodes/fc"].create_dataset("weight", data=np.ones((4, 5), F))


@pytest.mark.parametrize("edit, fault, needle", [
    (_nan, "lif", "non-finite"),
    (_unknown_type, "lif", "unknown type 'Quantum'"),
    (_wide_weight, "input -> fc", "fc expects (5,)"),
])
def test_broken_file_draws_its_first_fault_in_red(tmp_path, edit, fault, needle):
    path = _broken(tmp_path, edit)
    with pytest.raises(spyx.SpyxError):
        spyx.load(path)
    d = draw(path)
    assert needle in d.problems[0] and d.fault == (fault,)
    if " -> " in fault:
        assert edge_attrs(d.source, *fault.split(" -> "))["color"] == RED
    else:
        assert node_attrs(d.source, fault)["color"] == RED and node_attrs(d.source, fault)["penwidth"] == "3"
    others = [n for n in d.categories if n != fault]
    assert all(node_attrs(d.source, n).get("color") != RED for n in others)


def test_lenient_read_stands_in_for_an_undecodable_node(tmp_path):
    from spyx.io import read_nir
    from spyx.io.decode import Undecodable

    path = _broken(tmp_path, _unknown_type)
    with pytest.raises(spyx.FormatError, match="Quantum"):
        read_nir(path)
    r = read_nir(path, lenient=True)
    assert isinstance(r.graph.nodes["lif"], Undecodable) and r.graph.nodes["lif"].type_name == "Quantum"
    assert len(r.problems) == 1 and "Quantum" in r.problems[0]
    assert list(r.graph.nodes) == ["input", "fc", "lif", "output"] and r.graph.edges == _chain().edges


# -- files and pictures -----------------------------------------------------------------------------------------
def test_dot_file_needs_no_program_and_unknown_suffix_fails_first(tmp_path):
    d = draw(_chain(), tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == d.source
    with pytest.raises(OptionError, match="suffix"):
        draw(_chain(), tmp_path / "g.jpeg")
    assert not (tmp_path / "g.jpeg").exists()


def test_missing_dot_program_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without Graphviz
    with pytest.raises(ExportError, match="Graphviz's 'dot' program"):
        draw(_chain(), tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()
    assert _chain()._repr_svg_() is None  # a notebook falls back to the text repr


@needs_dot
def test_svg_and_png_are_rendered(tmp_path):
    d = draw(_chain(), tmp_path / "g.svg")
    svg = ET.parse(tmp_path / "g.svg").getroot()
    texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert {"fc", "Affine 3 -> 4", "lif", "LIF (4,)"} <= texts
    fills = {p.get("fill") for p in svg.iter("{http://www.w3.org/2000/svg}polygon")}
    assert {NIRVIZ["dense"], NIRVIZ["neuron"]} <= fills
    d.save(tmp_path / "g.png")
    data = (tmp_path / "g.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = np.frombuffer(data[16:24], ">u4")
    assert height > width  # top to bottom
    assert "<svg" in _chain()._repr_svg_()


# -- command line -----------------------------------------------------------------------------------------------
def cli(*args):
    from spyx_cli.main import main

    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_cli_draw(tmp_path):
    bad = _broken(tmp_path, _nan)
    code, out, _ = cli("draw", bad, "-o", tmp_path / "bad.dot")
    assert code == 0 and "problem (drawn in red)" in out and "non-finite" in out
    assert (tmp_path / "bad.dot").read_text() == draw(bad).source
    code, _, err = cli("draw", bad, "-o", tmp_path / "bad.txt")
    assert code == 2 and "suffix" in err and not (tmp_path / "bad.txt").exists()
    code, _, err = cli("draw", tmp_path / "missing.nir", "-o", tmp_path / "m.dot")
    assert code == 2 and err.count("\n") == 1
    code, out, _ = cli("draw", bad, "-o", tmp_path / "lr.dot", "--rankdir", "LR")
    assert code == 0 and "left to right" in out and "rankdir=LR" in (tmp_path / "lr.dot").read_text()
