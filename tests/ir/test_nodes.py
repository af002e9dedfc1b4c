"""Node kinds: registry, immutability, declared params, per-kind checks and shapes against closed forms."""

import dataclasses

import numpy as np
import pytest

from spyx.errors import FormatError
from spyx.ir import (
    IF, LIF, Affine, AvgPool2d, Conv1d, Conv2d, CubaLIF, Delay, Flatten, Graph, Input, Neuron, Output, Shift,
    SumPool2d, kind_class, registered_kinds,
)
from spyx.ir.conv import conv_output_size

NIR_PRIMITIVES = [
    "Input", "Output", "Affine", "Linear", "Scale", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "Flatten",
    "Delay", "Threshold", "I", "IF", "LI", "LIF", "CubaLI", "CubaLIF", "NIRGraph",
]


def test_every_nir_primitive_is_registered_under_its_nir_name():
    kinds = registered_kinds()
    for name in NIR_PRIMITIVES:
        assert kinds[name].kind == name
    assert kind_class("spyx.Neuron") is Neuron and kind_class("spyx.Shift") is Shift


def test_unknown_kind_lists_known_kinds():
    with pytest.raises(FormatError, match="unknown node kind 'Foo'.*Affine"):
        kind_class("Foo")


def test_nodes_are_immutable_and_arrays_read_only():
    w = np.ones((2, 3), np.float32)
    node = Affine(weight=w, bias=np.zeros(2, np.float32))
    w[0, 0] = 5  # the node holds its own copy
    assert node.weight[0, 0] == 1
    with pytest.raises(ValueError):
        node.weight[0, 0] = 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.weight = w  # type: ignore[misc]


def test_equality_is_exact_including_dtype():
    a = Affine(weight=np.ones((2, 3), np.float32), bias=np.zeros(2, np.float32))
    assert a == Affine(weight=np.ones((2, 3), np.float32), bias=np.zeros(2, np.float32))
    assert a != Affine(weight=np.ones((2, 3), np.float64), bias=np.zeros(2, np.float32))
    b = np.ones((2, 3), np.float32)
    b[1, 2] = np.nextafter(np.float32(1), np.float32(2))
    assert a != Affine(weight=b, bias=np.zeros(2, np.float32))


def test_scalars_stay_zero_dimensional():
    f = Flatten(start_dim=np.int64(0), end_dim=np.int64(-1))
    assert f.start_dim.shape == () and f.start_dim.dtype == np.int64


@pytest.mark.parametrize("n,k,s,p,d", [(34, 5, 2, 1, 1), (16, 3, 1, 1, 1), (10, 3, 2, 0, 2), (7, 1, 3, 0, 1)])
def test_conv2d_output_shape_matches_closed_form_and_lax(n, k, s, p, d):
    import jax

    w = np.zeros((4, 2, k, k), np.float32)
    node = Conv2d(weight=w, bias=np.zeros(4, np.float32), stride=np.array([s, s]), padding=np.array([p, p]),
                  dilation=np.array([d, d]), groups=np.int64(1), input_shape=np.array([n, n]))
    expected = (n + 2 * p - d * (k - 1) - 1) // s + 1
    assert conv_output_size(n, k, s, p, d) == expected
    assert node.output_shape((2, n, n)) == (4, expected, expected)
    ref = jax.lax.conv_general_dilated(np.zeros((1, 2, n, n), np.float32), w, (s, s), [(p, p), (p, p)],
                                       rhs_dilation=(d, d))
    assert ref.shape[1:] == node.output_shape((2, n, n))


def test_conv_same_and_valid_padding_modes():
    w = np.zeros((3, 1, 3), np.float32)
    same = Conv1d(weight=w, bias=np.zeros(3, np.float32), stride=np.int64(1), padding_mode="same",
                  dilation=np.int64(2), groups=np.int64(1))
    valid = same.replace(padding_mode="valid")
    assert same.output_shape((1, 10)) == (3, 10)
    assert valid.output_shape((1, 10)) == (3, 6)
    assert same.check() == []


def test_conv_groups_must_divide_channels():
    node = Conv2d(weight=np.zeros((3, 1, 3, 3), np.float32), bias=np.zeros(3, np.float32), stride=np.array([1, 1]),
                  padding=np.array([0, 0]), dilation=np.array([1, 1]), groups=np.int64(2))
    assert any("groups=2" in p for p in node.check())


def test_pool_and_flatten_shapes():
    pool = SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))
    assert pool.output_shape((16, 16, 16)) == (16, 8, 8)
    avg = AvgPool2d(kernel_size=np.array([3, 3]), stride=np.array([1, 1]), padding=np.array([1, 1]))
    assert avg.output_shape((2, 5, 7)) == (2, 5, 7)
    assert Flatten(start_dim=np.int64(0), end_dim=np.int64(-1)).output_shape((8, 4, 4)) == (128,)
    assert Flatten(start_dim=np.int64(1), end_dim=np.int64(2)).output_shape((8, 4, 4)) == (8, 16)
    with pytest.raises(ValueError, match="do not fit"):
        Flatten(start_dim=np.int64(3), end_dim=np.int64(-1)).output_shape((8, 4, 4))


def test_neuron_parameter_checks():
    good = LIF(tau=np.ones(3), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3), v_reset=np.zeros(3))
    assert good.check() == []
    bad = good.replace(tau=np.array([1.0, -1.0, 1.0]))
    assert any("'tau' must be > 0" in p for p in bad.check())
    nan = good.replace(v_threshold=np.array([1.0, np.nan, 1.0]))
    assert any("non-finite" in p for p in nan.check())
    mismatch = good.replace(r=np.ones(4))
    assert any("share one shape" in p for p in mismatch.check())
    missing = IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=None)
    assert any("'v_reset' is missing" in p for p in missing.check())
    cuba = CubaLIF(tau_syn=np.ones(2), tau_mem=np.ones(2), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2),
                   v_reset=np.zeros(2), w_in=np.ones(2))
    assert cuba.declared_input_shape() == (2,) and cuba.stateful and cuba.continuous


def test_discrete_neuron_checks_options_and_required_params():
    n = Neuron(beta=np.ones(2), g_x=np.ones(2), bias=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2))
    assert n.check() == [] and n.spiking
    assert any("alpha" in p for p in n.replace(synapse=True).check())
    assert any("reset='bogus'" in p for p in n.replace(reset="bogus").check())
    assert Shift(steps=np.array([1, 2])).check() == []
    assert Shift(steps=np.array([1.5])).check() != []
    assert Delay(delay=np.array([-1.0])).check() == ["delay must be >= 0"]


def test_sequential_builds_a_chain_with_inferred_output():
    g = Graph.sequential([("fc", Affine(weight=np.ones((5, 3), np.float32), bias=np.zeros(5, np.float32)))],
                         input_shape=(3,))
    assert list(g.nodes) == ["input", "fc", "output"]
    assert isinstance(g.nodes["output"], Output) and g.nodes["output"].shape.tolist() == [5]
    assert isinstance(g.nodes["input"], Input)
