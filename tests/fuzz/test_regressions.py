"""Every crash, hang and false accept the fuzzer found (issue 14), rebuilt here from graphs spyx writes and
run like a fuzz case: in a worker process with 5 CPU-seconds and 4 GiB of address space, so that a
regression shows as a crash, hang or false accept instead of taking the test run down.

Before the fixes these were: MemoryError reading datasets that declare terabytes (or gigabytes of strings
that take minutes), ``verify`` exponential in nesting depth, RecursionError on deep nesting and link
cycles, IndexError/TypeError/ZeroDivisionError/UnicodeDecodeError on malformed fields, a libhdf5 loop on a
damaged string heap, and files accepted with fractional integers, bool numbers or 2^40 neurons.
"""

from __future__ import annotations

import re

import h5py
import numpy as np
import pytest

from spyx.io import write_nir
from spyx.ir import LIF, Affine, Conv2d, Flatten, Graph, Input, Output
from tests.conftest import CORPUS
from tests.fuzz.harness import Pool

F = np.float32
STR = h5py.string_dtype()


def _lif(shape=(4,)) -> LIF:
    full = lambda v: np.full(shape, v, F)  # noqa: E731
    return LIF(tau=full(0.01), r=full(1), v_leak=full(0), v_threshold=full(1), v_reset=full(0))


def _mlp(path) -> None:
    """input(3) -> fc (Affine 4x3) -> lif (4) -> output(4)."""
    g = Graph.sequential(
        [("fc", Affine(weight=np.ones((4, 3), F), bias=np.zeros(4, F))), ("lif", _lif())], input_shape=(3,)
    )
    write_nir(g, path)


def _cnn(path) -> None:
    """input(2, 8, 8) -> conv (Conv2d 4x2x3x3, input_shape stored) -> flat -> output(144)."""
    conv = Conv2d(
        weight=np.ones((4, 2, 3, 3), F), bias=np.zeros(4, F), stride=np.array([1, 1]), padding=np.array([0, 0]),
        dilation=np.array([1, 1]), groups=np.int64(1), input_shape=np.array([8, 8]),
    )
    flat = Flatten(start_dim=np.int64(0), end_dim=np.int64(-1), input_type=np.array([4, 6, 6]))
    write_nir(Graph.sequential([("conv", conv), ("flat", flat)], input_shape=(2, 8, 8)), path)


def _replace(f, path, **create):
    group, _, key = path.rpartition("/")
    del f[path]
    f[group or "/"].create_dataset(key, **create)


def _edit(base, edit):
    def build(path):
        base(path)
        with h5py.File(path, "r+") as f:
            edit(f)

    return build


def _nested(depth):
    def build(path):
        g = Graph(nodes={"input": Input(shape=np.array([4])), "lif": _lif(()), "output": Output(shape=np.array([4]))},
                  edges=(("input", "lif"), ("lif", "output")))
        for _ in range(depth - 1):
            g = Graph(nodes={"input": Input(shape=np.array([4])), "inner": g, "output": Output(shape=np.array([4]))},
                      edges=(("input", "inner"), ("inner", "output")))
        if depth <= 64:
            write_nir(g, path)
            return
        # deeper than spyx writes: build the groups with h5py
        with h5py.File(path, "w") as f:
            f.create_dataset("version", data="1.0.8", dtype=STR)
            grp = f.create_group("node")
            for level in range(depth):
                grp.create_dataset("type", data="NIRGraph", dtype=STR)
                nodes = grp.create_group("nodes")
                for port in ("input", "output"):
                    p = nodes.create_group(port)
                    p.create_dataset("type", data=port.capitalize(), dtype=STR)
                    p.create_dataset("shape", data=np.array([4]))
                inner = "inner" if level < depth - 1 else "lif"
                grp.create_dataset("edges", data=np.array([("input", inner), (inner, "output")], dtype=object),
                                   dtype=STR)
                grp = nodes.create_group(inner)
            grp.create_dataset("type", data="LIF", dtype=STR)
            for k, v in (("tau", 0.01), ("r", 1.0), ("v_leak", 0.0), ("v_threshold", 1.0), ("v_reset", 0.0)):
                grp.create_dataset(k, data=F(v))

    return build


