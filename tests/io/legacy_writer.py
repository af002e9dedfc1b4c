"""Write NIR files with whatever ``nir`` release is importable (run under an old release in a subprocess).

Usage: ``PYTHONPATH=<target dir with nir==X> python legacy_writer.py OUT_DIR``

For every primitive that release defines it writes ``OUT_DIR/<name>.nir`` (Input -> primitive -> Output),
plus a nested graph holding a recurrent layer; ``OUT_DIR/reference.npz`` holding every array handed to the
release's constructors under ``"<file>/<node path>/<field>"`` (node path dotted for nested graphs); and
``OUT_DIR/version.txt`` (the release, the files written, one ``skipped <name>: <why>`` line per primitive
the release could not build here). The test suite reads the files with spyx and compares with the reference.

The script uses only ``nir``, ``numpy`` and ``inspect``: field names are discovered from each class's
signature so one script serves every release from 0.1.0 to 1.0.8.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import nir
import numpy as np

F32, F64, I64 = np.float32, np.float64, np.int64
RNG = np.random.default_rng(1234)


def arr(shape, lo=0.5, hi=1.5, dtype=F32):
    return RNG.uniform(lo, hi, size=shape).astype(dtype)


def fields_of(cls) -> set[str]:
    return set(inspect.signature(cls).parameters)


def port(cls, shape, key):
    """Input/Output in the release's own spelling (``shape=`` before 0.2.0, ``*_type=`` after)."""
    value = np.array(shape, dtype=I64)
    names = fields_of(cls)
    if "shape" in names:
        return cls(shape=value), value
    return cls(**{key: value}), value


def make(cls, params: dict):
    """Construct ``cls`` with the params it accepts; return (node, the arrays it was given)."""
    names = fields_of(cls)
    given = {k: v for k, v in params.items() if k in names}
    if "metadata" in names and cls.__name__ in ("Affine", "LIF"):
        given["metadata"] = {"origin": "legacy_writer", "layer": np.int64(7)}
    node = cls(**given)
    return node, {k: v for k, v in given.items() if k != "metadata"}


def primitives():
    """(name, node class name, params, input shape, output shape) for every primitive."""
    n = 3
    pop = lambda dtype=F32: {  # noqa: E731
        "tau": arr(n, 0.002, 0.02, dtype),
        "tau_mem": arr(n, 0.002, 0.02, dtype),
        "tau_syn": arr(n, 0.001, 0.01, dtype),
        "r": arr(n, 0.5, 2.0, dtype),
        "v_leak": arr(n, -0.1, 0.1, dtype),
        "v_threshold": arr(n, 0.5, 1.0, dtype),
        "v_reset": arr(n, -0.3, -0.1, dtype),
        "w_in": arr(n, 1.0, 2.0, dtype),
    }
    yield "affine", "Affine", {"weight": arr((4, 3), -1, 1), "bias": arr(4, -0.2, 0.2)}, (3,), (4,)
    yield "linear", "Linear", {"weight": arr((4, 3), -1, 1, F64)}, (3,), (4,)
    yield "scale", "Scale", {"scale": arr(3)}, (3,), (3,)
    yield "threshold", "Threshold", {"threshold": arr(3)}, (3,), (3,)
    yield "delay", "Delay", {"delay": arr(3, 0.001, 0.003)}, (3,), (3,)
    yield "i", "I", {"r": arr(n)}, (n,), (n,)
    yield "if", "IF", {k: v for k, v in pop().items() if k in ("r", "v_threshold", "v_reset")}, (n,), (n,)
    yield "li", "LI", pop(), (n,), (n,)
    yield "lif", "LIF", pop(F64), (n,), (n,)
    yield "cubali", "CubaLI", pop(), (n,), (n,)
    yield "cubalif", "CubaLIF", pop(), (n,), (n,)
    conv2 = {
        "weight": arr((2, 1, 3, 3), -1, 1),
        "bias": arr(2, -0.1, 0.1),
        "stride": np.array([1, 1], I64),
        "padding": np.array([1, 1], I64),
        "dilation": np.array([1, 1], I64),
        "groups": np.int64(1),
        "input_shape": np.array([6, 6], I64),
    }
    yield "conv2d", "Conv2d", conv2, (1, 6, 6), (2, 6, 6)
    conv1 = {
        "weight": arr((2, 1, 3), -1, 1),
        "bias": arr(2, -0.1, 0.1),
        "stride": np.int64(1),
        "padding": np.int64(0),
        "dilation": np.int64(1),
        "groups": np.int64(1),
        "input_shape": np.int64(8),
    }
    yield "conv1d", "Conv1d", conv1, (1, 8), (2, 6)
    pool = {
        "kernel_size": np.array([2, 2], I64),
        "stride": np.array([2, 2], I64),
        "padding": np.array([0, 0], I64),
    }
    yield "sumpool2d", "SumPool2d", dict(pool), (1, 4, 4), (1, 2, 2)
    yield "avgpool2d", "AvgPool2d", dict(pool), (1, 4, 4), (1, 2, 2)
    flat = {"start_dim": np.int64(0), "end_dim": np.int64(-1), "input_type": np.array([2, 3, 4], I64)}
    yield "flatten", "Flatten", flat, (2, 3, 4), (24,)


