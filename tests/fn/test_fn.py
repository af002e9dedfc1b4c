"""spyx.fn: every loss, metric and regulariser against an independent float64 NumPy re-computation (several
layouts, time axes and batch axes), the contract's golden numbers (spyx-api.md §18.5, also checked against the
real Spyx 1.0), the error messages of §5.1, and jit / vmap / grad."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import spyx.fn as fn
from spyx.errors import ArgumentError, SpyxError
from tests.spyx1_ref import interop_selected, result_or_skip, start_spyx1

# ---------------------------------------------------------------------------------------------------------
# float64 NumPy references, written from the formulas of spyx-api.md §5
# ---------------------------------------------------------------------------------------------------------


def _onehot(targets, c, smoothing):
    hot = (np.asarray(targets)[..., None] == np.arange(c)).astype(np.float64)
    return (1.0 - smoothing) * hot + smoothing / c


def ref_crossentropy(traces, targets, smoothing, time_axis):
    z = np.asarray(traces, np.float64).sum(axis=time_axis)
    shifted = z - z.max(axis=-1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    y = _onehot(targets, z.shape[-1], smoothing)
    return np.mean(-(y * log_softmax).sum(axis=-1))


def ref_accuracy(traces, targets, time_axis):
    preds = np.asarray(traces, np.float64).sum(axis=time_axis).argmax(axis=-1)
    return np.mean(preds == np.asarray(targets)), preds


def ref_mse_spikerate(traces, targets, sparsity, smoothing, time_axis):
    traces = np.asarray(traces, np.float64)
    steps = traces.shape[time_axis]
    rate = traces.mean(axis=time_axis)
    y = _onehot(targets, rate.shape[-1], smoothing)
    return np.mean((rate - y * sparsity * steps) ** 2)


def huber64(u):
    return np.where(np.abs(u) <= 1.0, 0.5 * u**2, np.abs(u) - 0.5)


def half_square64(u):
    return 0.5 * u**2


def ref_silence(leaves, min_spikes):
    total = 0.0
    for x in leaves:
        x = np.asarray(x, np.float64)
        per_neuron = x.reshape(x.shape[0], -1).mean(axis=0)
        total += np.sum(np.maximum(0.0, min_spikes - per_neuron) ** 2)
    return total


def ref_sparsity(leaves, max_spikes, norm=huber64):
    total = 0.0
    for x in leaves:
        x = np.asarray(x, np.float64)
        per_sample = x.reshape(x.shape[0], -1).mean(axis=1)
        total += np.sum(norm(np.maximum(0.0, per_sample - max_spikes)))
    return total


# ---------------------------------------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------------------------------------

# (traces shape, time_axis): batch-major, time-major, extra batch axes before / after time, no batch axis.
LAYOUTS = [
    ((4, 6, 3), 1),
    ((6, 4, 3), 0),
    ((2, 5, 3, 4), 1),
    ((2, 3, 5, 4), -2),
    ((5, 2, 3, 4), -4),
    ((5, 3), 0),
]


def targets_shape(shape, time_axis):
    axis = time_axis % len(shape)
    return shape[:axis] + shape[axis + 1 : -1]


def make_case(i, shape, time_axis, kind):
    rng = np.random.default_rng(100 + i)
    if kind == "spikes":
        traces = (rng.random(shape) < 0.4).astype(np.float32)
    else:
        traces = rng.normal(0.0, 1.5, shape).astype(np.float32)
    targets = rng.integers(0, shape[-1], targets_shape(shape, time_axis)).astype(np.int32)
    return traces, targets


# name -> (our factory kwargs, reference, kind of traces)
LOSSES = {
    "ce_default": ("integral_crossentropy", {}, lambda t, y, ta: ref_crossentropy(t, y, 0.3, ta), "normal"),
    "ce_s0": ("integral_crossentropy", {"smoothing": 0.0}, lambda t, y, ta: ref_crossentropy(t, y, 0.0, ta), "normal"),
    "ce_s07": ("integral_crossentropy", {"smoothing": 0.7}, lambda t, y, ta: ref_crossentropy(t, y, 0.7, ta), "normal"),
    "mse_default": ("mse_spikerate", {}, lambda t, y, ta: ref_mse_spikerate(t, y, 0.25, 0.0, ta), "spikes"),
    "mse_05_01": (
        "mse_spikerate",
        {"sparsity": 0.5, "smoothing": 0.1},
        lambda t, y, ta: ref_mse_spikerate(t, y, 0.5, 0.1, ta),
        "spikes",
    ),
}


def our_loss(name, time_axis):
    factory, kwargs, _, _ = LOSSES[name]
    return getattr(fn, factory)(**kwargs, time_axis=time_axis)


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("layout", range(len(LAYOUTS)))
def test_losses_match_float64_reference(name, layout):
    shape, time_axis = LAYOUTS[layout]
    _, _, ref, kind = LOSSES[name]
    traces, targets = make_case(layout, shape, time_axis, kind)
    got = our_loss(name, time_axis)(jnp.asarray(traces), jnp.asarray(targets))
    assert got.shape == () and got.dtype == jnp.float32
    np.testing.assert_allclose(float(got), ref(traces, targets, time_axis), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("layout", range(len(LAYOUTS)))
def test_integral_accuracy_matches_float64_reference(layout):
    shape, time_axis = LAYOUTS[layout]
    traces, targets = make_case(layout, shape, time_axis, "normal")
    acc, preds = fn.integral_accuracy(time_axis=time_axis)(jnp.asarray(traces), jnp.asarray(targets))
    want_acc, want_preds = ref_accuracy(traces, targets, time_axis)
    assert preds.dtype == jnp.int32 and preds.shape == targets.shape
    assert acc.dtype == jnp.float32 and acc.shape == ()
    np.testing.assert_array_equal(np.asarray(preds), want_preds)
    np.testing.assert_allclose(float(acc), want_acc, rtol=1e-6)
    # with the predictions as targets the accuracy is exactly 1
    acc1, _ = fn.integral_accuracy(time_axis=time_axis)(jnp.asarray(traces), preds)
    assert float(acc1) == 1.0


def test_crossentropy_out_of_range_target_is_uniform_smoothing():
    """A target outside [0, C) has an all-zero one-hot row (jax.nn.one_hot), so y = s / C for every class."""
    traces = jnp.asarray(np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32))
    targets = jnp.array([1, 7])
    z = np.asarray(traces, np.float64).sum(axis=1)
    log_softmax = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    y = np.stack([0.7 * np.eye(4)[1] + 0.3 / 4, np.full(4, 0.3 / 4)])
    want = np.mean(-(y * log_softmax).sum(axis=-1))
    np.testing.assert_allclose(float(fn.integral_crossentropy()(traces, targets)), want, rtol=2e-6)


def reg_leaves(seed):
    rng = np.random.default_rng(seed)
    tree = {
        "a": (2.0 * rng.random((4, 6))).astype(np.float32),
        "b": [(4.0 * rng.random((3, 2, 3))).astype(np.float32), rng.integers(0, 3, (5, 2)).astype(np.int32)],
    }
    return tree


@pytest.mark.parametrize("min_spikes", [0.5, 1.0, 2.5])
def test_silence_reg_matches_float64_reference(min_spikes):
    tree = reg_leaves(1)
    got = fn.silence_reg(min_spikes)(jax.tree_util.tree_map(jnp.asarray, tree))
    np.testing.assert_allclose(float(got), ref_silence(jax.tree_util.tree_leaves(tree), min_spikes), rtol=2e-6)


@pytest.mark.parametrize(
    "max_spikes, norm, ref_norm",
    [(0.2, None, huber64), (1.5, None, huber64), (0.3, optax.l2_loss, half_square64)],
    ids=["huber-linear", "huber-quadratic", "l2"],
)
def test_sparsity_reg_matches_float64_reference(max_spikes, norm, ref_norm):
    tree = reg_leaves(2)
    reg = fn.sparsity_reg(max_spikes) if norm is None else fn.sparsity_reg(max_spikes, norm)
    got = reg(jax.tree_util.tree_map(jnp.asarray, tree))
    want = ref_sparsity(jax.tree_util.tree_leaves(tree), max_spikes, ref_norm)
    np.testing.assert_allclose(float(got), want, rtol=2e-6)


# ---------------------------------------------------------------------------------------------------------
# golden numbers (spyx-api.md §18.5)
# ---------------------------------------------------------------------------------------------------------

GOLDEN_TRACES = [[[1, 0, 0.5], [0.2, 0.3, 0.1]], [[0, 1, 0], [0.5, 0.5, 0.5]]]
GOLDEN_TARGETS = [0, 1]


def our_golden():
    tr, tg = jnp.array(GOLDEN_TRACES), jnp.array(GOLDEN_TARGETS)
    acc, preds = fn.integral_accuracy()(tr, tg)
    return {
        "ce": float(fn.integral_crossentropy()(tr, tg)),
        "ce0": float(fn.integral_crossentropy(0.0)(tr, tg)),
        "ce_tm2": float(fn.integral_crossentropy(time_axis=-2)(tr, tg)),
        "acc": float(acc),
        "preds": np.asarray(preds).tolist(),
        "mse": float(fn.mse_spikerate()(tr, tg)),
        "mse_05_01": float(fn.mse_spikerate(0.5, 0.1)(tr, tg)),
        "silence": float(fn.silence_reg(1.0)([jnp.array([[0, 1], [0, 3]]), 0.5 * jnp.ones((2, 2, 2))])),
        "sparsity": float(fn.sparsity_reg(0.1)([jnp.ones((4, 8)), 3 * jnp.ones((4, 2, 2))])),
        "sparsity_dict": float(fn.sparsity_reg(0.1)({"a": jnp.ones((4, 8))})),
    }


GOLDEN = {
    "ce": 0.7860149,
    "ce0": 0.6110150,
    "ce_tm2": 0.7860149,
    "acc": 1.0,
    "preds": [0, 1],
    "mse": 0.0516667,
    "mse_05_01": 0.0538889,
    "silence": 2.0,
    "sparsity": 11.22,
    "sparsity_dict": 1.62,
}


def assert_golden(got):
    assert got["preds"] == GOLDEN["preds"]
    for k, v in GOLDEN.items():
        if k != "preds":
            np.testing.assert_allclose(got[k], v, rtol=1e-6, atol=1e-7, err_msg=k)


def test_golden_values():
    assert_golden(our_golden())


# ---------------------------------------------------------------------------------------------------------
# the real Spyx 1.0 on the same inputs
# ---------------------------------------------------------------------------------------------------------

_SPYX1_SCRIPT = r"""
import json
import numpy as np, jax, jax.numpy as jnp, optax, spyx
cases = json.load(open(PATH))
out = {"spyx_version": spyx.__version__, "losses": [], "acc": []}
for c in cases["losses"]:
    f = getattr(spyx.fn, c["factory"])(**c["kwargs"], time_axis=c["time_axis"])
    out["losses"].append(float(f(jnp.asarray(c["traces"], jnp.float32), jnp.asarray(c["targets"], jnp.int32))))
