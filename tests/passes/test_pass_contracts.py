"""Every pass keeps what it declares, checked numerically: on 20 seeded random graphs and the primitive
graphs with the independent float64 interpreter (tests/backend/numpy_reference.py), and on a subset plus
every corpus graph with the JAX backend (x64). Graphs are widened to float64 first, so that the passes'
float64 arithmetic is stored without rounding and spikes must match exactly.

Contracts: ``exact`` passes give identical spikes and equal membranes (1e-9); ``rescale{threshold=...}``
gives identical spikes and membranes scaled by ``v_threshold_new / v_threshold_old`` per neuron.
"""

from __future__ import annotations

import numpy as np
import pytest

from spyx.ir import Graph, Linear, Output, Scale, infer_shapes
from spyx.passes import run_pipeline
from spyx.passes.inline import inline_graph
from spyx.passes.outline import recurrent_pairs
from spyx.passes.reorder import reorder_graph
from tests.graphgen import DT, primitive_graphs, random_graph

reference = pytest.importorskip(
    "tests.backend.numpy_reference", reason="needs the backend's reference interpreter"
)

T, B = 16, 2
PIPELINES = [
    "inline",
    "dce",
    "cse",
    "reorder",
    "reorder{rename=true}",
    "outline-recurrent",
    "outline-recurrent,inline",
    "rescale{fold_scale=true}",
    "rescale{mode=gain}",
    "rescale{threshold=1}",
    "rescale{threshold=0.5,via=gain}",
    "fuse",
    "inline,rescale{fold_scale=true,mode=gain,threshold=1},fuse,cse,dce,reorder{rename=true}",
]


def widen(graph: Graph) -> Graph:
    nodes = {}
    for name, node in graph.nodes.items():
        if isinstance(node, Graph):
            nodes[name] = widen(node)
            continue
        wide = {k: v.astype(np.float64) for k, v in node.params().items() if v.dtype.kind == "f"}
        nodes[name] = node.replace(**wide) if wide else node
    return graph.with_nodes(nodes)


def transform(graph: Graph, pipeline: str) -> tuple[Graph, dict[str, str]]:
    """The graph after ``pipeline`` and the old -> new names of top-level nodes (after inlining) that it
    renamed: ``reorder{rename=true}`` by its mapping, ``outline-recurrent`` ``N -> N.lif``."""
    names: dict[str, str] = {}
    head, sep, _ = pipeline.partition("reorder{rename=true}")
    g = run_pipeline(graph, head.rstrip(",")).graph if head.rstrip(",") else graph
    if "outline-recurrent" in pipeline:
        names.update({n: f"{n}.lif" for n, _ in recurrent_pairs(graph)})
    if sep:
        g, mapping = reorder_graph(g, rename=True)
        names.update(mapping)
    return g, names


def inputs(graph: Graph, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        n: rng.uniform(-0.5, 1.5, size=(T, B, *node.declared_input_shape()))
        for n, node in graph.inputs.items()
    }


def flat_nodes(graph: Graph) -> dict:
    return dict(inline_graph(graph)[0].nodes)


def check_contract(before: Graph, after: Graph, names: dict[str, str], run, xs, label: str) -> None:
    out0, mem0 = run(before, xs)
    renamed_xs = {names.get(k, k): v for k, v in xs.items()}
    out1, mem1 = run(after, renamed_xs)
    n0, n1 = flat_nodes(before), flat_nodes(after)
    spiking_out = {o for o in out0 if any(n0[p].spiking for p in inline_graph(before)[0].predecessors(o))}
    for o, ref in out0.items():
        got = out1[names.get(o, o)]
        if o in spiking_out:
            np.testing.assert_array_equal(got, ref, err_msg=f"{label}: spikes of output {o}")
        else:
            np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9, err_msg=f"{label}: output {o}")
    checked = 0
    for n, v in mem0.items():
        m = names.get(n, n)
        if m not in mem1:
            continue
        k = 1.0
        thr0, thr1 = getattr(n0[n], "v_threshold", None), getattr(n1[m], "v_threshold", None)
        if thr0 is not None and thr1 is not None:
            k = thr1.astype(np.float64) / thr0.astype(np.float64)
        np.testing.assert_allclose(mem1[m], k * v, rtol=1e-9, atol=1e-9, err_msg=f"{label}: membrane of {n}")
        checked += 1
    assert checked or not mem0, f"{label}: no membrane trace could be matched"


