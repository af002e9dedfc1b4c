"""Spyx 1.0's qwix front end in ``spyx.quant``: rule builders, ``quantize`` (QAT and PTQ), the state layout of
a PTQ model, ``binary_activation_error``, and the behaviour without qwix.

References: the contract's rule fields (spyx-api.md §9), qwix itself (a microscaled qtype runs only with the
tile size qwix requires), float64 NumPy re-computations, the real spyx==1.0.0 (``SPYX1_PYTHON`` or
``.venv-spyx1``) for the §18.6 golden number, and a subprocess in which qwix cannot be imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import spyx.quant as sq
from spyx.ir import LIF, Graph, Linear

ROOT = Path(__file__).resolve().parents[2]
FEEDFORWARD = ("dot_general", "conv_general_dilated")
F32_EPS = float(np.finfo(np.float32).eps)


def _subprocess_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}


# -- import surface (no qwix needed) ------------------------------------------------------------------------
def test_all_has_the_spyx1_names_and_the_graph_names():
    spyx1 = {"available", "binary_activation_error", "bitnet_ternary_rules", "linear_only_rules", "quantize",
             "spiking_feedforward_rules", "weights_only_rules"}
    assert spyx1 <= set(sq.__all__)
    assert {"quantize_graph", "report", "QuantizeResult"} <= set(sq.__all__)
    assert all(hasattr(sq, name) for name in sq.__all__)
    import inspect

    params = inspect.signature(sq.quantize).parameters
    assert list(params) == ["model", "example_inputs", "rules", "mode", "methods", "example_kwargs"]
    assert params["mode"].default == "qat" and params["methods"].default == ("__call__",)


def test_import_spyx_quant_imports_neither_qwix_nor_flax():
    code = "import sys, spyx.quant; print('qwix' in sys.modules, 'flax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=_subprocess_env(), cwd=ROOT).stdout
    assert out.split() == ["False", "False"]


# -- without qwix: a meta-path finder makes ``import qwix`` fail in a fresh interpreter ----------------------
_BLOCK_QWIX = """
import sys
class _NoQwix:
    def find_spec(self, name, path=None, target=None):
        if name == "qwix" or name.startswith("qwix."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None
sys.meta_path.insert(0, _NoQwix())
"""

_WITHOUT_QWIX = _BLOCK_QWIX + """
import json
import spyx.quant as sq
out = {"available": sq.available(), "errors": {}}
calls = {
    "linear_only_rules": lambda: sq.linear_only_rules(),
    "weights_only_rules": lambda: sq.weights_only_rules("int4"),
    "spiking_feedforward_rules": lambda: sq.spiking_feedforward_rules(),
    "bitnet_ternary_rules": lambda: sq.bitnet_ternary_rules(),
    "quantize": lambda: sq.quantize(object(), mode="not-a-mode"),  # qwix is checked before the mode
}
for name, call in calls.items():
    try:
        call()
        out["errors"][name] = None
    except Exception as e:
        out["errors"][name] = [type(e).__name__, str(e)]
out["bae"] = sq.binary_activation_error([[0.0, 1.0, 1.0]], weight_qtype="int2")
out["modules"] = sorted(m for m in ("qwix", "flax") if m in sys.modules)
print(json.dumps(out))
"""


def test_without_qwix_builders_and_quantize_raise_import_errors_that_say_how_to_install():
    proc = subprocess.run([sys.executable, "-c", _WITHOUT_QWIX], capture_output=True, text=True,
                          env=_subprocess_env(), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["available"] is False
    for name, err in out["errors"].items():
        assert err is not None, f"{name} did not raise without qwix"
        kind, msg = err
        assert kind == "ImportError", (name, err)
        assert "qwix" in msg and "pip install 'spyx[quant]'" in msg and "github.com/google/qwix" in msg, msg
    assert out["bae"] == 0.0  # binary_activation_error needs no qwix
    assert out["modules"] == []


# -- binary_activation_error (no qwix) -----------------------------------------------------------------------
def _bae_float64(x, bits: int) -> float:
    """The §9 formula in float64 NumPy: q = 2^(N-1) - 1, s = max|x| / q (1 if 0), max |x - clip(round(x/s)) s|."""
    x = np.asarray(x, np.float32).astype(np.float64)
    q = 2.0 ** (bits - 1) - 1
    a = np.max(np.abs(x))
    s = a / q if a > 0 else 1.0
    return float(np.max(np.abs(x - np.clip(np.round(x / s), -q, q) * s)))


@pytest.mark.parametrize("bits", [2, 3, 4, 8, 16])
def test_binary_activation_error_matches_numpy(bits):
    rng = np.random.default_rng(bits)
    for trial in range(20):
        x = (rng.standard_normal((3, 7)) * rng.uniform(0.01, 10.0)).astype(np.float32)
        got = sq.binary_activation_error(x, weight_qtype=f"int{bits}")
        assert isinstance(got, float)
        # float32 evaluation of x - q s (XLA may fuse it) differs from float64 by a few ulps of max|x|
        tol = 4 * F32_EPS * float(np.max(np.abs(x)))
        assert abs(got - _bae_float64(x, bits)) <= tol, (trial, got, _bae_float64(x, bits))
        assert 0 < got <= 0.5 * np.max(np.abs(x)) / (2 ** (bits - 1) - 1) * (1 + 1e-5)  # half a step at most


@pytest.mark.parametrize("qtype", ["int8", "int4", "int2"])
def test_binary_activation_error_is_exactly_zero_for_spikes(qtype):
    rng = np.random.default_rng(0)
    spikes = (rng.random((4, 6, 5)) < 0.3).astype(np.uint8)
    assert sq.binary_activation_error(spikes, weight_qtype=qtype) == 0.0
    assert sq.binary_activation_error(np.zeros((2, 3)), weight_qtype=qtype) == 0.0  # s = 1 when max|x| = 0
    assert sq.binary_activation_error([[0.0, 0.5, 1.0]], weight_qtype=qtype) > 0.0  # graded: off the grid


def _spyx1_python() -> str | None:
    for py in filter(None, [os.environ.get("SPYX1_PYTHON"), str(ROOT / ".venv-spyx1" / "bin" / "python")]):
        if Path(py).is_file():
            return py
    return None


def test_binary_activation_error_golden_number_and_real_spyx1():
    x = [[0.0, 0.37, 1.0, 0.63]]
    got = sq.binary_activation_error(x)
    assert got == pytest.approx(7.873774e-05, rel=1e-6)  # spyx-api.md §18.6
    assert abs(got - _bae_float64(x, 8)) <= 4 * F32_EPS
    py = _spyx1_python()
    if py is None:
        pytest.skip("Spyx 1.0 environment not found (.venv-spyx1 or SPYX1_PYTHON; scripts/test.sh creates it)")
    cases = [(x, "int8"), ([[0.2, -0.9, 0.45, 0.33]], "int4"), ([[1.0, 0.0, 0.7]], "int2")]
    code = ("import json, sys, spyx.quant as q; "
            "print(json.dumps([q.binary_activation_error(x, weight_qtype=t) for x, t in json.loads(sys.argv[1])]))")
    proc = subprocess.run([py, "-c", code, json.dumps(cases)], capture_output=True, text=True, cwd="/tmp",
                          env={**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": ""})
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [sq.binary_activation_error(x, weight_qtype=t) for x, t in cases] == theirs


@pytest.mark.parametrize(
    "qtype,match",
    [
        ("float8_e4m3fn", "integer qtypes"),
        ("nvfp4", "integer qtypes"),
        ("uint8", "integer qtypes"),
        ("int1", "at least 2 bits"),
        ("int0", "at least 2 bits"),
        ("int", "Malformed integer qtype"),
        ("int8x", "Malformed integer qtype"),
    ],
)
def test_binary_activation_error_rejects_bad_qtypes(qtype, match):
    with pytest.raises(ValueError, match=match):
        sq.binary_activation_error([[0.0, 1.0]], weight_qtype=qtype)


# -- everything below needs qwix -----------------------------------------------------------------------------
needs_qwix = pytest.mark.skipif(not sq.available(), reason="qwix is not installed (pip install 'spyx[quant]')")


@needs_qwix
def test_available_with_qwix():
    assert sq.available() is True


def _fields(rules):
    import qwix

    assert isinstance(rules, list) and len(rules) == 1
    (r,) = rules
    assert isinstance(r, qwix.QuantizationRule)
    return r.module_path, tuple(r.op_names), r.weight_qtype, r.act_qtype, r.tile_size


@needs_qwix
@pytest.mark.parametrize(
    "make,expected",
    [
        (lambda: sq.linear_only_rules(), (".*", FEEDFORWARD, "int8", "int8", None)),
        (lambda: sq.linear_only_rules("int4", None, extra_op_names=("einsum",)),
         (".*", (*FEEDFORWARD, "einsum"), "int4", None, None)),
        (lambda: sq.weights_only_rules(), (".*", FEEDFORWARD, "int8", None, None)),
        (lambda: sq.weights_only_rules("int4", module_path="layers/0", op_names=["dot_general"]),
         ("layers/0", ("dot_general",), "int4", None, None)),
        (lambda: sq.spiking_feedforward_rules(), (".*", FEEDFORWARD, "int8", None, None)),
        (lambda: sq.spiking_feedforward_rules("int2", module_path="fc.*", extra_op_names=("my_op",)),
         ("fc.*", (*FEEDFORWARD, "my_op"), "int2", None, None)),
        (lambda: sq.bitnet_ternary_rules(), (".*", FEEDFORWARD, "int2", "int8", None)),
        (lambda: sq.bitnet_ternary_rules(None), (".*", FEEDFORWARD, "int2", None, None)),
    ],
)
def test_rule_fields(make, expected):
    assert _fields(make()) == expected


@needs_qwix
def test_no_default_rule_quantizes_einsum():
    for rules in (sq.linear_only_rules(), sq.weights_only_rules(), sq.spiking_feedforward_rules(),
                  sq.bitnet_ternary_rules()):
        assert "einsum" not in rules[0].op_names


@needs_qwix
@pytest.mark.parametrize("qtype,tile", [("nvfp4", 16), ("mxfp4", 32), ("mxfp8", 32), ("int8", None),
                                        ("int4", None), ("float8_e4m3fn", None)])
def test_tile_size_auto_fill(qtype, tile):
    assert sq.weights_only_rules(qtype)[0].tile_size == tile
    assert sq.spiking_feedforward_rules(qtype)[0].tile_size == tile
    assert sq.linear_only_rules(qtype, None)[0].tile_size == tile
    assert sq.linear_only_rules(None, qtype)[0].tile_size == tile  # linear_only falls back to act_qtype


@needs_qwix
def test_tile_size_weight_first_and_explicit_wins():
    assert sq.linear_only_rules("nvfp4", "mxfp8")[0].tile_size == 16  # from the weight qtype
    assert sq.linear_only_rules("int8", "mxfp8")[0].tile_size == 32  # the weight is not microscaled
    assert sq.weights_only_rules("nvfp4", tile_size=64)[0].tile_size == 64
    assert sq.spiking_feedforward_rules("mxfp4", tile_size=8)[0].tile_size == 8
    assert sq.linear_only_rules("int8", "int8", tile_size=128)[0].tile_size == 128
    assert sq.bitnet_ternary_rules()[0].tile_size is None


@needs_qwix
@pytest.mark.parametrize("qtype", ["nvfp4", "mxfp4", "mxfp8"])
def test_auto_filled_tile_is_the_one_qwix_requires(qtype):
    """qwix itself is the reference: the auto tile runs, another tile is refused when the model runs."""
    lin = nnx.Linear(64, 8, use_bias=False, rngs=nnx.Rngs(0))
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 64))
    y = sq.quantize(lin, x, rules=sq.weights_only_rules(qtype))(x)
    assert np.all(np.isfinite(np.asarray(y))) and not np.array_equal(np.asarray(y), np.asarray(lin(x)))
    wrong = 64 if qtype == "nvfp4" else 16
    with pytest.raises(ValueError, match="requires a tile size"):
        sq.quantize(lin, x, rules=sq.weights_only_rules(qtype, tile_size=wrong))(x)


class _StepLIF(nnx.Module):
    """One time step of ``Linear -> LIF -> Linear`` with Spyx's stateful protocol (a local stand-in for
    ``spyx.nn.Sequential``): ``initial_state(B) -> V [B, H]``; ``__call__(x [B, I], V) -> (y [B, O], V')`` with
    ``V <- beta V + W1 x + b1``, ``s = H(V - 1)`` (straight-through sigmoid surrogate), ``V' = V - s``,
    ``y = W2 s + b2``."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, *, rngs: nnx.Rngs):
        self.fc1 = nnx.Linear(n_in, n_hidden, rngs=rngs)
        self.fc2 = nnx.Linear(n_hidden, n_out, rngs=rngs)
        self.n_hidden = n_hidden

    def initial_state(self, batch_size: int):
        return jnp.zeros((batch_size, self.n_hidden), jnp.float32)

    def __call__(self, x, v):
        v = 0.9 * v + self.fc1(x)
        soft = jax.nn.sigmoid(4.0 * (v - 1.0))
        s = soft + jax.lax.stop_gradient((v > 1.0).astype(jnp.float32) - soft)
        return self.fc2(s), v - s


def _unroll(model, x_tbi):
    """Outputs ``[T, B, O]`` of ``model`` driven over the time-major input ``[T, B, I]``."""
    v = model.initial_state(x_tbi.shape[1])
    ys = []
    for t in range(x_tbi.shape[0]):
        y, v = model(x_tbi[t], v)
        ys.append(y)
    return jnp.stack(ys)


@needs_qwix
def test_ptq_weight_only_equals_spikes_times_dequantized_weight():
    rng = np.random.default_rng(3)
    lin = nnx.Linear(32, 16, rngs=nnx.Rngs(4))
    spikes = jnp.asarray((rng.random((8, 32)) < 0.4).astype(np.float32))
    q = sq.quantize(lin, spikes, rules=sq.spiking_feedforward_rules(), mode="ptq")
    state = nnx.state(q)
    qvalue = state["kernel"]["array"]["qvalue"][...]
    scale = state["kernel"]["array"]["scale"][...]
    bias = state["bias"][...].reshape(1, -1)
    y = np.asarray(q(spikes))
    assert np.array_equal(y, np.asarray(spikes @ (qvalue.astype(jnp.float32) * scale) + bias))
    ref64 = (np.asarray(spikes, np.float64) @ (np.asarray(qvalue, np.float64) * np.asarray(scale, np.float64))
             + np.asarray(bias, np.float64))
    np.testing.assert_allclose(y, ref64, rtol=0, atol=1e-5)


@needs_qwix
def test_ptq_state_layout_int8_qvalue_and_float32_per_channel_scale():
    model = _StepLIF(6, 12, 3, rngs=nnx.Rngs(0))
    b = 4
    x = jnp.zeros((b, 6))
    kernels = {name: np.asarray(getattr(model, name).kernel[...]) for name in ("fc1", "fc2")}
    q = sq.quantize(model, x, model.initial_state(b), rules=sq.weights_only_rules(), mode="ptq")
    state = nnx.state(q)
    for name, k in kernels.items():
        arr = state[name]["kernel"]["array"]
        qv, s = np.asarray(arr["qvalue"][...]), np.asarray(arr["scale"][...])
        assert qv.dtype == np.int8 and qv.shape == k.shape
        assert s.dtype == np.float32 and s.shape == (1, k.shape[1])  # one scale per output channel
        # independent check of symmetric absmax quantization: every weight within half a step of q s,
        # and the full int8 range used on every output channel
        assert np.all(np.abs(k - qv.astype(np.float64) * s) <= 0.5 * s * (1 + 1e-5))
        assert np.all(np.abs(k).max(axis=0) / s[0] > 126.5) and qv.min() >= -128 and qv.max() <= 127
        np.testing.assert_allclose(s[0], np.abs(k.astype(np.float64)).max(axis=0) / 127.5, rtol=1e-6)  # qwix
        assert sq.is_qwix_quantized(getattr(q, name)) and not sq.is_qwix_quantized(getattr(model, name))


class _EinsumMix(nnx.Module):
    """``y = fc(x) + einsum("bi,ij->bj", x, w_mix)``: the einsum parameter is a recurrent-style weight."""

    def __init__(self, *, rngs: nnx.Rngs):
        self.fc = nnx.Linear(5, 4, use_bias=False, rngs=rngs)
        self.w_mix = nnx.Param(jax.random.normal(rngs.params(), (5, 4)))

    def __call__(self, x):
        return self.fc(x) + jnp.einsum("bi,ij->bj", x, self.w_mix[...])


@needs_qwix
def test_einsum_parameters_stay_float32():
    m = _EinsumMix(rngs=nnx.Rngs(0))
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 5))
    for rules in (sq.linear_only_rules(), sq.spiking_feedforward_rules()):
        state = nnx.state(sq.quantize(m, x, rules=rules, mode="ptq"))
        assert state["w_mix"][...].dtype == jnp.float32
        np.testing.assert_array_equal(np.asarray(state["w_mix"][...]), np.asarray(m.w_mix[...]))
        assert state["fc"]["kernel"]["array"]["qvalue"][...].dtype == jnp.int8


