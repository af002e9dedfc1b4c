"""spyx.optimize (spyx-api.md §7): the compiled steps, ``fit`` (history, callbacks, batch splatting, empty
iterables, the progress bar), the solver protocol, and ``compile_fit`` (same numbers as ``fit``, history
shapes, evaluation, key threading, one device dispatch per call), checked against plain optax, closed forms,
the contract's golden numbers (§18.2) and the real Spyx 1.0 running the same tiny model."""

from __future__ import annotations

import fcntl
import gzip
import inspect
import json
import os
import struct
import sys
import termios
from collections import namedtuple
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import spyx.fn as fn
import spyx.optimize as so
from spyx.errors import ArgumentError, EmptyDataError, SpyxError
from tests.optimize.tiny_model import Threshold, TinyNet, key_solver, run, task
from tests.spyx1_ref import interop_selected, result_or_skip, start_spyx1

EPOCHS = 3
LR = 1e-2
CE = fn.integral_crossentropy()
ACC = fn.integral_accuracy()


def loss_fn(model, x, y):
    return CE(run(model, x), y)


def eval_fn(model, x, y):
    out = run(model, x)
    return ACC(out, y)[0], CE(out, y)


def metric_fn(model, x, y):
    return ACC(run(model, x), y)[0]


@pytest.fixture(scope="module")
def data():
    return task()  # X (2, 4, 5, 3), Y (2, 4)


def as_batches(x, y):
    return lambda: [(x[i], y[i]) for i in range(x.shape[0])]


def params_of(model):
    return [np.asarray(p) for p in jax.tree_util.tree_leaves(nnx.state(model, nnx.Param))]


@pytest.fixture(scope="module")
def fitted(data):
    """One reference ``fit`` run (train and eval, EPOCHS epochs) of TinyNet, with its callback log."""
    x, y = data
    model = TinyNet()
    before = params_of(model)
    log = []

    def train_iter():
        log.append(("train_iter", len(log)))
        return as_batches(x, y)()

    def eval_iter():
        log.append(("eval_iter", len(log)))
        return as_batches(x, y)()

    def on_epoch_end(epoch, metrics):
        log.append(("on_epoch_end", epoch, metrics))

    history = so.fit(
        model, optax.adam(LR), loss_fn, train_iter, epochs=EPOCHS, eval_iter=eval_iter, eval_fn=eval_fn,
        on_epoch_end=on_epoch_end,
    )
    return model, before, history, log


# ---------------------------------------------------------------------------------------------------------
# make_train_step / make_eval_step
# ---------------------------------------------------------------------------------------------------------


class Scalar(nnx.Module):
    """``w * x`` with one scalar parameter and a non-trainable counter: compiles in a blink."""

    def __init__(self, w=0.0):
        self.w = nnx.Param(jnp.asarray(w, jnp.float32))
        self.frozen = Threshold(jnp.asarray(3.0, jnp.float32))

    def __call__(self, x):
        return self.w[...] * x


def square_loss(model, x, y):
    return jnp.mean((model(x) - y) ** 2)


@pytest.mark.parametrize("graph", [None, False])  # flax's graph mode (the default) and its tree mode
def test_train_step_returns_pre_update_loss_and_applies_one_sgd_step(graph):
    model = Scalar(0.5)
    opt = nnx.Optimizer(model, optax.sgd(0.1), wrt=nnx.Param)
    step = so.make_train_step(square_loss, graph=graph)
    x, y = jnp.array([1.0, 2.0, -1.0]), jnp.array([2.0, 3.0, 0.5])
    w = 0.5
    for _ in range(2):  # closed form: loss = mean((w x - y)^2), dloss/dw = mean(2 x (w x - y))
        xs, ys = np.asarray(x, np.float64), np.asarray(y, np.float64)
        want_loss, grad = np.mean((w * xs - ys) ** 2), np.mean(2 * xs * (w * xs - ys))
        np.testing.assert_allclose(float(step(model, opt, x, y)), want_loss, rtol=1e-6)
        w -= 0.1 * grad
        np.testing.assert_allclose(float(model.w[...]), w, rtol=1e-6)
    assert float(model.frozen[...]) == 3.0


