"""spyx.io.atomic: content appears only complete; on error the old file stays and no temp file is left."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spyx.io import atomic_path, atomic_write


def test_atomic_write_creates_and_replaces(tmp_path):
    target = tmp_path / "r.json"
    atomic_write(target, lambda p: p.write_text(json.dumps({"a": 1})))
    assert json.loads(target.read_text()) == {"a": 1}
    atomic_write(target, lambda p: p.write_text(json.dumps({"a": 2})))
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_failure_keeps_old_file_and_removes_temp(tmp_path):
    target = tmp_path / "r.json"
    target.write_bytes(b"old content")

    def broken(p):
        p.write_text("half of the new")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_bytes() == b"old content"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_failure_without_existing_target_leaves_nothing(tmp_path):
    with pytest.raises(ValueError), atomic_path(tmp_path / "x.npz") as tmp:
        np.savez(tmp, a=np.arange(3))
        raise ValueError("boom")
    assert list(tmp_path.iterdir()) == []


def test_numpy_writers_keep_the_chosen_name(tmp_path):
    with atomic_path(tmp_path / "a.npy") as tmp:
        np.save(tmp, np.arange(4, dtype=np.int16))
    with atomic_path(tmp_path / "b.npz") as tmp:
        np.savez(tmp, x=np.ones(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "b.npz"]
    loaded = np.load(tmp_path / "a.npy")
    assert loaded.dtype == np.int16 and loaded.tolist() == [0, 1, 2, 3]
    assert np.load(tmp_path / "b.npz")["x"].tolist() == [1.0, 1.0]


def test_array_and_json_helpers(tmp_path):
    from spyx.io import atomic_save_npy, atomic_save_npz, atomic_write_json

    x = np.arange(6, dtype=np.float16).reshape(2, 3)
    atomic_save_npy(tmp_path / "x.npy", x)
    atomic_save_npz(tmp_path / "s.npz", {"a.v": x, "b": np.int8(3)})
    atomic_write_json(tmp_path / "r.json", {"acc": 0.95, "steps": [1, 2]})
    back = np.load(tmp_path / "x.npy")
    assert back.dtype == np.float16 and np.array_equal(back, x)
    z = np.load(tmp_path / "s.npz")
    assert z["a.v"].dtype == np.float16 and z["b"].dtype == np.int8 and int(z["b"]) == 3
    assert json.loads((tmp_path / "r.json").read_text()) == {"acc": 0.95, "steps": [1, 2]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "s.npz", "x.npy"]


def test_json_helper_failure_keeps_old_file(tmp_path):
    from spyx.io import atomic_write_json

    target = tmp_path / "r.json"
    target.write_text('{"old": true}')
    with pytest.raises(TypeError):
        atomic_write_json(target, {"bad": object()})
    assert target.read_text() == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
