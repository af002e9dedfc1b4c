"""The JAX backend against the independent float64 NumPy interpreter (tests/backend/numpy_reference.py)
on seeded random graphs of every primitive, and the layer schedule against the step schedule."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import spyx
from tests.backend.numpy_reference import run_reference
from tests.graphgen import DT, primitive_graphs, random_graph

T, B = 40, 2
SEEDS = list(range(44))
# Below this distance of a membrane from its threshold a float32 program may legitimately flip a spike;
# such cases are compared again in float64 (x64), where spikes must match exactly.
TIE = 1e-4


def _inputs(prog, seed):
    rng = np.random.default_rng(1000 + seed)
    return {n: rng.uniform(-0.5, 1.5, size=(T, B, *s)) for n, s in prog.input_shapes.items()}


def _as_dict(prog, outs):
    return outs if isinstance(outs, dict) else {prog.output_names[0]: outs}


def _compare(graph, seed, method, dtype=None):
    prog = spyx.compile(graph, dt=DT, method=method, dtype=dtype)
    xs = _inputs(prog, seed)
    outs, _, traces = jax.jit(prog.run_traced)(prog.params, {k: v.astype(prog.dtype) for k, v in xs.items()})
    ref_out, ref_mem, margin = run_reference(graph, xs, DT, method)
    return prog, _as_dict(prog, outs), traces, ref_out, ref_mem, margin


def _check(prog, outs, traces, ref_out, ref_mem, tol):
    spiking_outputs = {
        o for o in prog.output_names if any(prog.graph.nodes[p].spiking for p in prog.graph.predecessors(o))
    }
    for o, ref in ref_out.items():
        got = np.asarray(outs[o], dtype=np.float64)
        if o in spiking_outputs:
            np.testing.assert_array_equal(got, ref, err_msg=f"spikes of output {o}")
        else:
            np.testing.assert_allclose(got, ref, rtol=tol, atol=tol, err_msg=f"output {o}")
    assert set(ref_mem) == {n for n in traces if "v" in traces[n]}
    for n, ref in ref_mem.items():
        np.testing.assert_allclose(
            np.asarray(traces[n]["v"], dtype=np.float64), ref, rtol=tol, atol=tol, err_msg=f"v of {n}"
        )


def as_float64(graph):
    """The graph with every float parameter widened to float64 (discretize keeps the parameters' dtype)."""
    nodes = {}
    for name, node in graph.nodes.items():
        if isinstance(node, spyx.Graph):
            nodes[name] = as_float64(node)
            continue
        wide = {k: v.astype(np.float64) for k, v in node.params().items() if v.dtype.kind == "f"}
        nodes[name] = node.replace(**wide) if wide else node
    return graph.with_nodes(nodes)


def _graphs():
    for kind, g in primitive_graphs():
        yield pytest.param(g, 0, id=f"prim-{kind}")
    for s in SEEDS:
        yield pytest.param(random_graph(s), s, id=f"seed{s}")


@pytest.mark.parametrize("method", ["exact", "euler"])
@pytest.mark.parametrize(("graph", "seed"), list(_graphs()))
def test_matches_numpy_reference(graph, seed, method):
    prog, outs, traces, ref_out, ref_mem, margin = _compare(graph, seed, method)
    if margin >= TIE:
        _check(prog, outs, traces, ref_out, ref_mem, 1e-5)
        return
    # A float32 spike tie is possible: the claim is then checked in float64, exactly as strict.
    with jax.enable_x64(True):
        prog, outs, traces, ref_out, ref_mem, _ = _compare(as_float64(graph), seed, method)
        _check(prog, outs, traces, ref_out, ref_mem, 1e-9)


def _schedule_cases():
    cases = list(_graphs())
    for k, p in enumerate(cases[::2]):  # alternate default layer / parallel-linear layer with odd unroll
        yield pytest.param(*p.values, k % 2, id=f"{p.id}-v{k % 2}")
    for p in cases[1::8]:
        yield pytest.param(*p.values, 1, id=f"{p.id}-v1")


@pytest.mark.parametrize(("graph", "seed", "variant"), list(_schedule_cases()))
def test_layer_schedule_equals_step_schedule(graph, seed, variant):
    """Default layer schedule, or (variant 1) layer with associative-scan linear neurons and an odd unroll,
    against the step interpreter."""
    layer_opts = {} if variant == 0 else {"parallel_linear": True, "scan_unroll": 3}
    results = {}
    for schedule, opts in (("layer", layer_opts), ("step", {"scan_unroll": 1})):
        prog = spyx.compile(graph, dt=DT, schedule=schedule, **opts)
        xs = {k: v.astype(np.float32) for k, v in _inputs(prog, seed).items()}
        outs, state, traces = jax.jit(prog.run_traced)(prog.params, xs)
        results[schedule] = (_as_dict(prog, outs), state, traces)
    (lo, ls, lt), (so, ss, st) = results["layer"], results["step"]
    assert lt.keys() == st.keys()
    for o in lo:
        np.testing.assert_allclose(np.asarray(lo[o]), np.asarray(so[o]), rtol=2e-6, atol=2e-6)
    close = lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-6, atol=2e-6)  # noqa: E731
    jax.tree_util.tree_map(close, (ls, lt), (ss, st))