def graph(nodes, edges, **kw):
    if "type_check" in fields_of(nir.NIRGraph):
        kw["type_check"] = False
    return nir.NIRGraph(nodes=nodes, edges=edges, **kw)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    ref: dict[str, np.ndarray] = {}
    written = []
    skipped: list[str] = []
    for name, cls_name, params, in_shape, out_shape in primitives():
        cls = getattr(nir, cls_name, None)
        if cls is None:
            continue  # this release does not define the primitive
        try:
            node, given = make(cls, params)
        except TypeError as e:
            # nir 1.0.0/1.0.1 size Conv1d outputs with int() on a 1-element array, which NumPy 2 rejects;
            # such a primitive cannot be written by that release here, so it is listed as skipped.
            skipped.append(f"{name}: {e}")
            continue
        inp, in_arr = port(nir.Input, in_shape, "input_type")
        outp, out_arr = port(nir.Output, out_shape, "output_type")
        g = graph({"input": inp, name: node, "output": outp}, [("input", name), (name, "output")])
        nir.write(str(out / f"{name}.nir"), g)
        written.append(name)
        ref[f"{name}/input/shape"] = in_arr
        ref[f"{name}/output/shape"] = out_arr
        ref.update({f"{name}/{name}/{k}": np.asarray(v) for k, v in given.items()})

    # a recurrent layer inside a nested graph: input -> fc -> sub(lif <-> rec) -> output
    fc, fc_p = make(nir.Affine, {"weight": arr((3, 2), -1, 1), "bias": arr(3, -0.1, 0.1)})
    lif, lif_p = make(
        nir.LIF,
        {
            "tau": arr(3, 0.002, 0.02),
            "r": arr(3),
            "v_leak": arr(3, -0.1, 0.1),
            "v_threshold": arr(3),
            "v_reset": arr(3, -0.2, 0.0),
        },
    )
    rec, rec_p = make(nir.Affine, {"weight": arr((3, 3), -0.5, 0.5), "bias": arr(3, -0.1, 0.1)})
    si, si_arr = port(nir.Input, (3,), "input_type")
    so, so_arr = port(nir.Output, (3,), "output_type")
    sub = graph(
        {"input": si, "lif": lif, "rec": rec, "output": so},
        [("input", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")],
    )
    gi, gi_arr = port(nir.Input, (2,), "input_type")
    go, go_arr = port(nir.Output, (3,), "output_type")
    kw = {"metadata": {"writer": "legacy_writer"}} if "metadata" in fields_of(nir.NIRGraph) else {}
    top = graph(
        {"input": gi, "fc": fc, "sub": sub, "output": go},
        [("input", "fc"), ("fc", "sub"), ("sub", "output")],
        **kw,
    )
    nir.write(str(out / "nested.nir"), top)
    written.append("nested")
    for path, given in (("fc", fc_p), ("sub.lif", lif_p), ("sub.rec", rec_p)):
        ref.update({f"nested/{path}/{k}": np.asarray(v) for k, v in given.items()})
    ref.update(
        {
            "nested/input/shape": gi_arr,
            "nested/output/shape": go_arr,
            "nested/sub.input/shape": si_arr,
            "nested/sub.output/shape": so_arr,
        }
    )

    np.savez(out / "reference.npz", **ref)
    version = getattr(nir, "version", None) or getattr(nir, "__version__", None) or "unknown"
    (out / "version.txt").write_text(
        f"{version}\n{' '.join(written)}\n" + "".join(f"skipped {s}\n" for s in skipped)
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