def _giant(f):
    for k in ("tau", "r", "v_leak", "v_threshold", "v_reset"):
        _replace(f, f"node/nodes/lif/{k}", data=F(f[f"node/nodes/lif/{k}"][0]))
    del f["node/nodes/fc"]
    for port in ("input", "output"):
        _replace(f, f"node/nodes/{port}/shape", data=np.array([2**40], np.int64))
    _replace(f, "node/edges", data=np.array([("input", "lif"), ("lif", "output")], dtype=object), dtype=STR)


def _damaged_heap(path):
    """A file whose string heap (GCOL) starts with a free-space object of size 0: libhdf5 loops on it."""
    _mlp(path)
    data = bytearray(path.read_bytes())
    at = data.find(b"GCOL")
    first = at + 16  # after "GCOL", version, reserved, collection size
    data[first : first + 2] = b"\0\0"  # object index 0: free space
    data[first + 8 : first + 16] = bytes(8)  # of size 0
    path.write_bytes(bytes(data))


def _appended(path):
    _mlp(path)
    with open(path, "ab") as fh:
        fh.write(np.random.default_rng(0).integers(0, 256, 1000, dtype=np.uint8).tobytes())


def _virtual_layout():
    layout = h5py.VirtualLayout(shape=(4, 3), dtype=F)
    layout[:] = h5py.VirtualSource("elsewhere.h5", "data", shape=(4, 3))
    return layout


def _strings(f, path, values):
    _replace(f, path, data=np.array(values, dtype="S"))


