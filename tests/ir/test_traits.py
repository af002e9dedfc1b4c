"""Traits on node kinds (spyx.ir.traits): every registered kind's traits are coherent with its declaration,
the WeightLayer algebra agrees with an independent float64 evaluation, every Continuous kind's inverse undoes
its discretisation, every kind is executable once lowered, and no pass, quantization rule or target keeps a
table of kind names or an if/elif over kinds."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import spyx  # noqa: F401  (registers every kind, the backend's kernels included)
from spyx.backend.kernels import kernel_for
from spyx.ir import Affine, AvgPool2d, Conv1d, Conv2d, Graph, Linear, Scale, SumPool2d
from spyx.ir.node import registered_kinds
from spyx.ir.traits import (
    CarriesScale,
    Causal,
    Continuous,
    Discrete,
    Levels,
    Population,
    Spiking,
    Trait,
    WeightLayer,
)
from tests.backend.numpy_reference import stateless

F = np.float64
ROOT = Path(__file__).resolve().parents[2]
KINDS = registered_kinds()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_traits_are_coherent_with_the_kind(kind):
    cls = KINDS[kind]
    assert cls.trait_problems() == [], f"{kind}: {cls.trait_problems()}"
    for t in cls.traits:
        assert isinstance(t, Trait)
        assert cls.declared_trait(type(t)) is t
    # continuous/spiking follow from the traits; a population, a delay, a discrete kind keep state
    assert (cls.declared_trait(Continuous) is not None) == any(isinstance(t, Continuous) for t in cls.traits)
    if any(cls.declared_trait(t) is not None for t in (Population, Causal, Discrete, Continuous)):
        assert cls.stateful, kind


def test_every_kind_runs_once_lowered():
    """A kind either has a kernel, or is continuous (a Continuous trait lowers it to one that has), or is a
    nested graph (inlined)."""
    for kind, cls in KINDS.items():
        if cls is Graph:
            continue
        assert kernel_for(kind) is not None or cls.declared_trait(Continuous) is not None, kind


def test_trait_problems_say_what_is_wrong():
    class Broken(Affine):
        kind = "test.Broken"
        traits = (WeightLayer(layout="dense", weight="w", bias="bias"), Population(gains=("g",)))

    problems = Broken.trait_problems()
    assert any("'w'" in p for p in problems) and any("'g'" in p for p in problems)
    assert any("not stateful" in p for p in problems) and any("Levels" in p for p in problems)


def test_conditional_trait_follows_the_option():
    n = spyx.ir.Neuron(beta=np.ones(2), g_x=np.ones(2), bias=np.zeros(2), fires=False)
    assert not n.has_trait(Spiking) and not n.spiking and n.declared_trait(Spiking) is not None
    assert n.replace(fires=True, v_threshold=np.ones(2), v_reset=np.zeros(2)).spiking


# -- WeightLayer against an independent float64 evaluation -------------------------------------------------
def _layers(rng):
    r = lambda *s: rng.uniform(-1, 1, s)  # noqa: E731
    ints = lambda *v: np.asarray(v, np.int64)  # noqa: E731
    conv1 = Conv1d(weight=r(4, 2, 3), bias=r(4), stride=ints(1), padding=ints(1), dilation=ints(1), groups=ints(2))
    conv2 = Conv2d(weight=r(3, 2, 2, 2), bias=r(3), stride=ints(2), padding=ints(0), dilation=ints(1), groups=ints(1))
    return [
        (Affine(weight=r(3, 5), bias=r(3)), (5,)),
        (Linear(weight=r(3, 5)), (5,)),
        (Scale(scale=r(5)), (5,)),
        (conv1, (4, 6)),
        (conv2, (2, 5, 5)),
    ]


@pytest.mark.parametrize("i", range(5))
def test_weight_layer_scaling_and_dense_view(i):
    rng = np.random.default_rng(i)
    node, in_shape = _layers(rng)[i]
    layer = node.trait(WeightLayer)
    x = rng.uniform(-1, 1, (7, *in_shape))
    y = stateless(node, x)
    out_shape = y.shape[1:]
    # a factor constant per output channel (what a convolution can take) and one per input channel
    k = np.broadcast_to(rng.uniform(0.5, 2, (out_shape[0],) + (1,) * (len(out_shape) - 1)), out_shape)
    s = np.broadcast_to(rng.uniform(0.5, 2, (in_shape[0],) + (1,) * (len(in_shape) - 1)), in_shape)
    if layer.layout == "elementwise":
        s = k = rng.uniform(0.5, 2, in_shape)
    scaled, why = layer.scale_outputs(node, k)
    assert why is None
    np.testing.assert_allclose(stateless(scaled, x), y * k[None], rtol=1e-12, atol=1e-12)
    scaled, why = layer.scale_inputs(node, s)
    assert why is None
    np.testing.assert_allclose(stateless(scaled, x), stateless(node, x * s[None]), rtol=1e-12, atol=1e-12)
    dense = layer.dense(node)
    if layer.layout == "conv":
        assert dense is None
        varying = rng.uniform(0.5, 2, out_shape)
        assert layer.scale_outputs(node, varying)[0] is None  # a factor varying over positions cannot fold
    else:
        w, b = dense
        np.testing.assert_allclose(x @ w.T + (0 if b is None else b), y, rtol=1e-12, atol=1e-12)


def test_carried_factors_commute_with_pooling():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (2, 3, 4, 4))
    per_c = rng.uniform(0.5, 2, (3, 1, 1))
    ints = lambda *v: np.asarray(v, np.int64)  # noqa: E731
    for cls in (SumPool2d, AvgPool2d):
        node = cls(kernel_size=ints(2), stride=ints(2), padding=ints(0))
        carried = node.trait(CarriesScale).transfer(np.broadcast_to(per_c, (3, 4, 4)), (3, 2, 2))
        np.testing.assert_allclose(stateless(node, x * per_c[None]), stateless(node, x) * carried[None], rtol=1e-12)
        assert node.trait(CarriesScale).transfer(rng.uniform(0.5, 2, (3, 4, 4)), (3, 2, 2)) is None


# -- Continuous: discretisation and inverse --------------------------------------------------------------
def _instance(cls, rng, dt):
    cont = cls.declared_trait(Continuous)
    values = {}
    for name in cls.required_params():
        if name in cont.time_constants:
            values[name] = (rng.integers(1, 4, 3) * dt) if name == "delay" else rng.uniform(2, 8, 3) * dt
        else:
            values[name] = rng.uniform(0.5, 2, 3)
    return cls(**values)


@pytest.mark.parametrize("kind", sorted(k for k, c in KINDS.items() if c.declared_trait(Continuous)))
def test_continuous_inverse_undoes_the_exact_discretisation(kind):
    cls, dt = KINDS[kind], 1e-3
    cont = cls.declared_trait(Continuous)
    node = _instance(cls, np.random.default_rng(sorted(KINDS).index(kind)), dt)
    lowered = cont.discretize("n", node, dt, "exact", "error", None)
    assert not lowered.continuous and kernel_for(lowered.kind) is not None
    assert lowered.spiking == node.spiking
    assert cont.inverse is not None, f"{kind} declares no inverse"
    back = cls(**cont.inverse(lowered, dt))
    for name, value in node.params().items():
        got = getattr(back, name)
        rtol = 1e-9 if got.dtype == F else 1e-6  # Delay's inverse writes float32 seconds, as NIR files hold
        np.testing.assert_allclose(got, value, rtol=rtol, err_msg=f"{kind}.{name}")


def test_levels_are_what_the_spikes_are_tested_against():
    """Dividing a spiking population's input and its Levels by k leaves the NIR discretisation's spike test
    unchanged: u/k > thr/k. Checked on the lowered factors: bias and thresholds scale, decays do not."""
    rng = np.random.default_rng(5)
    for kind, cls in KINDS.items():
        cont, levels = cls.declared_trait(Continuous), cls.declared_trait(Levels)
        if cont is None or cls.declared_trait(Population) is None:
            continue
        node = _instance(cls, rng, 1e-3)
        k = 4.0
        scaled = node.replace(**{p: getattr(node, p) / k for p in levels.params})
        a = cont.discretize("n", node, 1e-3, "exact", "error", None)
        b = cont.discretize("n", scaled, 1e-3, "exact", "error", None)
        for p in ("beta", "alpha", "g_x", "w_syn", "g_prev", "g_syn"):
            if getattr(a, p) is not None:
                np.testing.assert_allclose(getattr(b, p), getattr(a, p), err_msg=f"{kind}.{p}")
        for p in ("bias", "v_threshold", "v_reset"):
            if getattr(a, p) is not None:
                np.testing.assert_allclose(getattr(b, p), getattr(a, p) / k, err_msg=f"{kind}.{p}")


# -- nothing outside spyx/ir names kinds -----------------------------------------------------------------
_LITERAL = re.compile(r"""["']([A-Za-z_.0-9]+)["']""")
# Modules that may name kinds: the IR itself, the kernel registry (and its fused kernels), the NIR spelling
# tables, the nn rules
# (one rule per spyx.nn layer) and the peer profiles' per-kind rules and exporter detection (data); a
# target's list of supported primitives is hardware data and uses rules.of_kinds.
_ALLOWED = (
    "spyx/ir/",
    "spyx/backend/kernels.py",
    "spyx/backend/fused.py",  # the kernel registry's choice of fused kernels, per kind
    "spyx/io/",
    "spyx/nn/",
    "spyx/profiles/",
)
_PRIMITIVE_LISTS = ("primitives = (", "_CORE_OUTPUT = (", "R.per_node(_pool, (", "R.allowed_kinds((")


def _offends(line: str) -> bool:
    named = [k for k in _LITERAL.findall(line) if k in KINDS and k not in ("I",)]  # "I" is too common a word
    if not named or any(p in line for p in _PRIMITIVE_LISTS):
        return False
    return ".kind" in line or len(named) >= 2 or f'"{named[0]}":' in line


def test_no_kind_name_tables_or_chains_outside_the_ir():
    offenders = []
    for path in sorted((ROOT / "spyx").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(_ALLOWED):
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if _offends(line):
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert offenders == [], "\n".join(offenders)