@needs_qwix
@pytest.mark.parametrize("mode", ["qat", "ptq"])
@pytest.mark.parametrize(
    "rules", [sq.linear_only_rules, sq.weights_only_rules, sq.spiking_feedforward_rules, sq.bitnet_ternary_rules]
)
def test_built_in_rules_change_outputs(rules, mode):
    model = _StepLIF(6, 12, 3, rngs=nnx.Rngs(1))
    x = jax.random.normal(jax.random.PRNGKey(2), (5, 4, 6))
    before = np.asarray(_unroll(model, x))
    q = sq.quantize(model, x[0], model.initial_state(4), rules=rules(), mode=mode)
    diff = np.max(np.abs(np.asarray(_unroll(q, x)) - before))
    assert diff > 1e-4, f"{rules.__name__} {mode} left the outputs unchanged (max diff {diff})"
    np.testing.assert_array_equal(np.asarray(_unroll(model, x)), before)  # the float model is untouched


@needs_qwix
def test_qat_model_trains_with_nnx_optimizer():
    model = _StepLIF(6, 16, 2, rngs=nnx.Rngs(5))
    x = 2.0 * jax.random.normal(jax.random.PRNGKey(6), (6, 8, 6))
    target = jax.random.normal(jax.random.PRNGKey(7), (8, 2))
    q = sq.quantize(model, x[0], model.initial_state(8))  # default: int8 weights and activations, QAT
    assert sq.is_qwix_quantized(q.fc1)
    w0 = np.asarray(q.fc1.kernel[...])
    opt = nnx.Optimizer(q, optax.adam(2e-2), wrt=nnx.Param)

    def loss_fn(m):
        return jnp.mean((jnp.mean(_unroll(m, x), axis=0) - target) ** 2)

    @nnx.jit
    def step(m, opt):
        loss, grads = nnx.value_and_grad(loss_fn)(m)
        opt.update(m, grads)
        return loss

    losses = [float(step(q, opt)) for _ in range(6)]
    assert np.all(np.isfinite(losses)) and np.all(np.diff(losses) < 0), losses
    assert losses[-1] < 0.85 * losses[0], losses
    assert not np.array_equal(np.asarray(q.fc1.kernel[...]), w0)  # gradients reach the quantized first layer