for c in cases["acc"]:
    a, p = spyx.fn.integral_accuracy(time_axis=c["time_axis"])(
        jnp.asarray(c["traces"], jnp.float32), jnp.asarray(c["targets"], jnp.int32))
    out["acc"].append([float(a), np.asarray(p).tolist()])
tr, tg = jnp.array(cases["golden_traces"]), jnp.array(cases["golden_targets"])
acc, preds = spyx.fn.integral_accuracy()(tr, tg)
out["golden"] = {
    "ce": float(spyx.fn.integral_crossentropy()(tr, tg)),
    "ce0": float(spyx.fn.integral_crossentropy(0.0)(tr, tg)),
    "ce_tm2": float(spyx.fn.integral_crossentropy(time_axis=-2)(tr, tg)),
    "acc": float(acc), "preds": np.asarray(preds).tolist(),
    "mse": float(spyx.fn.mse_spikerate()(tr, tg)),
    "mse_05_01": float(spyx.fn.mse_spikerate(0.5, 0.1)(tr, tg)),
    "silence": float(spyx.fn.silence_reg(1.0)([jnp.array([[0, 1], [0, 3]]), 0.5 * jnp.ones((2, 2, 2))])),
    "sparsity": float(spyx.fn.sparsity_reg(0.1)([jnp.ones((4, 8)), 3 * jnp.ones((4, 2, 2))])),
    "sparsity_dict": float(spyx.fn.sparsity_reg(0.1)({"a": jnp.ones((4, 8))})),
}
tree = cases["reg_tree"]
tree = {"a": jnp.asarray(tree["a"], jnp.float32),
        "b": [jnp.asarray(tree["b"][0], jnp.float32), jnp.asarray(tree["b"][1], jnp.int32)]}
