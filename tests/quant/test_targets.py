"""Hardware targets: for every rule, a graph that satisfies all of a target's rules and a variant that breaks
that rule (the rule's id must be reported, naming the node at fault). Plus registry and option errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from spyx.errors import OptionError
from spyx.ir import (
    IF,
    LIF,
    Affine,
    AvgPool2d,
    Conv2d,
    CubaLIF,
    Flatten,
    Graph,
    Input,
    Linear,
    Output,
    SumPool2d,
)
from spyx.ir.discrete import Neuron
from spyx.targets import TARGETS, check, get_target, list_targets, quantize_for
from tests.graphgen import random_graph

F = np.float32
DT = 1e-3


def _neuron(n, thr=64.0, beta=0.875, **kw):
    return Neuron(
        beta=np.full(n, beta, F),
        g_x=np.ones(n, F),
        bias=np.zeros(n, F),
        v_threshold=np.full(n, thr, F),
        v_reset=np.zeros(n, F),
        reset=kw.pop("reset", "subtract"),
        **kw,
    )


def _ints(rng, shape, lo=-20, hi=20):
    return rng.integers(lo, hi, size=shape).astype(F)


def _graph(nodes: dict, edges) -> Graph:
    return Graph(nodes=nodes, edges=tuple(edges))


# -- Xylo ------------------------------------------------------------------------
def xylo_nodes(n_in=4, n_hid=6, n_out=2):
    rng = np.random.default_rng(0)
    nodes = {
        "in": Input(shape=np.array([n_in])),
        "w_in": Linear(weight=_ints(rng, (n_hid, n_in))),
        "h": _neuron(n_hid),
        "w_rec": Linear(weight=_ints(rng, (n_hid, n_hid))),
        "w_out": Linear(weight=_ints(rng, (n_out, n_hid))),
        "o": _neuron(n_out),
        "out": Output(shape=np.array([n_out])),
    }
    edges = [
        ("in", "w_in"),
        ("w_in", "h"),
        ("h", "w_rec"),
        ("w_rec", "h"),
        ("h", "w_out"),
        ("w_out", "o"),
        ("o", "out"),
    ]
    return nodes, edges


def _xylo(**sizes):
    return _graph(*xylo_nodes(**sizes))


def _xylo_with(change: dict, extra_edges=(), drop_edges=(), **sizes):
    nodes, edges = xylo_nodes(**sizes)
    nodes.update(change)
    edges = [e for e in edges if e not in drop_edges] + list(extra_edges)
    return _graph(nodes, edges)


XYLO_BAD = {
    "xylo.primitives": lambda: _xylo_with(
        {"h": IF(r=np.ones(6, F), v_threshold=np.ones(6, F), v_reset=np.zeros(6, F))}
    ),
    "xylo.input-through-weights": lambda: _xylo_with({}, extra_edges=[("in", "h")], n_in=6),
    "xylo.neuron-input": lambda: _xylo_with({}, extra_edges=[("in", "h")], n_in=6),
    "xylo.no-weight-chain": lambda: _graph(
        {**xylo_nodes()[0], "w2": Linear(weight=np.ones((2, 2), F))},
        [e for e in xylo_nodes()[1] if e != ("w_out", "o")] + [("w_out", "w2"), ("w2", "o")],
    ),
    "xylo.outputs-from-neurons": lambda: _graph(
        {**xylo_nodes()[0], "out2": Output(shape=np.array([2]))}, xylo_nodes()[1] + [("w_out", "out2")]
    ),
    "xylo.output-not-recurrent": lambda: _graph(
        {**xylo_nodes()[0], "w_orec": Linear(weight=np.ones((2, 2), F))},
        xylo_nodes()[1] + [("o", "w_orec"), ("w_orec", "o")],
    ),
    "xylo.min-neuron-layers": lambda: _graph(
        {
            "in": Input(shape=np.array([4])),
            "w": Linear(weight=np.ones((2, 4), F)),
            "o": _neuron(2),
            "out": Output(shape=np.array([2])),
        },
        [("in", "w"), ("w", "o"), ("o", "out")],
    ),
    "xylo.max-inputs": lambda: _xylo(n_in=17),
    "xylo.max-hidden": lambda: _xylo(n_hid=1001),
    "xylo.max-outputs": lambda: _xylo(n_out=9),
    "xylo.fan-out": lambda: _xylo_with(
        {
            "w_in": Linear(weight=np.ones((65, 4), F)),
            "h": _neuron(65),
            "w_rec": Linear(weight=np.zeros((65, 65), F)),
            "w_out": Linear(weight=np.zeros((2, 65), F)),
        }
    ),
    "xylo.weight-format": lambda: _xylo_with({"w_out": Linear(weight=np.full((2, 6), 128.0, F))}),
    "xylo.bias-format": lambda: _xylo_with(
        {"w_out": Affine(weight=np.ones((2, 6), F), bias=np.full(2, 0.5, F))}
    ),
    "xylo.threshold-format": lambda: _xylo_with({"o": _neuron(2, thr=40000.0)}),
    "xylo.decay-format": lambda: _xylo_with({"o": _neuron(2, beta=0.9)}),
    "xylo.reset": lambda: _xylo_with({"o": _neuron(2, reset="value")}),
    "xylo.spikes-per-step": lambda: _xylo_with({"h": _neuron(6, spike_count="multi", max_spikes=40)}),
}


def _fan_out_graph(n_hid):
    """Every input drives all ``n_hid`` hidden neurons: fan-out ``n_hid``."""
    return _xylo_with(
        {
            "w_in": Linear(weight=np.ones((n_hid, 4), F)),
            "h": _neuron(n_hid),
            "w_rec": Linear(weight=np.zeros((n_hid, n_hid), F)),
            "w_out": Linear(weight=np.zeros((2, n_hid), F)),
        }
    )


# Each variant: the Xylo rules with its own limits (hidden 992 / 496, outputs 32 / 16, fan-out - / 512);
# XyloAudio 3 warns above 16 output channels.
XYLO_A3_BAD = {
    **XYLO_BAD,
    "xylo.max-hidden": lambda: _xylo(n_hid=993),
    "xylo.max-outputs": lambda: _xylo(n_out=33),
    "xylo.output-channels": lambda: _xylo(n_out=17),
}
del XYLO_A3_BAD["xylo.fan-out"]  # not in the Audio 3 sources: see test_rules_a_variant_cannot_break
XYLO_IMU_BAD = {
    **XYLO_BAD,
    "xylo.max-hidden": lambda: _xylo(n_hid=497),
    "xylo.max-outputs": lambda: _xylo(n_out=17),
    "xylo.fan-out": lambda: _fan_out_graph(513),
}
# rule id -> (a graph built to break it, the targets on which it cannot fire, and why)
XYLO_INAPPLICABLE = {
    "xylo.output-channels": (lambda: _xylo(n_out=17), ("xylo", "xylo-imu")),  # only Audio 3 warns
    "xylo.fan-out": (lambda: _fan_out_graph(600), ("xylo-audio3",)),  # Audio 3 fan-out: unknown
}


# -- Speck ------------------------------------------------------------------------
def _conv(c_in, c_out, k=3, stride=1, pad=1, bias=0.0):
    rng = np.random.default_rng(c_in * 7 + c_out)
    return Conv2d(
        weight=_ints(rng, (c_out, c_in, k, k)),
        bias=np.full(c_out, bias, F),
        stride=np.array([stride] * 2),
        padding=np.array([pad] * 2),
        dilation=np.array([1, 1]),
        groups=np.int64(1),
        input_shape=np.array([16, 16]),
    )


def _if(shape, thr=32.0):
    return IF(r=np.ones(shape, F), v_threshold=np.full(shape, thr, F), v_reset=np.zeros(shape, F))


def speck_nodes():
    nodes = {
        "in": Input(shape=np.array([2, 16, 16])),
        "conv": _conv(2, 4),
        "n1": _if((4, 16, 16)),
        "pool": SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "flat": Flatten(start_dim=np.int64(0), end_dim=np.int64(-1), input_type=np.array([4, 8, 8])),
        "fc": Affine(weight=_ints(np.random.default_rng(3), (10, 256)), bias=np.zeros(10, F)),
        "n2": _if((10,)),
        "out": Output(shape=np.array([10])),
    }
    edges = [
        ("in", "conv"),
        ("conv", "n1"),
        ("n1", "pool"),
        ("pool", "flat"),
        ("flat", "fc"),
        ("fc", "n2"),
        ("n2", "out"),
    ]
    return nodes, edges


def _speck_with(change: dict, extra_edges=(), drop_edges=()):
    nodes, edges = speck_nodes()
    nodes.update(change)
    return _graph(nodes, [e for e in edges if e not in drop_edges] + list(extra_edges))


def _speck_chain(n_layers):
    nodes = {"in": Input(shape=np.array([4]))}
    edges, prev = [], "in"
    for i in range(n_layers):
        nodes[f"w{i}"], nodes[f"n{i}"] = Linear(weight=np.ones((4, 4), F)), _if((4,))
        edges += [(prev, f"w{i}"), (f"w{i}", f"n{i}")]
        prev = f"n{i}"
    nodes["out"] = Output(shape=np.array([4]))
    return _graph(nodes, edges + [(prev, "out")])


SPECK_BAD = {
    "speck.primitives": lambda: _speck_with(
        {"pool": AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))}
    ),
    "speck.iaf-only": lambda: _speck_with(
        {
            "n2": LIF(
                tau=np.full(10, 0.01, F),
                r=np.ones(10, F),
                v_leak=np.zeros(10, F),
                v_threshold=np.full(10, 32.0, F),
                v_reset=np.zeros(10, F),
            )
        }
    ),
    "speck.neuron-after-conv": lambda: _speck_with({"n3": _if((4, 8, 8))}, extra_edges=[("pool", "n3")]),
    "speck.conv-then-neuron": lambda: _speck_with(
        {"out2": Output(shape=np.array([10]))}, extra_edges=[("fc", "out2")]
    ),
    "speck.cores": lambda: _speck_chain(10),
    "speck.kernel": lambda: _speck_with({"conv": _conv(2, 4, k=17, pad=8)}),
    "speck.stride": lambda: _speck_with(
        {
            "conv": _conv(2, 4, stride=3),
            "n1": _if((4, 6, 6)),
            "flat": Flatten(start_dim=np.int64(0), end_dim=np.int64(-1), input_type=np.array([4, 3, 3])),
            "fc": Affine(weight=np.ones((10, 36), F), bias=np.zeros(10, F)),
        }
    ),
    "speck.padding": lambda: _speck_with(
        {
            "conv": _conv(2, 4, k=15, pad=8),
            "n1": _if((4, 18, 18)),
            "flat": Flatten(start_dim=np.int64(0), end_dim=np.int64(-1), input_type=np.array([4, 9, 9])),
            "fc": Affine(weight=np.ones((10, 324), F), bias=np.zeros(10, F)),
        }
    ),
    "speck.pooling": lambda: _speck_with(
        {
            "pool": SumPool2d(
                kernel_size=np.array([3, 3]), stride=np.array([3, 3]), padding=np.array([0, 0])
            ),
            "flat": Flatten(start_dim=np.int64(0), end_dim=np.int64(-1), input_type=np.array([4, 5, 5])),
            "fc": Affine(weight=np.ones((10, 100), F), bias=np.zeros(10, F)),
        }
    ),
    "speck.features": lambda: _speck_with(
        {
            "fc": Affine(weight=np.ones((1025, 256), F), bias=np.zeros(1025, F)),
            "n2": _if((1025,)),
            "out": Output(shape=np.array([1025])),
        }
    ),
    "speck.destinations": lambda: _speck_with(
        {f"fc{i}": Affine(weight=np.ones((10, 256), F), bias=np.zeros(10, F)) for i in range(2)}
        | {f"m{i}": _if((10,)) for i in range(2)}
        | {f"o{i}": Output(shape=np.array([10])) for i in range(2)},
        extra_edges=[
            e for i in range(2) for e in (("flat", f"fc{i}"), (f"fc{i}", f"m{i}"), (f"m{i}", f"o{i}"))
        ],
    ),
    "speck.one-threshold": lambda: _speck_with(
        {"n2": IF(r=np.ones(10, F), v_threshold=np.arange(1, 11, dtype=F), v_reset=np.zeros(10, F))}
    ),
    "speck.no-bias": lambda: _speck_with({"conv": _conv(2, 4, bias=1.0)}),
    "speck.weight-format": lambda: _speck_with(
        {"fc": Affine(weight=np.full((10, 256), 0.5, F), bias=np.zeros(10, F))}
    ),
    "speck.threshold-format": lambda: _speck_with({"n2": _if((10,), thr=0.5)}),
    # fc as a conv over the flattened (4, 8, 8): kernel entries 4 * 2^(ceil log2 64 + ceil log2 1024) = 2^18,
    # more than the 64 Ki of the largest core
    "speck.memory": lambda: _speck_with(
        {
            "fc": Affine(weight=np.ones((1024, 256), F), bias=np.zeros(1024, F)),
            "n2": _if((1024,)),
            "out": Output(shape=np.array([1024])),
        }
    ),
    "speck.recurrence": lambda: _speck_with(
        {"rec": Linear(weight=np.ones((10, 10), F))}, extra_edges=[("n2", "rec"), ("rec", "n2")]
    ),
}


# -- Loihi 2 ------------------------------------------------------------------------
def _cuba(n=4, tau_syn=None, tau_mem=None, leak=0.0, thr=100.0):
    tau_ok = DT * 4095 / 512  # representable: d = 512
    return CubaLIF(
        tau_syn=np.full(n, tau_ok, F) if tau_syn is None else tau_syn,
        tau_mem=np.full(n, tau_ok, F) if tau_mem is None else tau_mem,
        r=np.ones(n, F),
        v_leak=np.full(n, leak, F),
        v_threshold=np.full(n, thr, F),
        v_reset=np.zeros(n, F),
        w_in=np.ones(n, F),
    )


def _loihi(neuron=None, layer=None):
    return Graph.sequential(
        [("fc", layer or Linear(weight=_ints(np.random.default_rng(4), (4, 3)))), ("lif", neuron or _cuba())],
        input_shape=(3,),
    )


LOIHI_BAD = {
    "loihi2.no-bias": lambda: _loihi(layer=Affine(weight=np.ones((4, 3), F), bias=np.ones(4, F))),
    "loihi2.v-leak-zero": lambda: _loihi(_cuba(leak=1.0)),
    "loihi2.shared-per-layer": lambda: _loihi(_cuba(tau_mem=np.array([0.008, 0.008, 0.008, 0.016], F))),
    "loihi2.shared-per-layer-discrete": lambda: _loihi(
        Neuron(
            beta=np.full(4, 0.5, F),
            g_x=np.zeros(4, F),
            bias=np.zeros(4, F),
            alpha=np.array([0.5, 0.5, 0.5, 0.25], F),
            w_syn=np.ones(4, F),
            g_prev=np.zeros(4, F),
            g_syn=np.ones(4, F),
            v_threshold=np.full(4, 100.0, F),
            v_reset=np.zeros(4, F),
            synapse=True,
        )
    ),
    "loihi2.decay-format": lambda: _loihi(_cuba(tau_mem=np.full(4, 0.0123456, F))),
    "loihi2.weight-format": lambda: _loihi(layer=Linear(weight=np.full((4, 3), 300.0, F))),
    "loihi2.threshold-format": lambda: _loihi(_cuba(thr=0.5)),
}
LOIHI_SPEC = "loihi2{weight_bits=8,threshold_bits=16}"

def _s2_lif(n=4):
    return LIF(
        tau=np.full(n, 0.01, F), r=np.ones(n, F), v_leak=np.zeros(n, F), v_threshold=np.ones(n, F),
        v_reset=np.zeros(n, F),
    )


S2_BAD = {
    "spinnaker2.primitives": lambda: _loihi(_neuron(4, reset="value")),
    "spinnaker2.no-weight-chain": lambda: Graph.sequential(
        [("fc", Linear(weight=np.full((4, 3), 2.0, F))), ("fc2", Linear(weight=np.ones((4, 4), F))),
         ("lif", _s2_lif())],
        input_shape=(3,),
    ),
    "spinnaker2.cubalif-not-after-conv": lambda: Graph.sequential(
        [("conv", Conv2d(weight=np.ones((1, 2, 3, 3), F), bias=np.zeros(1, F), stride=np.array([1, 1]),
                         padding=np.array([1, 1]), dilation=np.array([1, 1]), groups=np.int64(1),
                         input_shape=np.array([4, 4]))),
         ("cuba", _cuba(16).replace(**{k: getattr(_cuba(16), k).reshape(1, 4, 4) for k in _cuba(16).params()}))],
        input_shape=(2, 4, 4),
    ),
    "spinnaker2.input-rank": lambda: Graph.sequential(
        [("flat", Flatten(start_dim=np.int64(0), end_dim=np.int64(-1), input_type=np.array([2, 3]))),
         ("fc", Linear(weight=np.full((4, 6), 2.0, F))), ("lif", _s2_lif())],
        input_shape=(2, 3),
    ),
    "spinnaker2.reset": lambda: _loihi(
        LIF(
            tau=np.full(4, 0.01, F),
            r=np.ones(4, F),
            v_leak=np.zeros(4, F),
            v_threshold=np.ones(4, F),
            v_reset=np.full(4, 0.1, F),
        )
    ),
    "spinnaker2.weight-format": lambda: _loihi(
        layer=Linear(weight=np.full((4, 3), 0.3, F)),
        neuron=LIF(
            tau=np.full(4, 0.01, F),
            r=np.ones(4, F),
            v_leak=np.zeros(4, F),
            v_threshold=np.ones(4, F),
            v_reset=np.zeros(4, F),
        ),
    ),
}
S2_GOOD = S2_BAD["spinnaker2.weight-format"]().replace_node("fc", Linear(weight=np.full((4, 3), 3.0, F)))
S2_SPEC = "spinnaker2"  # int8 weights by default (the converter's astype(np.int8))

CASES = [
    ("xylo", _xylo(), XYLO_BAD),
    ("xylo-audio3", _xylo(), XYLO_A3_BAD),
    ("xylo-imu", _xylo(), XYLO_IMU_BAD),
    ("speck", _graph(*speck_nodes()), SPECK_BAD),
    (LOIHI_SPEC, _loihi(), LOIHI_BAD),
    (S2_SPEC, S2_GOOD, S2_BAD),
]


@pytest.mark.parametrize("spec,good,bad", CASES, ids=[c[0] for c in CASES])
def test_every_rule_has_a_satisfying_and_a_violating_graph(spec, good, bad):
    target = get_target(spec)
    assert check(good, target, dt=DT) == [], [str(v) for v in check(good, target, dt=DT)]
    cannot = {r for r, (_, where) in XYLO_INAPPLICABLE.items() if target.name in where}
    assert set(bad) | cannot == {r.id for r in target.rules}, "each rule needs a violating graph here"
    for rule_id, make in bad.items():
        found = check(make(), target, dt=DT)
        hits = [v for v in found if v.rule == rule_id]
        assert hits, f"{rule_id} not reported; got {[str(v) for v in found]}"
        assert all(v.nodes and v.source for v in hits)
        assert all(rule_id in str(v) for v in hits)


@pytest.mark.parametrize("rule_id", sorted(XYLO_INAPPLICABLE))
def test_rules_a_variant_cannot_break(rule_id):
    """A graph that breaks the rule on one variant and passes it on the variants the rule does not bind."""
    make, where = XYLO_INAPPLICABLE[rule_id]
    g = make()
    binding = [n for n in ("xylo", "xylo-audio3", "xylo-imu") if n not in where]
    assert all(any(v.rule == rule_id for v in check(g, n)) for n in binding), binding
    assert not any(v.rule == rule_id for n in where for v in check(g, n))


@pytest.mark.parametrize(
    "name,hidden,outputs", [("xylo", 1000, 8), ("xylo-audio3", 992, 32), ("xylo-imu", 496, 16)]
)
def test_xylo_variant_limits_at_the_boundary(name, hidden, outputs):
    """The limits are inclusive: at the limit the rule passes, one more fails; the variant's name and the
    ``variant`` option give the same target."""
    variant = {"xylo": "audio2", "xylo-audio3": "audio3", "xylo-imu": "imu"}[name]
    assert get_target(name).limits() == get_target(f"xylo{{variant={variant}}}").limits()
    for rule_id, at, over in (
        ("xylo.max-hidden", dict(n_hid=hidden), dict(n_hid=hidden + 1)),
        ("xylo.max-outputs", dict(n_out=outputs), dict(n_out=outputs + 1)),
    ):
        assert not any(v.rule == rule_id for v in check(_xylo(**at), name)), (rule_id, at)
        assert any(v.rule == rule_id for v in check(_xylo(**over), name)), (rule_id, over)


def test_imu_variant_limits_and_subtract_warning():
    assert check(_xylo(n_hid=600), "xylo") != [] and not any(
        v.rule == "xylo.max-hidden" for v in check(_xylo(n_hid=600), "xylo")
    )
    assert any(v.rule == "xylo.max-hidden" for v in check(_xylo(n_hid=600), "xylo{variant=imu}"))
    g = S2_GOOD
    found = check(g, "spinnaker2{reset=subtract}")
    assert [v.severity for v in found] == ["warning"]


def test_registry_names_and_errors():
    for name in TARGETS:
        assert get_target(name).name == name
    assert [n for n, _, _ in list_targets()] == sorted(TARGETS)
    with pytest.raises(
        OptionError,
        match="unknown target 'lohi2'; available targets: loihi2, speck, spinnaker2, xylo, xylo-audio3, xylo-imu",
    ):
        get_target("lohi2")
    with pytest.raises(OptionError, match="has no option 'weight_bitz'"):
        get_target("loihi2{weight_bitz=8}")
    with pytest.raises(OptionError, match="variant.*must be one of audio2, audio3, imu"):
        get_target("xylo{variant=audio4}")
    with pytest.raises(OptionError, match="variant.*must be one of imu"):
        get_target("xylo-imu{variant=audio2}")
    assert get_target("loihi2").unknowns() == ["weight_bits", "threshold_bits"]
    assert get_target("xylo", variant="imu").limits() == (16, 496, 16, 512)


def test_targets_are_frozen_data():
    t = get_target("xylo")
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.weight_bits = 4  # type: ignore[misc]
    assert t.formats().weight_bits == 8 and t.formats().decay == "shift"


def test_quantize_for_applies_formats_then_checks():
    g = _xylo_with(
        {
            "w_in": Linear(weight=np.random.default_rng(9).standard_normal((6, 4)).astype(F)),
            "w_rec": Linear(weight=np.random.default_rng(8).standard_normal((6, 6)).astype(F) * 0.3),
            "w_out": Linear(weight=np.random.default_rng(7).standard_normal((2, 6)).astype(F)),
            "h": _neuron(6, thr=0.7, beta=0.9),
            "o": _neuron(2, thr=0.7, beta=0.8),
        }
    )
    before = {v.rule for v in check(g, "xylo")}
    assert {"xylo.weight-format", "xylo.threshold-format", "xylo.decay-format"} <= before
    r = quantize_for(g, "xylo")
    assert r.violations == (), [str(v) for v in r.violations]
    assert r.graph.nodes["h"].beta.tolist() == [0.875] * 6  # 1 - 2^-3
    assert any(line.startswith("target xylo") for line in r.lines())
    # loihi2's weight width is unknown in the sources: 8-bit, and the line says it is the default
    r1 = quantize_for(g, "loihi2")
    assert r1.weight_bits == 8 and r1.bits_from == "default"
    assert "weights: 8-bit (default for loihi2 when unknown; --bits to change)" in r1.lines()[0]
    assert not any(v.rule == "loihi2.weight-format" for v in r1.violations)
    wq = [n.weight for n in r1.graph.nodes.values() if hasattr(n, "weight")]
    assert wq and all(np.abs(w).max() <= 127 and np.array_equal(w, np.round(w)) for w in wq)
    assert "weights: 6-bit (--bits)" in quantize_for(g, "loihi2", bits=6).lines()[0]
    r2 = quantize_for(random_graph(3), "loihi2", bits=8, dt=DT)
    assert any(v.rule == "loihi2.no-bias" for v in r2.violations)


def test_quantize_for_keeps_one_threshold_per_layer_on_speck(corpus):
    """The Sinabs N-MNIST CNN passes every Speck rule once quantize_for put it into Speck's formats
    (per-tensor scales keep each layer's threshold shared)."""
    import spyx

    g = spyx.load(corpus / "cnn_sinabs.nir")
    assert {v.rule for v in check(g, "speck")} == {"speck.weight-format"}
    r = quantize_for(g, "speck")
    assert r.violations == (), [str(v) for v in r.violations]
    assert all(layer.granularity == "tensor" for layer in r.quantized.layers)
    per_channel = quantize_for(g, "speck", granularity="channel")
    assert {v.rule for v in per_channel.violations} == {"speck.one-threshold"}