@pytest.mark.parametrize("graph", [None, False])
def test_eval_step_returns_metric_fn_output_and_leaves_the_model(graph):
    model = Scalar(2.0)
    step = so.make_eval_step(lambda m, x, y: (jnp.sum(m(x)), square_loss(m, x, y)), graph=graph)
    a, b = step(model, jnp.array([1.0, 2.0]), jnp.array([0.0, 0.0]))
    assert float(a) == 6.0 and float(b) == 10.0 and float(model.w[...]) == 2.0


# ---------------------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------------------


def test_fit_history_keys_length_and_types(fitted):
    _, _, history, _ = fitted
    assert isinstance(history, list) and len(history) == EPOCHS
    for metrics in history:
        assert set(metrics) == {"train_loss", "eval_acc", "eval_loss"}
        assert all(type(v) is float for v in metrics.values())
        assert 0.0 <= metrics["eval_acc"] <= 1.0


def test_fit_trains_in_place_and_loss_decreases(fitted):
    model, before, history, _ = fitted
    losses = [m["train_loss"] for m in history]
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
    assert any(not np.array_equal(a, b) for a, b in zip(before, params_of(model), strict=True))


def test_fit_last_eval_is_the_trained_model_on_the_eval_batches(data, fitted):
    """The last epoch's eval metrics are the means over eval batches of eval_fn(trained model, *batch)."""
    model, _, history, _ = fitted
    x, y = data
    accs, losses = zip(*(eval_fn(model, x[i], y[i]) for i in range(x.shape[0])), strict=True)
    np.testing.assert_allclose(history[-1]["eval_acc"], np.mean(np.asarray(accs, np.float64)), rtol=1e-6)
    np.testing.assert_allclose(history[-1]["eval_loss"], np.mean(np.asarray(losses, np.float64)), rtol=1e-6)