def run_numpy(graph: Graph, xs):
    out, mem, _ = reference.run_reference(graph, xs, DT, "exact")
    return out, mem


def augment(graph: Graph, seed: int) -> Graph:
    """The graph plus something for every pass to do: a Scale before and a Linear after the first dense
    layer (fold_scale, fuse), an identical twin of that layer read by an extra output through a Scale
    (cse, fold_scale), and a dead branch (dce). Graphs without a suitable dense layer come back unchanged."""
    rng = np.random.default_rng(seed)
    shapes = infer_shapes(graph)
    for w, node in graph.nodes.items():
        preds, succs = graph.predecessors(w), graph.successors(w)
        if node.kind in ("Affine", "Linear") and len(preds) == 1 and len(succs) == 1:
            break
    else:
        return graph
    n_in, n_out = node.weight.shape[1], node.weight.shape[0]
    (p,), (c,) = preds, succs
    if shapes[p].output != (n_in,):
        return graph
    nodes = dict(graph.nodes)
    nodes["pre_scale"] = Scale(scale=rng.uniform(0.5, 1.5, n_in))
    nodes["post_lin"] = Linear(weight=np.eye(n_out) + 0.1 * rng.standard_normal((n_out, n_out)))
    nodes["twin"] = node
    nodes["twin_scale"] = Scale(scale=rng.uniform(0.5, 1.5, n_out))
    nodes["twin_out"] = Output(shape=np.array([n_out]))
    nodes["dead"] = Linear(weight=rng.standard_normal((2, n_out)))
    edges = [e for e in graph.edges if e not in ((p, w), (w, c))]
    edges += [(p, "pre_scale"), ("pre_scale", w), (w, "post_lin"), ("post_lin", c)]
    edges += [("pre_scale", "twin"), ("twin", "twin_scale"), ("twin_scale", "twin_out")]
    edges += [(c, "dead")]
    return Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata)


def _graphs():
    for kind, g in primitive_graphs():
        yield pytest.param(g, 0, id=f"prim-{kind}")
    for s in range(20):
        yield pytest.param(augment(random_graph(s), s), s, id=f"seed{s}")


@pytest.mark.parametrize(("graph", "seed"), list(_graphs()))
def test_contracts_with_reference_interpreter(graph, seed):
    g = widen(graph)
    xs = inputs(g, seed)
    for pipeline in PIPELINES:
        after, names = transform(g, pipeline)
        check_contract(g, after, names, run_numpy, xs, f"seed {seed}, {pipeline}")


def run_jax(dt):
    import jax

    import spyx

    def run(graph: Graph, xs):
        prog = spyx.compile(graph, dt=dt, dtype=np.float64)
        outs, _, traces = jax.jit(prog.run_traced)(prog.params, xs)
        outs = outs if isinstance(outs, dict) else {prog.output_names[0]: outs}
        mem = {n: np.asarray(t["v"]) for n, t in traces.items() if "v" in t}
        return {k: np.asarray(v) for k, v in outs.items()}, mem

    return run


JAX_PIPELINE = ",".join(
    ["outline-recurrent", "inline", "rescale{fold_scale=true,mode=gain,threshold=1}", "fuse", "cse", "dce"]
    + ["reorder{rename=true}"]
)


@pytest.mark.parametrize("seed", [1, 2, 4, 9])
def test_contracts_with_the_jax_backend(seed):
    import jax

    pytest.importorskip("spyx.backend.compile", reason="needs the JAX backend")
    g = widen(random_graph(seed))
    with jax.enable_x64(True):
        after, names = transform(g, JAX_PIPELINE)
        check_contract(g, after, names, run_jax(DT), inputs(g, seed), f"jax seed {seed}")


@pytest.mark.parametrize("seed", [1, 3, 4, 9])
def test_contracts_on_discrete_graphs_with_the_jax_backend(seed):
    """The same contracts for spyx.Neuron/spyx.Shift graphs (the graph lowered by the backend at DT): gain
    folding through g_x / w_syn, thresholds through bias, recurrent discrete neurons outlined."""
    import jax

    from spyx.backend import lower

    g = lower(widen(augment(random_graph(seed), seed)), dt=DT)
    assert any(n.kind == "spyx.Neuron" for n in g.nodes.values())
    with jax.enable_x64(True):
        after, names = transform(g, JAX_PIPELINE)
        assert run_pipeline(g, JAX_PIPELINE).modified
        check_contract(g, after, names, run_jax(None), inputs(g, seed), f"jax discrete seed {seed}")