@needs_qwix
def test_unknown_mode_raises():
    lin = nnx.Linear(3, 2, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"Unknown quantization mode 'int8'; expected 'qat' or 'ptq'\."):
        sq.quantize(lin, jnp.zeros((1, 3)), mode="int8")


def test_is_qwix_quantized_on_plain_objects():
    assert not sq.is_qwix_quantized(nnx.Linear(3, 2, rngs=nnx.Rngs(0)))
    assert not sq.is_qwix_quantized(object())


# -- how the two quantizers connect (docs/quantization.md, "Which quantization to use when") ----------------
@needs_qwix
@pytest.mark.parametrize("rules", [sq.spiking_feedforward_rules, sq.linear_only_rules])
def test_qat_weights_copied_back_give_the_qat_forward_under_ptq(rules):
    """A QAT model's parameters are float weights in the float model's layout: put back into the float model
    (which export accepts), a PTQ of it computes exactly what the QAT model simulated."""
    model = _StepLIF(6, 16, 2, rngs=nnx.Rngs(5))
    x = 2.0 * jax.random.normal(jax.random.PRNGKey(6), (6, 8, 6))
    q = sq.quantize(model, x[0], model.initial_state(8), rules=rules())
    opt = nnx.Optimizer(q, optax.adam(2e-2), wrt=nnx.Param)
    opt.update(q, nnx.grad(lambda m: jnp.sum(_unroll(m, x) ** 2))(q))  # one training step moves the weights
    trained = nnx.clone(model)
    nnx.update(trained, nnx.state(q, nnx.Param))
    assert not sq.is_qwix_quantized(trained.fc1)
    np.testing.assert_array_equal(np.asarray(trained.fc1.kernel[...]), np.asarray(q.fc1.kernel[...]))
    ptq = sq.quantize(trained, x[0], trained.initial_state(8), rules=rules(), mode="ptq")
    np.testing.assert_array_equal(np.asarray(_unroll(ptq, x)), np.asarray(_unroll(q, x)))