def test_fit_matches_a_plain_optax_loop(data, fitted):
    """fit's train_loss = mean of pre-update batch losses of value_and_grad + tx.update + apply_updates."""
    _, _, history, _ = fitted
    x, y = data
    graphdef, params, rest = nnx.split(TinyNet(), nnx.Param, ...)
    tx = optax.adam(LR)
    opt_state = tx.init(params)

    @jax.jit
    def step(params, opt_state, xb, yb):
        loss, grads = jax.value_and_grad(lambda p: loss_fn(nnx.merge(graphdef, p, rest), xb, yb))(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    for metrics in history:
        losses = []
        for i in range(x.shape[0]):
            params, opt_state, loss = step(params, opt_state, x[i], y[i])
            losses.append(float(loss))
        np.testing.assert_allclose(metrics["train_loss"], np.mean(losses), rtol=1e-5)


def test_fit_calls_iterables_and_callback_in_order(fitted):
    _, _, history, log = fitted
    kinds = [entry[0] for entry in log]
    assert kinds == ["train_iter", "eval_iter", "on_epoch_end"] * EPOCHS
    ends = [entry for entry in log if entry[0] == "on_epoch_end"]
    assert [e[1] for e in ends] == list(range(EPOCHS))
    # the dict handed to the callback is the one recorded in the history (appended before the call)
    assert all(e[2] is history[i] for i, e in enumerate(ends))


def test_fit_train_only_and_eval_iter_without_eval_fn_skips_evaluation():
    calls = []
    x, y = jnp.array([1.0, 2.0]), jnp.array([2.0, 4.0])
    history = so.fit(
        Scalar(), optax.sgd(0.05), square_loss, lambda: [(x, y)] * 3, epochs=2,
        eval_iter=lambda: calls.append(1) or [(x, y)],
    )
    assert [set(m) for m in history] == [{"train_loss"}] * 2 and calls == []


def test_fit_raises_on_empty_train_iter():
    with pytest.raises(RuntimeError, match=r"fit\(\): train_iter\(\) yielded no batches at epoch 0") as err:
        so.fit(Scalar(), optax.sgd(0.1), square_loss, lambda: [], epochs=2)
    assert isinstance(err.value, EmptyDataError) and isinstance(err.value, SpyxError)


def test_fit_raises_when_train_iter_is_exhausted_at_a_later_epoch():
    """A train_iter that returns the same generator every epoch yields nothing the second time."""
    x, y = jnp.array([1.0]), jnp.array([1.0])
    gen = ((x, y) for _ in range(2))
    with pytest.raises(RuntimeError, match=r"train_iter\(\) yielded no batches at epoch 1"):
        so.fit(Scalar(), optax.sgd(0.1), square_loss, lambda: gen, epochs=3)


def test_fit_raises_on_empty_eval_iter():
    x, y = jnp.array([1.0]), jnp.array([1.0])
    with pytest.raises(RuntimeError, match=r"eval_iter\(\) yielded no batches at epoch 0"):
        so.fit(
            Scalar(), optax.sgd(0.1), square_loss, lambda: [(x, y)], epochs=1, eval_iter=lambda: iter(()),
            eval_fn=lambda m, x, y: (square_loss(m, x, y), square_loss(m, x, y)),
        )


Pair = namedtuple("Pair", "x y")


@pytest.mark.parametrize(
    "batch, n_args",
    [
        ((jnp.array([1.0, 2.0]), jnp.array([2.0, 4.0])), 2),
        (Pair(jnp.array([1.0, 2.0]), jnp.array([2.0, 4.0])), 2),
        ([jnp.array([1.0, 2.0]), jnp.array([2.0, 4.0])], 1),
        ({"x": jnp.array([1.0, 2.0]), "y": jnp.array([2.0, 4.0])}, 1),
        (jnp.array([[1.0, 2.0], [2.0, 4.0]]), 1),
    ],
    ids=["tuple", "namedtuple", "list", "dict", "array"],
)
def test_fit_splats_tuples_only(batch, n_args):
    """A tuple (namedtuples included) is splatted into loss_fn; a list, dict or array is one argument."""
    seen = []

    def loss(model, *args):
        seen.append((len(args), type(args[0])))
        if len(args) == 2:
            x, y = args
        elif isinstance(args[0], dict):
            x, y = args[0]["x"], args[0]["y"]
        else:
            x, y = args[0][0], args[0][1]
        return square_loss(model, x, y)

    history = so.fit(Scalar(), optax.sgd(0.05), loss, lambda: [batch], epochs=2)
    assert seen and all(n == n_args for n, _ in seen)
    if n_args == 1:
        assert seen[0][1] is type(batch) or isinstance(batch, jax.Array)
    # the same loss as computed directly on the initial model: w = 0 gives mean(y^2) = 10
    assert history[0]["train_loss"] == pytest.approx(10.0)


def test_fit_progress_keyword_is_an_extra_after_the_spyx1_signature():
    params = inspect.signature(so.fit).parameters
    assert list(params)[:8] == [
        "model", "tx", "loss_fn", "train_iter", "epochs", "eval_iter", "eval_fn", "on_epoch_end",
    ]
    assert params["progress"].kind is inspect.Parameter.KEYWORD_ONLY and params["progress"].default is True


def _fit_on_terminal(monkeypatch, progress: bool) -> str:
    """Run a short fit with sys.stderr on a pseudo-terminal and return what was written to it."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))  # a 160-column terminal
    stream = os.fdopen(slave, "w", buffering=1)
    monkeypatch.setattr(sys, "stderr", stream)
    x, y = jnp.array([1.0, 2.0]), jnp.array([2.0, 4.0])
    try:
        so.fit(
            Scalar(), optax.sgd(0.05), square_loss, lambda: [(x, y)] * 3, epochs=2, progress=progress,
            eval_iter=lambda: [(x, y)], eval_fn=lambda m, x, y: (jnp.float32(0.5), square_loss(m, x, y)),
        )
        stream.flush()
        os.set_blocking(master, False)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")
    finally:
        monkeypatch.undo()
        stream.close()
        os.close(master)


def test_fit_shows_a_progress_bar_per_epoch_on_a_terminal(monkeypatch):
    text = _fit_on_terminal(monkeypatch, progress=True)
    assert "epoch 1/2" in text and "epoch 2/2" in text
    assert "3/3" in text and "train_loss=" in text and "eval_acc=0.5" in text and "eval_loss=" in text


def test_fit_progress_false_writes_nothing_on_a_terminal(monkeypatch):
    assert _fit_on_terminal(monkeypatch, progress=False) == ""


def test_fit_shows_no_bar_when_stderr_is_not_a_terminal(capsys):
    x, y = jnp.array([1.0]), jnp.array([1.0])
    so.fit(Scalar(), optax.sgd(0.1), square_loss, lambda: [(x, y)], epochs=2)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------------------------------------
# the solver protocol
# ---------------------------------------------------------------------------------------------------------


def test_solver_impl_fields_and_backprop_one_step():
    assert so.SolverImpl._fields == ("init", "step", "get_params")
    params0 = {"w": jnp.array([1.0, -2.0])}

    def loss_flat(params, batch):
        (target,) = batch
        return jnp.sum((params["w"] - target) ** 2)

    impl = so.backprop(optax.sgd(0.25))(loss_flat, params0)
    assert isinstance(impl, so.SolverImpl)
    state = impl.init(jax.random.PRNGKey(0))
    state, metric = impl.step(state, (jnp.array([0.0, 0.0]),), jax.random.PRNGKey(1))
    assert float(metric) == 5.0  # the loss before the update
    # w <- w - 0.25 * 2 (w - target)
    np.testing.assert_allclose(np.asarray(impl.get_params(state)["w"]), [0.5, -1.0])


# ---------------------------------------------------------------------------------------------------------
# compile_fit
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled(data):
    x, y = data
    model = TinyNet()
    before = params_of(model)
    new_model, history = so.compile_fit(
        model, optax.adam(LR), loss_fn, (x, y), epochs=EPOCHS, eval_data=(x, y), metric_fn=metric_fn
    )
    return model, before, new_model, history


def test_compile_fit_matches_fit(fitted, compiled):
    """Same model seed, optimizer and batches: the same per-epoch train_loss, and the eval accuracy per epoch
    equals fit's eval_acc (both the mean over eval batches of the accuracy at the epoch's parameters)."""
    _, _, history, _ = fitted
    _, _, _, hist = compiled
    np.testing.assert_allclose(np.asarray(hist["train_loss"]), [m["train_loss"] for m in history], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(hist["eval_metric"]), [m["eval_acc"] for m in history], rtol=1e-6)


def test_compile_fit_history_shapes_and_new_model(data, compiled, fitted):
    model, before, new_model, hist = compiled
    assert set(hist) == {"train_loss", "eval_metric"}
    assert all(v.shape == (EPOCHS,) and v.dtype == jnp.float32 for v in hist.values())
    # the input model is untouched; the returned one is a new module with fit's trained parameters
    assert new_model is not model and type(new_model) is TinyNet
    assert all(np.array_equal(a, b) for a, b in zip(before, params_of(model), strict=True))
    for a, b in zip(params_of(new_model), params_of(fitted[0]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert float(new_model.theta[...]) == 1.0  # non-Param state is carried over unchanged
    x, y = data
    last = np.mean([float(metric_fn(new_model, x[i], y[i])) for i in range(x.shape[0])])
    np.testing.assert_allclose(float(hist["eval_metric"][-1]), last, rtol=1e-6)


def test_compile_fit_without_eval_has_train_loss_only():
    x = jnp.ones((3, 2))
    y = 2.0 * x
    _, hist = so.compile_fit(Scalar(), optax.sgd(0.1), square_loss, (x, y), epochs=5)
    assert list(hist) == ["train_loss"] and hist["train_loss"].shape == (5,)
    # closed form: w_{k+1} = w_k - 0.1 * 2 (w_k - 2) = 0.8 w_k + 0.4, loss_k = (w_k - 2)^2, 3 steps per epoch
    w, want = 0.0, []
    for _ in range(5):
        losses = []
        for _ in range(3):
            losses.append((w - 2.0) ** 2)
            w = 0.8 * w + 0.4
        want.append(np.mean(losses))
    np.testing.assert_allclose(np.asarray(hist["train_loss"]), want, rtol=1e-5)


def test_compile_fit_requires_metric_fn_with_eval_data_first():
    with pytest.raises(ValueError) as err:
        so.compile_fit(None, None, None, None, epochs=1, eval_data=(jnp.ones(1),))
    assert str(err.value) == "metric_fn is required when eval_data is given"
    assert isinstance(err.value, ArgumentError)


def test_compile_fit_wraps_a_gradient_transformation_in_backprop():
    x = jnp.arange(6.0).reshape(3, 2)
    y = -x
    _, a = so.compile_fit(Scalar(1.0), optax.adam(0.1), square_loss, (x, y), epochs=2)
    _, b = so.compile_fit(Scalar(1.0), so.backprop(optax.adam(0.1)), square_loss, (x, y), epochs=2)
    np.testing.assert_array_equal(np.asarray(a["train_loss"]), np.asarray(b["train_loss"]))


def expected_key_metrics(key, n_batches, epochs):
    """The contract's key sequence (§7.5 step 4) for :func:`key_solver`, computed eagerly."""
    k_init, k = jax.random.split(key)
    u0 = float(jax.random.uniform(k_init))
    per_epoch = []
    for _ in range(epochs):
        metrics = []
        for _ in range(n_batches):
            k, sub = jax.random.split(k)
            metrics.append(float(jax.random.uniform(sub)) + u0)
        per_epoch.append(np.mean(metrics))
    return per_epoch