# name -> (builder, expected outcome, exception class or None, regex the message must match)
CASES = {
    "huge_weight_declared": (
        _edit(_mlp, lambda f: _replace(f, "node/nodes/fc/weight", shape=(2**16, 2**16), dtype=F, chunks=(1, 1))),
        "error", "SizeError", r"/node/nodes/fc/weight declares \(65536, 65536\) = 4294967296 elements, 17179869184 bytes",
    ),
    "huge_edges_declared": (
        _edit(_mlp, lambda f: _replace(f, "node/edges", shape=(2**30, 2), dtype=STR, chunks=(1024, 2))),
        "error", "SizeError", r"/node/edges declares",
    ),
    "many_edges_under_the_budget": (
        _edit(_mlp, lambda f: _replace(f, "node/edges", shape=(2**22, 2), dtype=STR, chunks=(1024, 2))),
        "error", "SizeError", r"at most 1048576 strings",
    ),
    "huge_metadata_declared": (
        _edit(_mlp, lambda f: f["node/nodes/lif"].create_group("metadata").create_dataset(
            "big", shape=(2**35,), dtype=np.float64, chunks=(1024,))),
        "error", "SizeError", r"metadata/big declares",
    ),
    # 1 GiB declared, within the budget, never written: HDF5 fills it chunk by chunk (4 s of CPU at 1024 a chunk,
    # far more at 16), the reader asks the storage size and takes the fill value
    "unwritten_gigabyte_metadata": (
        _edit(_mlp, lambda f: f["node/nodes/lif"].create_group("metadata").create_dataset(
            "big", shape=(2**27,), dtype=np.float64, chunks=(16,))),
        "accepted", None, "",
    ),
    "bias_too_long_for_its_weight": (
        _edit(_mlp, lambda f: _replace(f, "node/nodes/fc/bias", shape=(2**26,), dtype=F, chunks=(1024,))),
        "error", "SizeError", r"node 'fc' \(Affine\) field 'bias' declares \(67108864,\).*weight is \(4, 3\)",
    ),
    "population_of_2_40_neurons": (
        _edit(_mlp, _giant), "error", "SizeError", r"(takes|needs) \d+ bytes .*memory budget of 2147483648 bytes",
    ),
    "fractional_output_shape": (
        _edit(_mlp, lambda f: _replace(f, "node/nodes/output/shape", data=np.array([4.5]))),
        "error", "ParameterError", r"node output \(Output\): parameter 'shape' must hold integers, got 4.5",
    ),
    "fractional_stride": (
        _edit(_cnn, lambda f: _replace(f, "node/nodes/conv/stride", data=np.array([1.5, 1.0]))),
        "error", "ParameterError", r"node conv \(Conv2d\): parameter 'stride' must hold integers",
    ),
    "bool_weight": (
        _edit(_mlp, lambda f: _replace(f, "node/nodes/fc/weight", data=np.ones((4, 3), bool))),
        "error", "FormatError", r"field 'weight' must be an integer or float array, got bool .*bool is not a number",
    ),
    "bool_port_shape": (
        _edit(_mlp, lambda f: _replace(f, "node/nodes/input/shape", data=np.array([True]))),
        "error", "FormatError", r"node 'input' \(Input\) field 'shape'.*bool",
    ),
    "string_for_array": (
        _edit(_mlp, lambda f: _replace(f, "node/nodes/lif/tau", data="abc", dtype=STR)),
        "error", "FormatError", r"field 'tau' must be an integer or float array, got 'abc'",
    ),
    "group_for_array": (
        _edit(_mlp, lambda f: (f["node/nodes/lif"].__delitem__("tau"),
                               f["node/nodes/lif"].create_group("tau").create_dataset("x", data=np.ones(4, F)))),
        "error", "FormatError", r"field 'tau' is a group",
    ),
    "version_is_a_group": (
        _edit(_mlp, lambda f: (f.__delitem__("version"), f.create_group("version"))),
        "error", "FormatError", r"/version is a group",
    ),
    "version_not_utf8": (
        _edit(_mlp, lambda f: _replace(f, "version", data=np.bytes_(b"1.0\xff"))), "accepted", None, "",
    ),
    "type_not_utf8": (
        _edit(_mlp, lambda f: _replace(f, "node/nodes/lif/type", data=np.bytes_(b"LIF\xff"))),
        "error", "FormatError", r"/node/nodes/lif/type holds bytes that are not UTF-8",
    ),
    "edges_not_utf8": (
        _edit(_mlp, lambda f: _strings(f, "node/edges", [(b"input", b"fc\xff"), (b"fc", b"lif"), (b"lif", b"output")])),
        "error", "FormatError", r"not UTF-8",
    ),
    "node_name_not_utf8": (
        _edit(_mlp, lambda f: f["node/nodes"].move("lif", b"lif\xff")),
        "error", "FormatError", r"/node/nodes holds an entry named b'lif\\xff', which is not UTF-8",
    ),
    "flatten_start_dim_empty": (
        _edit(_cnn, lambda f: _replace(f, "node/nodes/flat/start_dim", data=np.zeros(0, np.int64))),
        "error", "ParameterError", r"node flat \(Flatten\): start_dim and end_dim must be one integer each",
    ),
    "conv_groups_empty": (
        _edit(_cnn, lambda f: _replace(f, "node/nodes/conv/groups", data=np.zeros(0, np.int64))),
        "error", "ParameterError", r"node conv \(Conv2d\): groups must be one integer",
    ),
    "conv_weight_0d": (
        _edit(_cnn, lambda f: _replace(f, "node/nodes/conv/weight", data=F(1))),
        "error", "ParameterError", r"node conv \(Conv2d\): weight must have 4 dims",
    ),
    "conv_without_padding": (
        _edit(_cnn, lambda f: f["node/nodes/conv"].__delitem__("padding")),
        "error", "ParameterError", r"node conv \(Conv2d\): required parameter 'padding' is missing",
    ),
    "conv_input_shape_of_three_axes": (
        _edit(_cnn, lambda f: _replace(f, "node/nodes/conv/input_shape", data=np.array([8, 8, 8]))),
        "error", "ParameterError", r"node conv \(Conv2d\): input_shape must have 1 or 2 values, got \[8, 8, 8\]",
    ),
    "conv_input_shape_empty": (
        _edit(_cnn, lambda f: _replace(f, "node/nodes/conv/input_shape", data=np.zeros(0, np.int64))),
        "error", "ParameterError", r"input_shape must have 1 or 2 values, got \[\]",
    ),
    "conv_stride_zero": (
        _edit(_cnn, lambda f: _replace(f, "node/nodes/conv/stride", data=np.array([0, 0]))),
        "error", "ParameterError", r"node conv \(Conv2d\): stride must be >= 1",
    ),
    "affine_weight_0d": (
        _edit(_mlp, lambda f: _replace(f, "node/nodes/fc/weight", data=F(1))),
        "error", "ParameterError", r"node fc \(Affine\): weight must be a 2-D matrix",
    ),
    "dataset_named_padding_mode": (
        _edit(_cnn, lambda f: f["node/nodes/conv"].create_dataset("padding_mode", data="same", dtype=STR)),
        "accepted", None, "",
    ),
    "nested_50_deep": (_nested(50), "accepted", None, ""),
    "nested_1000_deep": (_nested(1000), "error", "FormatError", r"nested \d+ (groups|graphs) deep; spyx reads at most"),
    "hard_link_cycle": (
        _edit(_mlp, lambda f: f["node/nodes"].__setitem__("loop", f["node"])),
        "error", "FormatError", r"/node/nodes/loop is the group /node again \(a link cycle\)",
    ),
    "hard_link_cycle_as_a_field": (
        _edit(_mlp, lambda f: f["node/nodes/lif"].__setitem__("loop", f["node/nodes"])),
        "error", "FormatError", r"/node/nodes/lif/loop is the group /node/nodes again \(a link cycle\)",
    ),
    "soft_link_cycle": (
        _edit(_mlp, lambda f: f["node/nodes"].__setitem__("loop", h5py.SoftLink("/node"))),
        "error", "ReadError", r"/node/nodes/loop is a soft link to /node",
    ),
    "damaged_string_heap": (
        _damaged_heap, "error", "ReadError", r"damaged global heap .* would loop for ever",
    ),
    "appended_bytes_read_in_a_separate_process": (_appended, "accepted", None, ""),
    "self_loop_on_a_stateless_node": (
        _edit(_mlp, lambda f: _replace(f, "node/edges", data=np.array(
            [("input", "fc"), ("fc", "lif"), ("lif", "output"), ("fc", "fc")], dtype=object), dtype=STR)),
        "error", "ShapeError", r"fc produces \(4,\), fc expects \(3,\); cycle fc: passes through no stateful node",
    ),
    "empty_graph": (
        _edit(_mlp, lambda f: ([f["node/nodes"].__delitem__(k) for k in list(f["node/nodes"])],
                               _replace(f, "node/edges", data=np.empty((0, 2), object), dtype=STR))),
        "error", "VerifyError", r"graph <top> has no Input node",
    ),
    # libhdf5 would open another file by name for these (whatever lies at that name is read as weights)
    "external_raw_file": (
        _edit(_mlp, lambda f: _replace(f, "node/nodes/fc/weight", shape=(4, 3), dtype=F,
                                       external=[("/etc/hostname", 0, 48)])),
        "error", "FormatError", r"dataset /node/nodes/fc/weight keeps its data in external raw files",
    ),
    "virtual_dataset": (
        _edit(_mlp, lambda f: (f["node/nodes/fc"].__delitem__("weight"), f["node/nodes/fc"].create_virtual_dataset(
            "weight", _virtual_layout(), fillvalue=0))),
        "error", "FormatError", r"dataset /node/nodes/fc/weight keeps its data in other files \(a virtual dataset\)",
    ),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("regressions")
    jobs, names = [], []
    for name, (build, expected, _, _) in CASES.items():
        path = folder / f"{name}.nir"
        build(path)
        jobs.append({"file": str(path), "expect": "reject" if expected == "error" else "any"})
        names.append(name)
    with Pool(corpus=CORPUS, workers=2, cpu_seconds=5, memory_bytes=4 * 2**30) as pool:
        results = pool.map(jobs)
    return dict(zip(names, results, strict=True))


@pytest.mark.parametrize("name", list(CASES))
def test_regression(outcomes, name):
    _, expected, error, pattern = CASES[name]
    result = outcomes[name]
    assert result["outcome"] == expected, result
    if error is not None:
        assert result["error"] == error, result
        assert re.search(pattern, result["message"]), result["message"]
        assert f"{name}.nir" in result["message"]
    assert result["wall"] < 5, result  # nothing is slow any more (depth 50 verified, 2^40 refused unread)
