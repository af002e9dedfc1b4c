"""NIRData traces (issue 13, item 6): what spyx writes, nir 1.0.8's ``read_data`` reads (gzip, the layout of
``nir/write.py``), and what nir's ``write_data`` writes, spyx reads; ``spyx-convert run`` reads and writes
them by extension. References are nir's own objects and a float64 loop written here, never our output."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from spyx.errors import InputError, ReadError
from spyx.io.nirdata import read_traces, write_traces

nir = pytest.importorskip("nir")
if not hasattr(nir, "read_data"):  # the trace format came with nir 1.0.8
    pytest.skip("this nir has no NIRData (read_data/write_data: nir >= 1.0.8)", allow_module_level=True)


def test_ours_is_read_by_nir(tmp_path):
    rng = np.random.default_rng(0)
    spikes = (rng.random((5, 3, 4)) < 0.3).astype(np.float32)  # (T, B, N)
    v = rng.standard_normal((5, 3, 2, 3, 3)).astype(np.float32)  # (T, B, C, H, W)
    write_traces(tmp_path / "t.h5", {"output": {"output": spikes}, "lif": {"v": v}}, 1e-3)

    data = nir.read_data(str(tmp_path / "t.h5"))
    out = data.nodes["output"].observables["output"]
    assert isinstance(out, nir.TimeGriddedData) and out.dt == 1e-3
    for b in range(3):  # sample-major, neurons flat (C, H, W in C order)
        np.testing.assert_array_equal(out.data[b], spikes[:, b])
        np.testing.assert_array_equal(data.nodes["lif"].observables["v"].data[b], v[:, b].reshape(5, 18))
    with h5py.File(tmp_path / "t.h5") as f:  # nir 1.0.8's writer convention
        assert f["nodes/lif/observables/v/data"].compression == "gzip"
    back = read_traces(tmp_path / "t.h5", dt=1e-3)
    np.testing.assert_array_equal(back["lif"]["v"], v)
    np.testing.assert_array_equal(back["output"]["output"], spikes)


def test_nirs_time_gridded_and_event_data_are_read(tmp_path):
    rng = np.random.default_rng(1)
    grid = rng.random((2, 6, 3)) < 0.4  # (samples, steps, neurons), bool
    events = nir.TimeGriddedData(grid, dt=0.5).to_event(n_events=20, time_shift=0.25)
    nir.write_data(
        str(tmp_path / "n.h5"),
        nir.NIRGraphData(
            nodes={
                "input": nir.NIRNodeData(observables={"spikes": events}),
                "x": nir.NIRNodeData(observables={"g": nir.TimeGriddedData(grid.astype(np.float64), dt=0.5)}),
            }
        ),
    )
    got = read_traces(tmp_path / "n.h5", dt=0.5)
    expect = np.zeros((6, 2, 3), np.float64)  # the float64 reference: each event counted in its step
    for s in range(2):
        for t, n in zip(events.time[s], events.idx[s], strict=True):
            if n >= 0:
                expect[int(t // 0.5), s, n] += 1
    np.testing.assert_array_equal(got["input"]["spikes"], expect)
    np.testing.assert_array_equal(got["input"]["spikes"], np.moveaxis(grid, 1, 0))
    np.testing.assert_array_equal(got["x"]["g"], np.moveaxis(grid, 1, 0))


def test_refusals_name_the_observable(tmp_path):
    ev = nir.ValuedEventData(
        idx=np.zeros((1, 1), int), time=np.zeros((1, 1)), value=np.ones((1, 1)), n_neurons=1, t_max=1.0
    )
    tg = nir.TimeGriddedData(np.zeros((1, 2, 1)), dt=0.1)
    nir.write_data(str(tmp_path / "v.h5"), nir.NIRGraphData(nodes={"a": nir.NIRNodeData(observables={"o": ev})}))
    nir.write_data(str(tmp_path / "g.h5"), nir.NIRGraphData(nodes={"b": nir.NIRNodeData(observables={"p": tg})}))
    with pytest.raises(InputError, match="a/o: ValuedEventData"):
        read_traces(tmp_path / "v.h5", dt=0.1)
    with pytest.raises(InputError, match=r"b/p: recorded at dt = 0.1 s.*dt = 0.2 s"):
        read_traces(tmp_path / "g.h5", dt=0.2)
    np.save(tmp_path / "x.npy", np.zeros(3))
    with pytest.raises(ReadError, match="not an HDF5 file"):
        read_traces(tmp_path / "x.npy")


def test_run_reads_and_writes_nirdata(corpus, tmp_path):
    """``spyx-convert run --input x.h5 --output y.h5 --states s.h5`` computes what the .npy run computes."""
    from spyx_cli.main import main

    x = (np.random.default_rng(2).random((20, 2, 1)) < 0.5).astype(np.float32)
    write_traces(tmp_path / "x.h5", {"input": {"spikes": x}}, 1e-3)
    np.save(tmp_path / "x.npy", x)
    model = str(corpus / "lif_norse.nir")
    runner = CliRunner()
    for files in (("x.h5", "y.h5", "s.h5"), ("x.npy", "y.npy", "s.npz")):
        inp, out, states = (str(tmp_path / f) for f in files)
        args = ["run", model, "--profile", "norse", "--input", inp, "--output", out, "--states", states]
        r = runner.invoke(main, args)
        assert r.exit_code == 0, r.output
    np.save(tmp_path / "one.npy", x[:, 0])  # one sample without a batch axis: NIRData still has its samples axis
    r = runner.invoke(main, ["run", model, "--profile", "norse", "--input", str(tmp_path / "one.npy"),
                             "--output", str(tmp_path / "one.h5")])
    assert r.exit_code == 0, r.output
    one = nir.read_data(str(tmp_path / "one.h5")).nodes["output"].observables["output"].data
    np.testing.assert_array_equal(one[0], np.load(tmp_path / "y.npy")[:, 0])
    ours = nir.read_data(str(tmp_path / "y.h5")).nodes["output"].observables["output"]
    assert ours.dt == pytest.approx(1e-3)
    np.testing.assert_array_equal(np.moveaxis(ours.data, 0, 1), np.load(tmp_path / "y.npy"))
    states = read_traces(tmp_path / "s.h5", dt=1e-3)
    with np.load(tmp_path / "s.npz") as npz:
        assert {f"{n}.{k}" for n, obs in states.items() for k in obs} == set(npz.files)
        for n, obs in states.items():
            for k, a in obs.items():
                np.testing.assert_array_equal(a, npz[f"{n}.{k}"])
