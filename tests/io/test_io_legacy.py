"""Files written by real nir releases 0.1.0 .. 1.0.8 (see conftest.legacy_release): spyx reads each one,
every stored array equals what the writing script handed to that release (dtype, shape, bytes), and every
field the release did not store is filled the way NIR defines and reported."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from spyx.io import read_nir
from spyx.ir import Graph
from tests.io.conftest import RELEASES
from tests.io.nir_compare import assert_same_array

# Fields older releases did not write, found by running them (docs/nir-io.md): field -> (kinds, first
# release that stores it, fill, field the fill is shaped after).
NOT_STORED = {
    "v_reset": (("IF", "LIF", "CubaLIF"), (1, 0, 6), np.zeros_like, "v_threshold"),
    "w_in": (("CubaLIF", "CubaLI"), (1, 0, 0), np.ones_like, "v_threshold"),
}


def _vt(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def _node(graph: Graph, path: str):
    node = graph
    for part in path.split("."):
        node = node.nodes[part]
    return node


def _files(folder):
    lines = (folder / "version.txt").read_text().splitlines()
    return lines[0], lines[1].split(), [s for s in lines[2:] if s.startswith("skipped")]


@pytest.mark.parametrize("version", RELEASES)
def test_legacy_release_files_read_exactly(version, legacy_release):
    folder = legacy_release(version)
    stored_version, names, skipped = _files(folder)
    assert stored_version in (version, "unknown")
    ref = np.load(folder / "reference.npz")
    assert len(names) >= 13
    for name in names:
        path = folder / f"{name}.nir"
        result = read_nir(path)
        assert result.version == (None if version == "0.1.0" else version)
        keys = [k for k in ref.files if k.split("/")[0] == name]
        assert keys, name
        with h5py.File(path, "r") as f:
            for key in keys:
                _, node_path, field = key.split("/")
                node = _node(result.graph, node_path)
                group = f["node/nodes/" + "/nodes/".join(node_path.split("."))]
                value = getattr(node, field)
                if field in group:
                    assert_same_array(value, ref[key], f"{version} {key}")
                    continue
                kinds, since, fill, like = NOT_STORED[field]
                assert node.kind in kinds and _vt(version) < since, f"{version} {key}: not stored"
                assert_same_array(value, fill(getattr(node, like)), f"{version} {key} (fill)")
                assert any(r.startswith(f"{node_path}: {field} missing") for r in result.repairs), (
                    result.repairs
                )


@pytest.mark.parametrize("version", RELEASES)
def test_legacy_fills_are_exactly_the_documented_ones(version, legacy_release):
    folder = legacy_release(version)
    _, names, _ = _files(folder)
    for name in names:
        result = read_nir(folder / f"{name}.nir")
        expected = set()
        for path, node in result.graph.walk():
            for field, (kinds, since, _, _) in NOT_STORED.items():
                if node.kind in kinds and _vt(version) < since:
                    expected.add(f"{path}: {field}")
        assert {r.split(" missing")[0] for r in result.repairs} == expected, (version, name, result.repairs)


@pytest.mark.parametrize("version", ["1.0.4", "1.0.8"])
def test_legacy_metadata_is_kept(version, legacy_release):
    result = read_nir(legacy_release(version) / "nested.nir")
    g = result.graph
    assert dict(g.metadata) == {"writer": "legacy_writer"}
    for path in ("fc", "sub.rec", "sub.lif"):
        assert dict(_node(g, path).metadata) == {"origin": "legacy_writer", "layer": np.int64(7)}


def test_every_release_covers_its_primitives(legacy_release):
    """The oldest and newest releases wrote what they define; only NumPy-2-incompatible convs are skipped."""
    covered = {v: set(_files(legacy_release(v))[1]) for v in RELEASES}
    assert covered["1.0.8"] >= {"cubali", "avgpool2d", "sumpool2d", "conv1d", "conv2d", "nested"}
    assert {"cubali", "sumpool2d", "avgpool2d"}.isdisjoint(covered["0.1.0"] | covered["0.2.0"])
    assert _files(legacy_release("1.0.0"))[2] == [
        "skipped conv2d: only 0-dimensional arrays can be converted to Python scalars",
        "skipped conv1d: only 0-dimensional arrays can be converted to Python scalars",
    ]


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0", "1.0.4"])
def test_legacy_files_resave_for_nir_read(version, legacy_release, tmp_path):
    """load -> save of an old file gives one that nir.read 1.0.8 accepts, with every loaded parameter
    unchanged; the only additions are the shapes nir now requires (a Conv's input_shape)."""
    import nir

    from spyx.io import write_nir
    from tests.io.nir_compare import assert_matches_nir

    folder = legacy_release(version)
    for name in _files(folder)[1]:
        before = read_nir(folder / f"{name}.nir").graph
        out = tmp_path / f"{version}-{name}.nir"
        write_nir(before, out)
        after = read_nir(out).graph
        assert_matches_nir(after, nir.read(str(out)))
        for path, node in before.walk():
            again = _node(after, path)
            added = set(again.params()) - set(node.params())
            assert added <= {"input_shape"} and (not added or node.kind.startswith("Conv")), (path, added)
            for field, value in node.params().items():
                assert_same_array(getattr(again, field), value, f"{version} {name} {path}.{field}")