out["silence"] = float(spyx.fn.silence_reg(1.0)(tree))
out["sparsity"] = float(spyx.fn.sparsity_reg(0.2)(tree))
print(json.dumps(out))
"""


SPYX1_LAYOUTS = [1, 3, 5]  # time-major, a batch axis after time (negative time_axis), no batch axis


def spyx1_cases():
    losses, accs = [], []
    for i in SPYX1_LAYOUTS:
        shape, time_axis = LAYOUTS[i]
        for name, (factory, kwargs, _, kind) in sorted(LOSSES.items()):
            traces, targets = make_case(i, shape, time_axis, kind)
            losses.append(dict(name=name, factory=factory, kwargs=kwargs, time_axis=time_axis,
                               traces=traces.tolist(), targets=targets.tolist()))
        traces, targets = make_case(i, shape, time_axis, "normal")
        accs.append(dict(time_axis=time_axis, traces=traces.tolist(), targets=targets.tolist()))
    tree = reg_leaves(2)
    return {
        "losses": losses,
        "acc": accs,
        "golden_traces": GOLDEN_TRACES,
        "golden_targets": GOLDEN_TARGETS,
        "reg_tree": {"a": tree["a"].tolist(), "b": [tree["b"][0].tolist(), tree["b"][1].tolist()]},
    }


@pytest.fixture(scope="module", autouse=True)
def spyx1_job(request, tmp_path_factory):
    """Start Spyx 1.0 on the cases when the module's first test runs; the interop tests at the end collect it."""
    if not interop_selected(request):
        yield None
        return
    path = tmp_path_factory.mktemp("spyx1_fn") / "cases.json"
    path.write_text(json.dumps(spyx1_cases()))
    job = start_spyx1(f"PATH = {str(path)!r}\n" + _SPYX1_SCRIPT)
    yield job
    if job is not None:
        job.close()