@needs_qwix
def test_quantize_graph_stores_qwix_integers_when_given_its_scales():
    """quantize_graph computes its own scale (absmax / 127) unless given one; with qwix's scale and integers
    (nnx layout [in, out] -> NIR layout [out, in]) the integer graph holds exactly qwix's qvalue."""
    lin = nnx.Linear(6, 4, use_bias=False, rngs=nnx.Rngs(2))
    kernel = np.asarray(lin.kernel[...])
    arr = nnx.state(sq.quantize(lin, jnp.ones((1, 6)), rules=sq.weights_only_rules(), mode="ptq"))["kernel"]["array"]
    qvalue, scale = np.asarray(arr["qvalue"][...]), np.asarray(arr["scale"][...]).reshape(-1)
    f = np.float32
    lif = LIF(tau=np.full(4, 0.01, f), r=np.ones(4, f), v_leak=np.zeros(4, f), v_threshold=np.ones(4, f),
              v_reset=np.zeros(4, f))
    g = Graph.sequential([("fc", Linear(weight=kernel.T.copy())), ("lif", lif)], input_shape=(6,))
    r = sq.quantize_graph(g, bits=8, scales={"fc": scale}, integers={"fc": qvalue.T.astype(f)})
    np.testing.assert_array_equal(r.graph.nodes["fc"].weight, qvalue.T.astype(f))
    np.testing.assert_array_equal(r.fake_graph.nodes["fc"].weight, (qvalue.astype(f) * scale.reshape(1, -1)).T)
    np.testing.assert_allclose(r.graph.nodes["lif"].v_threshold, 1.0 / scale.astype(np.float64), rtol=1e-6)
    own = sq.quantize_graph(g, bits=8)
    own_scale = np.abs(kernel.astype(np.float64)).max(axis=0) / 127
    np.testing.assert_allclose(own.layers[0].scale, own_scale, rtol=1e-6)  # not qwix's absmax / 127.5