@pytest.mark.parametrize("key", [None, 7])
def test_compile_fit_threads_the_key_through_init_and_step(key):
    x = jnp.ones((4, 2))
    model = Scalar(1.5)
    new_model, hist = so.compile_fit(
        model, key_solver(so.SolverImpl), square_loss, (x, x), epochs=3,
        key=None if key is None else jax.random.PRNGKey(key),
    )
    want = expected_key_metrics(jax.random.PRNGKey(0 if key is None else key), 4, 3)
    np.testing.assert_allclose(np.asarray(hist["train_loss"]), want, rtol=1e-6)
    assert float(new_model.w[...]) == 1.5  # get_params returned params0: nothing learned


EXECUTE_EVENT = "CommonPjRtLoadedExecutable::ExecuteHelperOnSingleDevice"


def _profile(thunk, folder: Path):
    """Run ``thunk`` under the JAX profiler; return (executable launches, HLO module names that ran).

    Method: every launch of a compiled XLA executable on a PJRT device goes through PJRT's
    ``ExecuteHelperOnSingleDevice``, which the profiler's host tracer records as one trace event per launch
    (eager ops included: each is its own small executable). The thunk events inside a launch carry the
    ``hlo_module`` they belong to; as the CPU client runs launched executables asynchronously, work launched
    before the window must be finished (``block_until_ready``) or its thunks may show up inside it. The trace
    is read back from the profiler's Perfetto JSON export; the Python tracer is off (not needed, and slow)."""
    options = jax.profiler.ProfileOptions()
    options.python_tracer_level = 0
    jax.profiler.start_trace(str(folder), create_perfetto_trace=True, profiler_options=options)
    try:
        thunk()
    finally:
        jax.profiler.stop_trace()
    (path,) = folder.glob("**/perfetto_trace.json.gz")
    with gzip.open(path) as fh:
        trace = json.load(fh)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    launches = sum(e.get("name") == EXECUTE_EVENT for e in events)
    modules = {e["args"]["hlo_module"] for e in events if "hlo_module" in (e.get("args") or {})}
    return launches, modules