@pytest.fixture(scope="module")
def spyx1_results(spyx1_job):
    return spyx1_cases(), result_or_skip(spyx1_job)


@pytest.mark.interop
def test_spyx1_gives_the_golden_values(spyx1_results):
    assert_golden(spyx1_results[1]["golden"])


@pytest.mark.interop
def test_same_numbers_as_spyx1(spyx1_results):
    cases, theirs = spyx1_results
    for case, want in zip(cases["losses"], theirs["losses"], strict=True):
        f = getattr(fn, case["factory"])(**case["kwargs"], time_axis=case["time_axis"])
        got = float(f(jnp.asarray(case["traces"], jnp.float32), jnp.asarray(case["targets"], jnp.int32)))
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=f"{case['name']} {case['time_axis']}")
    for case, (want_acc, want_preds) in zip(cases["acc"], theirs["acc"], strict=True):
        acc, preds = fn.integral_accuracy(time_axis=case["time_axis"])(
            jnp.asarray(case["traces"], jnp.float32), jnp.asarray(case["targets"], jnp.int32)
        )
        assert float(acc) == want_acc and np.asarray(preds).tolist() == want_preds
    tree = reg_leaves(2)
    tree = jax.tree_util.tree_map(jnp.asarray, tree)
    np.testing.assert_allclose(float(fn.silence_reg(1.0)(tree)), theirs["silence"], rtol=1e-6)
    np.testing.assert_allclose(float(fn.sparsity_reg(0.2)(tree)), theirs["sparsity"], rtol=1e-6)


# ---------------------------------------------------------------------------------------------------------
# errors (spyx-api.md §5.1, §16)
# ---------------------------------------------------------------------------------------------------------

CHECKED = ["integral_crossentropy", "integral_accuracy", "mse_spikerate"]


@pytest.mark.parametrize("name", CHECKED)
def test_rank_1_traces_rejected(name):
    with pytest.raises(ValueError, match=rf"^{name}: traces must have at least 2 dimensions") as err:
        getattr(fn, name)()(jnp.ones(3), jnp.zeros((), jnp.int32))
    assert isinstance(err.value, ArgumentError) and isinstance(err.value, SpyxError)
    assert "(3,)" in str(err.value)


@pytest.mark.parametrize("name", CHECKED)
@pytest.mark.parametrize("time_axis", [3, -4, 7])
def test_time_axis_out_of_range_rejected(name, time_axis):
    with pytest.raises(ValueError, match=rf"^{name}: time_axis {time_axis} is out of range .*ndim=3") as err:
        getattr(fn, name)(time_axis=time_axis)(jnp.ones((2, 5, 3)), jnp.zeros((2,), jnp.int32))
    assert isinstance(err.value, ArgumentError)


