"""verify in linear time (each nested graph inferred once), its depth and memory limits, and the checks
on integer, bool and fractional parameters. Timings proper are in benchmarks/verify_scaling.py; the bounds
here are loose enough for a busy 2-core CI machine."""

from __future__ import annotations

import time

import numpy as np
import pytest

import spyx
from spyx.errors import ParameterError, ShapeError, SizeError, VerifyError
from spyx.ir import LIF, Affine, CubaLIF, Graph, Input, Output, diagnose, infer_shapes, verify
from spyx.ir.shapes import _Inference
from spyx.limits import MAX_BYTES, MAX_DEPTH

F = np.float32


def _lif(shape=()):
    full = lambda v: np.full(shape, v, F)  # noqa: E731
    return LIF(tau=full(0.01), r=full(1), v_leak=full(0), v_threshold=full(1), v_reset=full(0))


def chain(n: int) -> Graph:
    """input -> lif0 -> ... -> output with 0-d LIFs (each takes its shape from upstream), in name order."""
    order = ["input", *(f"lif{i}" for i in range(n - 2)), "output"]
    nodes = {"input": Input(shape=np.array([4])), "output": Output(shape=np.array([4]))}
    nodes.update({name: _lif() for name in order[1:-1]})
    return Graph(nodes={k: nodes[k] for k in sorted(nodes)}, edges=tuple(zip(order[:-1], order[1:], strict=True)))


def nested(depth: int) -> Graph:
    ports = lambda: {"input": Input(shape=np.array([4])), "output": Output(shape=np.array([4]))}  # noqa: E731
    g = Graph(nodes={**ports(), "lif": _lif()}, edges=(("input", "lif"), ("lif", "output")))
    for _ in range(depth - 1):
        g = Graph(nodes={**ports(), "inner": g, "lif": _lif()},
                  edges=(("input", "lif"), ("lif", "inner"), ("inner", "output")))
    return g


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_a_chain_of_ten_thousand_verifies_in_linear_time():
    small, big = chain(2000), chain(10_000)
    verify(small)
    # best of 3 of each: on a loaded machine single timings of a few ms vary by several times
    t_small = min(_seconds(lambda: verify(small)) for _ in range(3))
    t_big = min(_seconds(lambda: verify(big)) for _ in range(3))
    assert t_big < 2.0, t_big  # about 0.1 s on an idle core
    assert t_big < 15 * t_small, (t_small, t_big)  # 5x the nodes: ~5x the time (quadratic would be 25x)
    shapes = infer_shapes(big)
    assert all(s.output == (4,) for s in shapes.values())


def test_depth_50_verifies_quickly_and_each_nested_graph_is_inferred_once():
    g = nested(50)
    assert _seconds(lambda: verify(g)) < 1.0
    run = _Inference()
    run.infer(g, ())
    assert len(run.memo) == 50  # one entry per graph of the tree, each computed once
    assert infer_shapes(g)["inner"].ports == {"output": (4,)}


def test_nesting_deeper_than_the_limit_is_one_named_error():
    with pytest.raises(VerifyError, match=f"nests {MAX_DEPTH + 1} graphs deep; spyx supports at most {MAX_DEPTH}"):
        verify(nested(MAX_DEPTH + 1))
    verify(nested(MAX_DEPTH))


def test_nested_shape_problems_name_both_ends_with_the_path():
    inner = Graph(nodes={"i": Input(shape=np.array([4])), "fc": Affine(weight=np.ones((4, 5), F), bias=np.zeros(4, F)),
                         "o": Output(shape=np.array([4]))}, edges=(("i", "fc"), ("fc", "o")))
    outer = Graph(nodes={"input": Input(shape=np.array([4])), "sub": inner, "output": Output(shape=np.array([4]))},
                  edges=(("input", "sub"), ("sub", "output")))
    msgs = [m for _, m in diagnose(outer)]
    assert "edge sub.i -> sub.fc: sub.i produces (4,), sub.fc expects (5,)" in msgs, msgs
    assert len([m for m in msgs if "sub.fc expects" in m]) == 1  # reported once, not once per level


def test_a_population_beyond_the_budget_is_refused_with_its_bytes():
    n = 2**30  # 0-d parameters: the LIF takes the Input's 2^30 neurons
    g = Graph(nodes={"input": Input(shape=np.array([n])), "lif": _lif(), "output": Output(shape=np.array([n]))},
              edges=(("input", "lif"), ("lif", "output")))
    with pytest.raises(SizeError) as e:
        verify(g)
    msg = str(e.value)
    assert f"takes {4 * n} bytes per sample" in msg and f"memory budget of {MAX_BYTES} bytes" in msg
    verify(g, max_bytes=8 * n)  # the budget is an option
    # a CubaLIF holds two values per neuron (v and the synaptic current): its state is twice its output
    cuba = CubaLIF(tau_syn=F(0.01), tau_mem=F(0.01), r=F(1), v_leak=F(0), v_threshold=F(1), v_reset=F(0), w_in=F(1))
    small = Graph(nodes={"input": Input(shape=np.array([1000])), "pop": cuba, "output": Output(shape=np.array([1000]))},
                  edges=(("input", "pop"), ("pop", "output")))
    verify(small, max_bytes=8000)
    with pytest.raises(SizeError, match=r"node pop \(CubaLIF\): a population of \(1000,\) = 1000 neurons needs 8000 "):
        verify(small, max_bytes=7999)


def test_all_populations_together_are_counted():
    pops = {f"lif{i}": _lif((1000,)) for i in range(3)}
    g = Graph(nodes={"input": Input(shape=np.array([1000])), **pops, "output": Output(shape=np.array([1000]))},
              edges=(("input", "lif0"), ("lif0", "lif1"), ("lif1", "lif2"), ("lif2", "output")))
    verify(g, max_bytes=12000)
    with pytest.raises(SizeError, match="need 12000 bytes of state per sample at float32 together"):
        verify(g, max_bytes=11999)


@pytest.mark.parametrize(
    "field, value, error, text",
    [
        ("shape", np.array([4.5]), ParameterError, "parameter 'shape' must hold integers, got 4.5"),
        ("shape", np.array([True]), ParameterError, "parameter 'shape' is boolean; a number is expected"),
        ("shape", np.array([4.0]), None, ""),  # an integral float is an integer
    ],
)
def test_integer_fields_hold_integers_and_bool_is_not_a_number(field, value, error, text):
    g = Graph(nodes={"input": Input(shape=np.array([4])), "lif": _lif((4,)), "output": Output(shape=value)},
              edges=(("input", "lif"), ("lif", "output")))
    if error is None:
        verify(g)
        return
    with pytest.raises(error, match=text):
        verify(g)


def test_bool_neuron_parameter_is_refused():
    lif = _lif((4,)).replace(v_threshold=np.ones(4, bool))
    g = Graph.sequential([("lif", _lif((4,)))], input_shape=(4,)).replace_node("lif", lif)
    with pytest.raises(ParameterError, match="node lif \\(LIF\\): parameter 'v_threshold' is boolean"):
        verify(g)


def test_shape_errors_still_come_first_for_plain_mismatches():
    g = chain(5).replace_node("output", Output(shape=np.array([5])))
    with pytest.raises(ShapeError, match=r"edge lif2 -> output: lif2 produces \(4,\), output expects \(5,\)"):
        spyx.verify(g)