def test_compile_fit_is_one_compiled_program_and_one_dispatch(data, tmp_path):
    """One compile_fit call compiles exactly one XLA computation and launches it exactly once.

    Two independent measurements of the same call: (1) jax.monitoring's backend-compile event fires once per
    XLA compilation, with the jitted function's name (compile_fit jits a new function per call, so its program
    always compiles, and an eager op inside compile_fit would show up as a compilation or a launch of its own);
    (2) the profiler counts executable launches (see ``_profile``), calibrated first on a jitted function
    called twice. The model, optimizer, data and key are made before the measured call."""
    x, y = data
    double = jax.jit(lambda v: 2.0 * v)
    double(x).block_until_ready()
    launches, _ = _profile(lambda: [double(x).block_until_ready() for _ in range(2)], tmp_path / "calibrate")
    if launches == 0:
        pytest.skip(f"this jax's profiler records no {EXECUTE_EVENT!r} events; cannot count dispatches")
    assert launches == 2

    model, tx, key = TinyNet(), optax.adam(LR), jax.random.PRNGKey(0)
    # Let the eager ops that built these finish first: the CPU runs launched executables asynchronously, so
    # their thunk events could otherwise land inside the measured window.
    jax.block_until_ready((nnx.state(model), key, x, y))
    compiles = []

    def on_duration(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(kwargs.get("fun_name"))

    def one_call():
        new_model, hist = so.compile_fit(
            model, tx, loss_fn, (x, y), epochs=2, eval_data=(x, y), metric_fn=metric_fn, key=key
        )
        jax.block_until_ready((nnx.state(new_model), hist))

    jax.monitoring.register_event_duration_secs_listener(on_duration)
    try:
        launches, modules = _profile(one_call, tmp_path / "compile_fit")
    finally:
        jax.monitoring.unregister_event_duration_listener(on_duration)
    assert compiles == ["jit(compile_fit_program)"]
    assert launches == 1, launches
    assert modules == {"jit_compile_fit_program"}, modules


# ---------------------------------------------------------------------------------------------------------
# golden numbers (§18.2) with spyx.nn, once the Spyx 1.0 API of spyx.nn is on this branch
# ---------------------------------------------------------------------------------------------------------

GOLDEN_TRAIN_LOSS = [1.643214, 1.459069, 1.298351]


def _spyx1_nn():
    """spyx.nn when it has the Spyx 1.0 API (LIF(hidden_shape, *, rngs) with initial_state, run(...,
    batch_major=)); else skip."""
    import spyx.nn as snn

    try:
        lif = snn.LIF((4,), rngs=nnx.Rngs(0))
        ok = hasattr(lif, "initial_state") and "batch_major" in inspect.signature(snn.run).parameters
    except (TypeError, AttributeError):
        ok = False
    if not ok:
        pytest.skip("spyx.nn does not have the Spyx 1.0 API yet (LIF(..., rngs=), initial_state, run(batch_major=))")
    return snn


def test_golden_fit_and_compile_fit_train_loss():
    snn = _spyx1_nn()

    def build():
        rngs = nnx.Rngs(0)
        return snn.Sequential(
            nnx.Linear(3, 4, use_bias=False, rngs=rngs), snn.LIF((4,), rngs=rngs),
            nnx.Linear(4, 2, use_bias=False, rngs=rngs), snn.LI((2,), rngs=rngs),
        )

    x = 2 * jax.random.normal(jax.random.PRNGKey(3), (2, 4, 5, 3))
    y = jnp.array([[0, 1, 0, 1], [1, 0, 1, 0]])

    def loss(m, x, y):
        return CE(snn.run(m, x, batch_major=True)[0], y)

    history = so.fit(build(), optax.adam(1e-2), loss, as_batches(x, y), epochs=3)
    _, hist = so.compile_fit(build(), optax.adam(1e-2), loss, (x, y), epochs=3)
    np.testing.assert_allclose([m["train_loss"] for m in history], GOLDEN_TRAIN_LOSS, rtol=2e-6)
    np.testing.assert_allclose(np.asarray(hist["train_loss"]), GOLDEN_TRAIN_LOSS, rtol=2e-6)


# ---------------------------------------------------------------------------------------------------------
# the real Spyx 1.0 on the same tiny model
# ---------------------------------------------------------------------------------------------------------

_SPYX1_SCRIPT = r"""
import json, sys
sys.path.insert(0, FOLDER)
import jax, jax.numpy as jnp, numpy as np, optax, spyx
from flax import nnx
from tiny_model import TinyNet, key_solver, run, task

CE, ACC = spyx.fn.integral_crossentropy(), spyx.fn.integral_accuracy()
loss_fn = lambda m, x, y: CE(run(m, x), y)
def eval_fn(m, x, y):
    out = run(m, x)
    return ACC(out, y)[0], CE(out, y)
metric_fn = lambda m, x, y: ACC(run(m, x), y)[0]
x, y = task()
batches = lambda: [(x[i], y[i]) for i in range(x.shape[0])]
out = {"spyx_version": spyx.__version__}
out["fit"] = spyx.optimize.fit(TinyNet(), optax.adam(LR), loss_fn, batches, epochs=EPOCHS,
                               eval_iter=batches, eval_fn=eval_fn)
_, hist = spyx.optimize.compile_fit(TinyNet(), optax.adam(LR), loss_fn, (x, y), epochs=EPOCHS,
                                    eval_data=(x, y), metric_fn=metric_fn)
out["compile_fit"] = {k: np.asarray(v).tolist() for k, v in hist.items()}
_, hist = spyx.optimize.compile_fit(TinyNet(), key_solver(spyx.optimize.SolverImpl), loss_fn, (x, y),
                                    epochs=EPOCHS, key=jax.random.PRNGKey(7))
out["key_solver"] = np.asarray(hist["train_loss"]).tolist()

# the contract's golden numbers (spyx-api.md 18.2) under Spyx 1.0 itself
def build():
    rngs = nnx.Rngs(0)
    return spyx.nn.Sequential(nnx.Linear(3, 4, use_bias=False, rngs=rngs), spyx.nn.LIF((4,), rngs=rngs),
                              nnx.Linear(4, 2, use_bias=False, rngs=rngs), spyx.nn.LI((2,), rngs=rngs))
gx = 2 * jax.random.normal(jax.random.PRNGKey(3), (2, 4, 5, 3))
gy = jnp.array([[0, 1, 0, 1], [1, 0, 1, 0]])
gloss = lambda m, x, y: CE(spyx.nn.run(m, x, batch_major=True)[0], y)
h = spyx.optimize.fit(build(), optax.adam(1e-2), gloss, lambda: [(gx[0], gy[0]), (gx[1], gy[1])], epochs=3)
out["golden"] = [m["train_loss"] for m in h]
print(json.dumps(out))
"""


@pytest.fixture(scope="module", autouse=True)
def spyx1_job(request):
    """Start Spyx 1.0 when the module's first test runs; the interop tests at the end collect its result."""
    if not interop_selected(request):
        yield None
        return
    header = f"FOLDER = {str(Path(__file__).parent)!r}\nLR = {LR!r}\nEPOCHS = {EPOCHS!r}\n"
    job = start_spyx1(header + _SPYX1_SCRIPT)
    yield job
    if job is not None:
        job.close()


@pytest.fixture(scope="module")
def spyx1(spyx1_job):
    return result_or_skip(spyx1_job)


@pytest.mark.interop
def test_spyx1_gives_the_golden_train_loss(spyx1):
    """§18.2's numbers, which the skipped-until-spyx.nn test above expects of our fit and compile_fit."""
    np.testing.assert_allclose(spyx1["golden"], GOLDEN_TRAIN_LOSS, rtol=2e-6)


@pytest.mark.interop
def test_fit_history_equals_spyx1(spyx1, fitted):
    _, _, history, _ = fitted
    assert [set(m) for m in history] == [set(m) for m in spyx1["fit"]]
    for ours, theirs in zip(history, spyx1["fit"], strict=True):
        for k in ours:
            np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-5, err_msg=k)


@pytest.mark.interop
def test_compile_fit_history_equals_spyx1(spyx1, compiled):
    hist = compiled[3]
    assert set(hist) == set(spyx1["compile_fit"])
    for k in hist:
        np.testing.assert_allclose(np.asarray(hist[k]), spyx1["compile_fit"][k], rtol=1e-5, err_msg=k)


@pytest.mark.interop
def test_compile_fit_key_threading_equals_spyx1(spyx1, data):
    x, y = data
    _, hist = so.compile_fit(
        TinyNet(), key_solver(so.SolverImpl), loss_fn, (x, y), epochs=EPOCHS, key=jax.random.PRNGKey(7)
    )
    np.testing.assert_allclose(np.asarray(hist["train_loss"]), spyx1["key_solver"], rtol=1e-6)