@pytest.mark.parametrize("name", CHECKED)
@pytest.mark.parametrize(
    "traces_shape, time_axis, bad_targets",
    [((4, 5, 3), 1, (3,)), ((4, 5, 3), 0, (4,)), ((2, 5, 3, 4), 1, (2,)), ((4, 5, 3), 1, (4, 1))],
)
def test_target_batch_mismatch_rejected(name, traces_shape, time_axis, bad_targets):
    with pytest.raises(ValueError, match="does not match the batch portion of traces shape") as err:
        getattr(fn, name)(time_axis=time_axis)(jnp.ones(traces_shape), jnp.zeros(bad_targets, jnp.int32))
    assert isinstance(err.value, ArgumentError)
    expected = targets_shape(traces_shape, time_axis)
    assert f"targets shape {bad_targets}" in str(err.value) and f"expected {expected}" in str(err.value)


def test_shape_check_also_runs_inside_an_outer_jit():
    loss = fn.integral_crossentropy()
    with pytest.raises(ValueError, match="does not match"):
        jax.jit(lambda t, y: loss(t, y))(jnp.ones((4, 5, 3)), jnp.zeros((5,), jnp.int32))


# ---------------------------------------------------------------------------------------------------------
# jit, vmap, grad
# ---------------------------------------------------------------------------------------------------------


def test_factories_return_jitted_callables():
    made = [
        fn.integral_crossentropy(),
        fn.integral_accuracy(),
        fn.mse_spikerate(),
        fn.silence_reg(1.0),
        fn.sparsity_reg(1.0),
    ]
    for f in made:
        assert hasattr(f, "lower"), f  # a jax.jit-wrapped function
    lowered = made[0].lower(jnp.ones((2, 3, 4)), jnp.zeros((2,), jnp.int32))
    assert "stablehlo" in lowered.as_text() or "mhlo" in lowered.as_text()


def test_losses_compose_with_jit_and_vmap():
    traces, targets = make_case(0, (4, 6, 3), 1, "normal")
    stacked_t = jnp.stack([jnp.asarray(traces), 2 * jnp.asarray(traces)])
    stacked_y = jnp.stack([jnp.asarray(targets)] * 2)
    loss = fn.integral_crossentropy()
    got = jax.jit(jax.vmap(loss))(stacked_t, stacked_y)
    want = [ref_crossentropy(traces, targets, 0.3, 1), ref_crossentropy(2 * traces, targets, 0.3, 1)]
    np.testing.assert_allclose(np.asarray(got), want, rtol=2e-6)


def central_difference(f64, x, eps=1e-6):
    x = np.asarray(x, np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        grad[idx] = (f64(up) - f64(down)) / (2 * eps)
    return grad


@pytest.mark.parametrize("name", ["ce_default", "ce_s0", "mse_05_01"])
@pytest.mark.parametrize("layout", [0, 3])
def test_loss_gradients_match_finite_differences(name, layout):
    shape, time_axis = LAYOUTS[layout]
    _, _, ref, _ = LOSSES[name]
    traces, targets = make_case(layout, shape, time_axis, "normal")
    got = jax.grad(our_loss(name, time_axis))(jnp.asarray(traces), jnp.asarray(targets))
    want = central_difference(lambda t: ref(t, targets, time_axis), traces)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-6)


def test_regulariser_gradients_match_finite_differences():
    rng = np.random.default_rng(5)
    a = (2.0 * rng.random((3, 4))).astype(np.float32)
    b = (2.0 * rng.random((3, 2, 2))).astype(np.float32)
    for reg, ref in [
        (fn.silence_reg(1.0), lambda x, y: ref_silence([x, y], 1.0)),
        (fn.sparsity_reg(0.4), lambda x, y: ref_sparsity([x, y], 0.4)),
    ]:
        ga, gb = jax.grad(reg)([jnp.asarray(a), jnp.asarray(b)])
        want_a = central_difference(lambda x, ref=ref: ref(x, b), a)
        want_b = central_difference(lambda y, ref=ref: ref(a, y), b)
        np.testing.assert_allclose(np.asarray(ga), want_a, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(np.asarray(gb), want_b, rtol=1e-4, atol=1e-6)
