"""The parity cases: one function per case, run once with the real Spyx 1.0 and once with our spyx.

Each case is a function ``f(S) -> result`` where ``S`` gives the submodules of the spyx under test
(``S.nn``, ``S.axn``, ``S.fn``, ``S.data``, ``S.nir``, ``S.optimize``, ``S.quant``, ``S.mod("experimental.raven")``).
It builds its model with the public names of the contract (``/work/shared/spyx-api.md``), with fixed
``nnx.Rngs`` seeds and ``jax.random`` keys, and returns a nested dict of arrays and plain values: the inputs, the
model's ``nnx.state`` as constructed, outputs, final states and the gradients of a scalar loss. The same function
runs on both sides, so "the same constructor calls with the same seeds" holds by construction; only ``S`` differs.

Error cases (``error=`` given) must raise; the record keeps the exception type and message, and the test checks
that ours raises the same type (or a subclass) with the contract's message ``fragment``.

This module imports only jax, flax, numpy, optax and nir (present in both environments) and never ``spyx``. Cases
must not rely on implicit rank promotion (our tests run with ``jax_numpy_rank_promotion="raise"``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

try:  # loaded as tests.compat.compat_cases (pytest) or as a top-level module (the reference script)
    from . import compat_record as R
except ImportError:
    import compat_record as R  # type: ignore[no-redef]

AREAS = ("axn", "nn", "fn", "data", "nir", "optimize", "quant", "errors")


@dataclass(frozen=True)
class Case:
    name: str
    area: str
    fn: Callable
    error: str | None = None  # expected exception type name (Spyx 1.0's)
    fragment: str | None = None  # the message fragment the contract names
    needs: tuple[str, ...] = ()  # "qwix": both sides need qwix; "no_qwix" / "no_tonic": that package absent
    exact: tuple[str, ...] = ()  # extra fnmatch patterns of float leaves compared exactly


CASES: dict[str, Case] = {}


def add(area: str, name: str, fn: Callable, **kw) -> None:
    assert area in AREAS, area
    full = f"{area}.{name}"
    assert full not in CASES, full
    CASES[full] = Case(full, area, fn, **kw)


def case(area: str, name: str, **kw):
    def deco(fn):
        add(area, name, fn, **kw)
        return fn

    return deco


def names(area: str) -> list[str]:
    return [n for n, c in CASES.items() if c.area == area]


class Spyx:
    """The submodules of one spyx package (ours, or the real 1.0), imported on first use."""

    def __init__(self, root):
        self.root = root

    def mod(self, dotted: str):
        return importlib.import_module(f"{self.root.__name__}.{dotted}")

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.mod(name)


def run_case(name: str, root, *, catch: bool = True) -> R.Record:
    """Run case ``name`` with the spyx package ``root``. Exceptions are recorded for error cases (and for every case
    when ``catch``); otherwise they propagate."""
    c = CASES[name]
    t0 = time.perf_counter()
    try:
        out = c.fn(Spyx(root))
    except Exception as exc:
        if c.error is None and not catch:
            raise
        rec = R.Record(error=R.error_record(exc))
    else:
        rec = R.flatten(out)
    rec.seconds = time.perf_counter() - t0
    return rec


# =============================================================================================== helpers

B, T, N = 2, 6, 4


def normal(seed: int, shape, scale: float = 1.0, shift: float = 0.0, dtype=jnp.float32):
    """Fixed pseudo-random inputs (NumPy's generator: identical in both environments, and no XLA compile per
    shape as jax.random would need)."""
    z = np.random.default_rng(seed).standard_normal(shape)
    return jnp.asarray(shift + scale * z, dtype)


def uniform(seed: int, shape, low: float = 0.0, high: float = 1.0):
    return jnp.asarray(np.random.default_rng(seed).uniform(low, high, shape), jnp.float32)


def wsum(tree, seed: int):
    """A scalar that depends on every float leaf of ``tree``: sum(leaf * fixed pseudo-random weights)."""
    total = jnp.zeros((), jnp.float32)
    for i, leaf in enumerate(jax.tree_util.tree_leaves(tree)):
        leaf = jnp.asarray(leaf)
        if jnp.issubdtype(leaf.dtype, jnp.floating):
            w = np.random.default_rng([seed, i]).standard_normal(leaf.shape).astype(np.float32)
            total = total + jnp.sum(leaf.astype(jnp.float32) * w)
    return total


def grads(model, apply, *args, seed: int = 11) -> dict:
    """``apply(model, *args)`` (as ``value``), the loss ``wsum(value)``, and its gradients w.r.t. the model's
    ``nnx.Param``s and every argument.

    Functional (split/merge + jax.grad, jitted as one program, so one XLA compile per case) so that it does not
    depend on nnx.grad details; integer parameters get float0 gradients (``allow_int``)."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def loss(p, *a):
        value = apply(nnx.merge(graphdef, p, rest), *a)
        return wsum(value, seed), value

    vg = jax.value_and_grad(loss, argnums=tuple(range(1 + len(args))), has_aux=True, allow_int=True)
    (total, value), g = jax.jit(vg)(params, *args)
    return {"value": value, "loss": total, "params": g[0], "args": list(g[1:])}


def input_grads(fn, *args, seed: int = 13) -> dict:
    """``fn(*args)`` (as ``value``), the loss ``wsum(value)`` and its gradients w.r.t. every argument (jitted)."""
    vg = jax.value_and_grad(lambda *a: (wsum(fn(*a), seed), fn(*a)), argnums=tuple(range(len(args))), has_aux=True)
    (total, value), g = jax.jit(vg)(*args)
    return {"value": value, "loss": total, "args": list(g)}


def pyval(v):
    """Attribute values as recordable data (tuples of numpy ints stay as they are; classes become names)."""
    if isinstance(v, type):
        return v.__name__
    if callable(v) and not hasattr(v, "__array__"):
        return f"<callable {type(v).__name__}>"
    return v


LAYER_ATTRS = ("hidden_shape", "layer_shape", "threshold", "window_shape", "strides", "padding", "channel_axis",
               "in_features", "out_features", "use_bias", "kernel_size", "dtype")


def describe(layer, batch_sizes=(2, 1)) -> dict:
    d = {"class": type(layer).__name__, "state": nnx.state(layer), "has_spike": hasattr(layer, "spike"),
         "has_initial_state": hasattr(layer, "initial_state")}
    for a in LAYER_ATTRS:
        if hasattr(layer, a) and not (a == "dtype" and type(layer).__name__ in ("Linear", "Conv")):
            v = getattr(layer, a)
            d[a] = jnp.dtype(v).name if a == "dtype" else pyval(v)
    if hasattr(layer, "initial_state"):
        d["initial_state"] = {str(b): layer.initial_state(b) for b in batch_sizes}
    return d


@contextlib.contextmanager
def captured():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        yield buf


# =============================================================================================== axn

GRID = [-2.0, -1.5, -1.0, -0.5, -0.25, -0.01, -1e-3, 0.0, 1e-3, 0.01, 0.25, 0.5, 1.0, 1.5, 2.0]

SURROGATE_CALLS = {
    "superspike": [((), {}), ((5.0,), {}), ((), {"k": 100.0}), ((25,), {})],
    "arctan": [((), {}), ((1.0,), {}), ((), {"k": 0.5})],
    "tanh": [((), {}), ((2,), {}), ((), {"k": 0.5})],
    "triangular": [((), {}), ((1.0,), {}), ((), {"k": 0.5})],
    "boxcar": [((), {}), ((1.0, 1.0), {}), ((), {"width": 3.0, "height": 0.25}), ((0.5,), {})],
    "custom": [
        ((), {}),
        ((lambda x: jnp.ones_like(x),), {}),
        ((), {"bwd": lambda x: 2.0 * x, "fwd": lambda x: (x > 0.5).astype(x.dtype)}),
        ((lambda x: jnp.exp(-x * x),), {"fwd": jax.nn.sigmoid}),
    ],
}


def _surrogate_case(factory: str, args, kwargs, edge: float | None):
    def run(S):
        f = getattr(S.axn, factory)(*args, **kwargs)
        pts = list(GRID)
        if edge is not None:  # boxcar window edges and just inside/outside them
            pts += [edge, -edge, edge * (1 - 1e-6), -edge * (1 - 1e-6), edge * (1 + 1e-6), -edge * (1 + 1e-6)]
        x = jnp.asarray(pts, jnp.float32)
        x2 = normal(5, (3, 4), 1.0)
        g2 = normal(6, (3, 4), 1.0)
        x16 = x.astype(jnp.float16)

        def all_of(x, x2, g2, x16):  # one jitted program per case (one XLA compile)
            _, vjp = jax.vjp(f, x2)
            return {"fwd": f(x), "grad": jax.grad(lambda u: f(u).sum())(x), "fwd_2d": f(x2), "vjp_2d": vjp(g2)[0],
                    "fwd_f16": f(x16), "grad_f16": jax.grad(lambda u: f(u).sum())(x16)}

        res = jax.jit(all_of)(x, x2, g2, x16)
        return {"inputs": {"grid": x, "x2": x2, "cotangent": g2}, "eager_fwd": f(x), **res}
    return run


for _factory, _calls in SURROGATE_CALLS.items():
    for _i, (_args, _kw) in enumerate(_calls):
        _edge = None
        if _factory == "boxcar":
            _edge = (_kw.get("width", _args[0] if _args else 2.0)) / 2
        add("axn", f"{_factory}.{_i}", _surrogate_case(_factory, _args, _kw, _edge))


@case("axn", "heaviside")
def _heaviside(S):
    h = S.axn.heaviside
    x = jnp.asarray(GRID, jnp.float32)
    xi = jnp.arange(-3, 4, dtype=jnp.int32)
    x2 = normal(5, (3, 4))
    res = jax.jit(lambda x, xi, x2: {"fwd_int32": h(xi), "fwd_f16": h(x.astype(jnp.float16)), "fwd_2d": h(x2),
                                     "grad": jax.grad(lambda u: h(u).sum())(x)})(x, xi, x2)
    return {"fwd": h(x), **res}


@case("axn", "default_activation_of_layers")
def _default_activation(S):
    # The layers' default spike function is superspike(k=25): same forward and surrogate.
    lif = S.nn.LIF((len(GRID),), beta=0.5, rngs=nnx.Rngs(0))
    x = jnp.asarray(GRID, jnp.float32)
    return {"fwd": lif.spike(x), "grad": jax.grad(lambda u: lif.spike(u).sum())(x)}


# =============================================================================================== nn: neurons

DECAYS = {"IF": (), "LIF": ("beta",), "LI": ("beta",), "ALIF": ("beta", "gamma"), "CuBaLIF": ("alpha", "beta"),
          "RIF": (), "RLIF": ("beta",), "RCuBaLIF": ("alpha", "beta"), "PSU_LIF": ("beta",),
          "AssociativeLIF": ("beta",)}
TWO_PART = {"ALIF", "CuBaLIF", "RCuBaLIF"}
RECURRENT = {"RIF", "RLIF", "RCuBaLIF"}
SPIKING = [c for c in DECAYS if c != "LI"]

SCALAR_FLOAT = {"beta": 0.9, "alpha": 0.8, "gamma": 0.7}
SCALAR_INT = {"beta": 1, "alpha": 1, "gamma": 0}
PER_UNIT = {"beta": [-0.2, 0.3, 0.95, 1.3], "alpha": [0.5, 1.2, -0.1, 0.9], "gamma": [0.9, 0.1, 1.5, -0.3]}
THRESHOLDS = [0.5, 1.0, 1.5, 0.8]

SURROGATES = {
    "superspike": lambda a: a.superspike(10.0),
    "arctan": lambda a: a.arctan(1.0),
    "tanh": lambda a: a.tanh(2),
    "triangular": lambda a: a.triangular(1.0),
    "boxcar": lambda a: a.boxcar(1.0, 0.8),
    "custom": lambda a: a.custom(),
}


def out_key(cls: str) -> str:
    return "spikes" if cls in SPIKING else "out"


def state_shape(cls: str, hidden=(N,)):
    return (B, 2 * hidden[-1]) if cls in TWO_PART else (B, *hidden)


def neuron(S, cls: str, hidden=(N,), *, rngs=None, **kw):
    ctor = getattr(S.nn, cls)
    return ctor(hidden, **kw, rngs=rngs if rngs is not None else nnx.Rngs(0))


def run_block(S, model, x, state=None, *, batch_major=False, key="spikes", seed=11) -> dict:
    """``run`` over ``x`` (outputs, final state) and the gradients of a loss of both, from one jitted program."""
    g = grads(model, lambda m, xx, ss: S.nn.run(m, xx, ss, batch_major=batch_major), x, state, seed=seed)
    out, final = g.pop("value")
    return {"inputs": {"x": x, "state": state}, key: out, "final_state": final, "grads": g}


def _neuron_default(cls):
    def run(S):
        layer = neuron(S, cls, rngs=nnx.Rngs(0))
        res = {"layer": describe(layer)}
        x = normal(1, (B, N), 1.5, 0.3)
        st = normal(2, state_shape(cls), 1.5, 0.5)
        out, new = layer(x, st)
        g = grads(layer, lambda m, xx, ss: m(xx, ss), x, st)
        g_out, g_new = g.pop("value")
        res["step"] = {"inputs": {"x": x, "state": st}, out_key(cls): out, "state": new,
                       f"jit_{out_key(cls)}": g_out, "jit_state": g_new, "grads": g}
        xs = normal(3, (T, B, N), 1.2, 0.4)
        res["run"] = run_block(S, layer, xs, key=out_key(cls))
        eager_out, eager_final = S.nn.run(layer, xs)
        res["run_eager"] = {out_key(cls): eager_out, "final_state": eager_final}
        return res

    return run


def _neuron_variants(cls):
    """Three constructions, run and differentiated in one jitted program (one XLA compile):

    * ``scalar_float``: float decays (0-d float32 Params) and a float threshold; an explicit initial state;
    * ``scalar_int``: int decays (0-d int32 Params, float0 gradients), an int threshold; ``batch_major=True``;
    * ``per_unit``: drawn decays overwritten through ``layer.<decay>[...] = array`` with values outside [0, 1]
      (clipped at use, zero gradient there), an array threshold, a larger recurrent weight."""

    def run(S):
        kf = {d: SCALAR_FLOAT[d] for d in DECAYS[cls]}
        ki = {d: SCALAR_INT[d] for d in DECAYS[cls]}
        ku = {}
        if cls != "LI":
            kf["threshold"], ki["threshold"] = 0.7, 2
            ku["threshold"] = jnp.asarray(THRESHOLDS, jnp.float32)
        lf = neuron(S, cls, rngs=nnx.Rngs(1), **kf)
        li = neuron(S, cls, rngs=nnx.Rngs(2), **ki)
        lu = neuron(S, cls, rngs=nnx.Rngs(3), **ku)
        per_unit_as_constructed = nnx.state(lu)
        for d in DECAYS[cls]:
            getattr(lu, d)[...] = jnp.asarray(PER_UNIT[d], jnp.float32)
        if cls in RECURRENT:
            lu.recurrent_w[...] = normal(8, (N, N), 0.3)
        st = normal(4, state_shape(cls), 1.0, 0.3)
        xf, xi, xu = normal(3, (T, B, N), 1.2, 0.4), normal(7, (B, T, N), 1.5, 0.6), normal(9, (T, B, N), 1.2, 0.5)

        def apply(ms, a, b, c, s0):
            return [S.nn.run(ms[0], a, s0), S.nn.run(ms[1], b, batch_major=True), S.nn.run(ms[2], c)]

        g = grads(nnx.List([lf, li, lu]), apply, xf, xi, xu, st)
        v = g.pop("value")
        k = out_key(cls)
        return {"scalar_float": {"layer": describe(lf), "inputs": {"x": xf, "state": st}, k: v[0][0],
                                 "final_state": v[0][1]},
                "scalar_int": {"layer": describe(li), "inputs": xi, k: v[1][0], "final_state": v[1][1]},
                "per_unit": {"state_as_constructed": per_unit_as_constructed, "layer": describe(lu), "inputs": xu,
                             k: v[2][0], "final_state": v[2][1]},
                "grads": g}

    return run


def _neuron_activations(cls):
    """One layer per surrogate (same seed), all run and differentiated in one jitted program."""

    def run(S):
        layers = [neuron(S, cls, rngs=nnx.Rngs(4), activation=SURROGATES[s](S.axn)) for s in SURROGATES]
        x = normal(10, (T, B, N), 1.2, 0.5)
        g = grads(nnx.List(layers), lambda ms, xx: [S.nn.run(m, xx) for m in ms], x)
        values = g.pop("value")
        res = {"inputs": x, "loss": g["loss"], "grad_x": g["args"][0], "grad_params": g["params"]}
        for i, s in enumerate(SURROGATES):
            res[s] = {"layer": describe(layers[i], (2,)), "spikes": values[i][0], "final_state": values[i][1]}
        return res

    return run


for _cls in DECAYS:
    add("nn", f"{_cls}.default", _neuron_default(_cls))
    add("nn", f"{_cls}.variants", _neuron_variants(_cls))
    if _cls in SPIKING:
        add("nn", f"{_cls}.activations", _neuron_activations(_cls))


@case("nn", "draws.golden_18_1")
def _draws(S):
    """§18.1: the first and second draws of one nnx.Rngs(0) stream, per class."""
    nn = S.nn
    out = {}
    for cls, hidden in [("LIF", (4,)), ("ALIF", (4,)), ("CuBaLIF", (4,)), ("RLIF", (3,)), ("RCuBaLIF", (3,)),
                        ("RIF", (3,)), ("PSU_LIF", (4,)), ("AssociativeLIF", (4,)), ("LI", (4,))]:
        out[cls] = nnx.state(getattr(nn, cls)(hidden, rngs=nnx.Rngs(0)))
    out["LIF_beta_0.8"] = nnx.state(nn.LIF((4,), beta=0.8, rngs=nnx.Rngs(0)))
    out["LI_beta_0.5"] = nnx.state(nn.LI((4,), beta=0.5, rngs=nnx.Rngs(0)))
    # one shared stream: the second layer gets the next draw
    rngs = nnx.Rngs(0)
    out["shared"] = [nnx.state(nn.LIF((4,), rngs=rngs)), nnx.state(nn.CuBaLIF((4,), rngs=rngs)),
                     nnx.state(nn.IF((4,), rngs=rngs)), nnx.state(nn.RLIF((2,), rngs=rngs))]
    out["large_LIF_beta_min_max"] = [jnp.min(nn.LIF((4096,), rngs=nnx.Rngs(0)).beta[...]),
                                     jnp.max(nn.LIF((4096,), rngs=nnx.Rngs(0)).beta[...])]
    return out


@case("nn", "hidden_3d")
def _hidden_3d(S):
    hidden = (2, 3, 2)
    x = normal(12, (T, B, *hidden), 1.2, 0.5)
    classes = ("IF", "LIF", "PSU_LIF", "LI")
    layers = [neuron(S, cls, hidden, rngs=nnx.Rngs(0)) for cls in classes]
    g = grads(nnx.List(layers), lambda ms, xx: [S.nn.run(m, xx) for m in ms], x)
    v = g.pop("value")
    res = {cls: {"layer": describe(lay), out_key(cls): v[i][0], "final_state": v[i][1]}
           for i, (cls, lay) in enumerate(zip(classes, layers, strict=True))}
    return {**res, "inputs": x, "grads": g}


@case("nn", "IF.rngs_ignored")
def _if_rngs(S):
    a = S.nn.IF((N,))
    b = S.nn.IF((N,), rngs=nnx.Rngs(0))
    x = normal(3, (T, B, N), 1.2, 0.4)
    return {"no_rngs": {"layer": describe(a), "spikes": S.nn.run(a, x)[0]},
            "rngs": {"layer": describe(b), "spikes": S.nn.run(b, x)[0]}}


@case("nn", "golden_18_4")
def _golden_steps(S):
    nn = S.nn
    cuba = nn.CuBaLIF((1,), alpha=0.9, beta=0.8, threshold=1.0, rngs=nnx.Rngs(0))
    alif = nn.ALIF((2,), beta=0.9, gamma=0.8, threshold=1.0, rngs=nnx.Rngs(0))
    lif = nn.LIF((3,), beta=0.5, rngs=nnx.Rngs(0))
    psu = nn.PSU_LIF((4,), rngs=nnx.Rngs(0))
    x4 = 1.5 * jax.random.normal(jax.random.PRNGKey(2), (5, 1, 4))

    @jax.jit  # one program instead of one compile per eager op
    def all_of(x4):
        s1, st1 = cuba(jnp.asarray([[0.3]]), jnp.asarray([[2.0, 0.5]]))
        s2, st2 = alif(jnp.asarray([[0.5, 0.5]]), jnp.asarray([[1.5, 0.2, 0.3, 0.6]]))
        s3, st3 = nn.run(lif, 0.8 * jnp.ones((4, 2, 3)))
        return {"cubalif": {"spikes": s1, "state": st1}, "alif": {"spikes": s2, "state": st2},
                "lif_run": {"spikes": s3, "state": st3}, "psu_parallel": {"spikes": psu.parallel(x4)}}

    return all_of(x4)


# ---- PSU_LIF.parallel, AssociativeLIF


def _parallel_case(cls):
    """``parallel`` (and ``run`` for comparison) with the drawn, a scalar, a per-unit (out of [0, 1]) beta and a
    non-default surrogate, in one jitted program; plus the eager and ``nnx.jit`` forms of the first."""

    def run(S):
        layers = {"default": neuron(S, cls, rngs=nnx.Rngs(0)), "scalar": neuron(S, cls, beta=0.7, rngs=nnx.Rngs(0)),
                  "per_unit": neuron(S, cls, rngs=nnx.Rngs(0)),
                  "arctan": neuron(S, cls, activation=S.axn.arctan(1.0), rngs=nnx.Rngs(0))}
        layers["per_unit"].beta[...] = jnp.asarray(PER_UNIT["beta"], jnp.float32)
        x = normal(2, (5, B, N), 1.5)
        x1 = x[:, :1]
        g = grads(nnx.List(list(layers.values())),
                  lambda ms, xx, x1: [{"parallel": m.parallel(xx), "run": S.nn.run(m, xx)[0],
                                       "parallel_b1": m.parallel(x1)} for m in ms], x, x1)
        v = g.pop("value")
        res = {k: {"layer": describe(lay), "parallel_spikes": v[i]["parallel"], "run_spikes": v[i]["run"],
                   "parallel_b1_spikes": v[i]["parallel_b1"]} for i, (k, lay) in enumerate(layers.items())}
        res["eager_parallel_spikes"] = layers["default"].parallel(x)
        res["nnx_jit_parallel_spikes"] = nnx.jit(lambda m, xx: m.parallel(xx))(layers["default"], x)
        return {**res, "inputs": x, "grads": g}

    return run


for _cls in ("PSU_LIF", "AssociativeLIF"):
    add("nn", f"{_cls}.parallel", _parallel_case(_cls))


@case("nn", "AssociativeLIF.beta_conversions")
def _assoc_static(S):
    A = S.nn.AssociativeLIF
    inst = A((N,), rngs=nnx.Rngs(0))
    arr = jnp.asarray([0.5, 0.9, 0.99, 1.0], jnp.float32)
    return {
        "from_snntorch_scalar": A.beta_from_snntorch(0.9),
        "from_snntorch_array": A.beta_from_snntorch(arr),
        "from_snntorch_numpy": A.beta_from_snntorch(np.asarray([0.2, 0.7])),
        "to_snntorch_scalar": A.snntorch_beta_from_beta(0.9),
        "to_snntorch_array": A.snntorch_beta_from_beta(arr),
        "round_trip": A.snntorch_beta_from_beta(A.beta_from_snntorch(arr)),
        "on_instance": inst.beta_from_snntorch(arr),
        "is_psu_subclass": issubclass(A, S.nn.PSU_LIF),
        "grad": jax.grad(lambda b: A.beta_from_snntorch(b).sum())(arr),
    }


@case("nn", "_leaky_associative_op")
def _assoc_op(S):
    op = S.nn._leaky_associative_op
    a1, b1, a2, b2 = normal(1, (3,)), normal(2, (3,)), normal(3, (3,)), normal(4, (3,))
    A = jnp.broadcast_to(jnp.asarray(0.8, jnp.float32), (5, 2, 3))
    x = normal(5, (5, 2, 3))
    return jax.jit(lambda *a: {"combine": op((a[0], a[1]), (a[2], a[3])),
                               "scan": jax.lax.associative_scan(op, (a[4], a[5]), axis=0)})(a1, b1, a2, b2, A, x)


# ---- ActivityRegularization, PopulationCode, Flatten, sum_pool / SumPool


ACTREG = {"int": (4, {}), "tuple_batch_size_ignored": ((4,), {"batch_size": 7}), "list_2d": ([2, 3], {}),
          "int32": (4, {"dtype": jnp.int32}), "float16": ((4,), {"dtype": jnp.float16})}


@case("nn", "ActivityRegularization")
def _actreg(S):
    nn = S.nn
    res, models, xs = {}, [], []
    for k, (hidden, kw) in ACTREG.items():
        ar = nn.ActivityRegularization(hidden, **kw)
        size = tuple(ar.hidden_shape)
        models.append(nn.Sequential(nn.LIF(size, beta=0.8, rngs=nnx.Rngs(0)), ar))
        xs.append(normal(3, (T, B, *size), 1.2, 0.5))
        spikes = (normal(4, (B, *size)) > 0).astype(jnp.float32)
        count0 = ar.initial_state(B)
        res[k] = {"layer": describe(ar, (3, 1)), "step": ar(spikes, count0),
                  "step_twice": ar(spikes, ar(spikes, count0)[1])}
    g = grads(nnx.List(models), lambda ms, *xx: [nn.run(m, x) for m, x in zip(ms, xx, strict=True)], *xs)
    for (k, v), x in zip(zip(ACTREG, g.pop("value"), strict=True), xs, strict=True):
        res[k].update(inputs=x, spikes=v[0], final_state=v[1])
    return {**res, "grads": g}


@case("nn", "ActivityRegularization.nnx_jit")
def _actreg_jit(S):
    nn = S.nn
    model = nn.Sequential(nn.LIF((N,), beta=0.9, rngs=nnx.Rngs(0)), nn.ActivityRegularization((N,)))
    x = normal(3, (T, B, N), 1.2, 0.5)
    out, final = nnx.jit(lambda m, xx: nn.run(m, xx))(model, x)
    return {"spikes": out, "final_state": final}


@case("nn", "PopulationCode")
def _popcode(S):
    pc2 = S.nn.PopulationCode(2)
    pc3 = S.nn.PopulationCode(3)
    xf = normal(3, (2, 3, 6))
    return {"int": pc2(jnp.arange(12).reshape(2, 6)), "float": pc3(xf), "float_pc2": pc2(xf),
            "grad": input_grads(pc3, xf)}


@case("nn", "Flatten")
def _flatten(S):
    f = S.nn.Flatten()
    x4 = normal(1, (2, 3, 4, 5))
    x2 = normal(2, (2, 7))
    return {"layer": describe(f), "out4": f(x4), "out2": f(x2), "grad": input_grads(f, x4)}


SUM_POOLS = {
    "int_valid": ((2, 2, "VALID"), {}, (2, 6, 5, 3)),
    "int_same": ((2, 2, "SAME"), {}, (2, 6, 5, 3)),
    "int_stride1_same": ((3, 1, "SAME"), {}, (2, 6, 5, 3)),
    "tuple2_valid": (((2, 2), (2, 2), "VALID"), {}, (2, 6, 5, 3)),
    "tuple2_same": (((3, 2), (1, 2), "SAME"), {}, (2, 6, 5, 3)),
    "tuple1_fallback": (((2,), (2,), "VALID"), {}, (2, 6, 5, 4)),
    "full_rank": (((1, 2, 2, 1), (1, 2, 2, 1), "VALID"), {}, (2, 6, 5, 3)),
    "full_rank_pool_channels": (((1, 2, 1, 3), (1, 1, 1, 3), "VALID"), {}, (2, 6, 5, 3)),
    "channel_none": ((2, 1, "VALID"), {"channel_axis": None}, (2, 6, 5, 3)),
    "channel_zero": ((2, 2, "VALID"), {"channel_axis": 0}, (2, 6, 5, 3)),
    "channels_first_int": ((2, 2, "VALID"), {"channel_axis": 1}, (2, 3, 6, 5)),
    "channels_first_tuple": (((2, 3), (2, 1), "SAME"), {"channel_axis": 1}, (2, 3, 6, 5)),
    "channel_axis_3": ((2, 2, "SAME"), {"channel_axis": 3}, (2, 6, 5, 3)),
    "channel_axis_neg3": (((2, 2), (2, 2), "VALID"), {"channel_axis": -3}, (2, 3, 6, 5)),
    "rank3": ((2, 2, "SAME"), {}, (2, 7, 3)),
    "mixed_int_window_tuple_stride": ((2, (1, 2), "VALID"), {}, (2, 6, 5, 3)),
}


def _sum_pool_case(args, kw, shape):
    def run(S):
        x = normal(1, shape)
        pool = S.nn.SumPool(*args, **kw)

        def apply(v):  # one jitted program
            return {"function": S.nn.sum_pool(v, *args, **kw), "module": pool(v),
                    "ones": S.nn.sum_pool(jnp.ones(shape), *args, **kw)}

        g = input_grads(apply, x)
        return {"inputs": x, **g.pop("value"), "grads": g, "module_attrs": describe(pool)}

    return run


for _n, (_a, _k, _shape) in SUM_POOLS.items():
    add("nn", f"sum_pool.{_n}", _sum_pool_case(_a, _k, _shape))


@case("nn", "StatefulLayer.isinstance")
def _stateful(S):
    nn = S.nn
    rngs = nnx.Rngs(0)
    objs = {"LIF": nn.LIF((2,), rngs=rngs), "LI": nn.LI((2,), rngs=rngs), "IF": nn.IF((2,)),
            "ActivityRegularization": nn.ActivityRegularization(2),
            "Sequential": nn.Sequential(nn.LIF((2,), rngs=rngs)), "Linear": nnx.Linear(2, 2, rngs=rngs),
            "SumPool": nn.SumPool(2, 2, "VALID"), "Flatten": nn.Flatten()}
    return {k: isinstance(v, nn.StatefulLayer) for k, v in objs.items()}


# ---- Sequential and whole models


def _model(S, kind: str):
    nn = S.nn
    rngs = nnx.Rngs(0)
    if kind == "basic":
        return nn.Sequential(nnx.Linear(3, 5, rngs=rngs), nn.LIF((5,), rngs=rngs), nnx.Linear(5, 2, rngs=rngs),
                             nn.LI((2,), rngs=rngs)), (3,)
    if kind == "relu":
        return nn.Sequential(nnx.Linear(3, 4, rngs=rngs), jax.nn.relu, nnx.Linear(4, 4, rngs=rngs),
                             nn.IF((4,), threshold=0.5), nn.Flatten(), jnp.tanh), (3,)
    if kind == "nested":
        return nn.Sequential(nn.Sequential(nnx.Linear(3, 4, rngs=rngs), nn.LIF((4,), rngs=rngs)),
                             nn.Sequential(nnx.Linear(4, 4, rngs=rngs), nn.CuBaLIF((4,), rngs=rngs)),
                             nnx.Linear(4, 2, rngs=rngs), nn.LI((2,), rngs=rngs)), (3,)
    if kind == "conv":
        return nn.Sequential(nnx.Conv(2, 4, (3, 3), rngs=rngs), nn.LIF((6, 6, 4), rngs=rngs),
                             nn.SumPool(2, 2, "VALID"), nn.Flatten(), nnx.Linear(36, 3, rngs=rngs),
                             nn.LI((3,), rngs=rngs)), (6, 6, 2)
    if kind == "actreg":
        return nn.Sequential(nnx.Linear(3, 4, rngs=rngs), nn.RLIF((4,), rngs=rngs), nn.ActivityRegularization(4),
                             nnx.Linear(4, 4, use_bias=False, rngs=rngs), nn.PSU_LIF((4,), rngs=rngs),
                             nnx.Linear(4, 2, rngs=rngs), nn.LI((2,), rngs=rngs)), (3,)
    # §18.2: Linear(3,4) -> <neuron>((4,)) -> Linear(4,2) -> LI((2,))
    return nn.Sequential(nnx.Linear(3, 4, rngs=rngs), getattr(nn, kind)((4,), rngs=rngs),
                         nnx.Linear(4, 2, rngs=rngs), nn.LI((2,), rngs=rngs)), (3,)


def _sequential_case(kind, x_seed=1, scale=2.0, eager=False):
    def run(S):
        model, feat = _model(S, kind)
        res = {"state_as_constructed": nnx.state(model), "n_layers": len(model.layers),
               "classes": [type(lay).__name__ if isinstance(lay, nnx.Module) else "function" for lay in model.layers],
               "initial_state": model.initial_state(B), "is_nnx_sequential": isinstance(model, nnx.Sequential)}
        if feat == (3,):  # the §18.2 input: 2 * normal(PRNGKey(1), (6, 2, 3))
            x = scale * jax.random.normal(jax.random.PRNGKey(x_seed), (T, B, *feat))
        else:
            x = normal(x_seed, (T, B, *feat), scale)

        def apply(m, xx):  # one jitted program: a single step, run, and run(batch_major=True)
            return {"step": m(xx[0], m.initial_state(B)), "run": S.nn.run(m, xx),
                    "run_batch_major": S.nn.run(m, jnp.swapaxes(xx, 0, 1), batch_major=True)}

        g = grads(model, apply, x)
        v = g.pop("value")
        res.update(inputs=x, step=v["step"], out=v["run"][0], final_state=v["run"][1],
                   run_batch_major=v["run_batch_major"], grads=g)
        if eager:
            res["eager_step"] = model(x[0], model.initial_state(B))
            res["eager_run"] = S.nn.run(model, x)
        return res

    return run


for _k in ("basic", "relu", "nested", "conv", "actreg"):
    add("nn", f"Sequential.{_k}", _sequential_case(_k, eager=_k == "basic"))
for _k in ("LIF", "CuBaLIF", "ALIF", "RCuBaLIF", "RLIF", "IF", "RIF", "PSU_LIF"):
    add("nn", f"model_18_2.{_k}", _sequential_case(_k))


@case("nn", "run.jit_and_explicit_state")
def _run_jit(S):
    model, _ = _model(S, "LIF")
    x = 2.0 * jax.random.normal(jax.random.PRNGKey(1), (T, B, 3))
    st = model.initial_state(B)
    st[1] = normal(3, (B, 4), 0.5)
    st[3] = normal(4, (B, 2), 0.5)
    return {"nnx_jit": nnx.jit(lambda m, xx: S.nn.run(m, xx))(model, x),
            "explicit_state": S.nn.run(model, x, st),
            "state_kw": S.nn.run(model, x, state=st),
            "jax_jit": jax.jit(lambda xx: S.nn.run(model, xx)[0])(x)}


# =============================================================================================== fn

GOLD_TRACES = [[[1.0, 0.0, 0.5], [0.2, 0.3, 0.1]], [[0.0, 1.0, 0.0], [0.5, 0.5, 0.5]]]
GOLD_TARGETS = [0, 1]


def _traces(kind):
    if kind == "golden":
        return jnp.asarray(GOLD_TRACES, jnp.float32), jnp.asarray(GOLD_TARGETS, jnp.int32)
    if kind == "bt":  # [B, T, C]
        return normal(21, (3, 5, 4), 1.0, 0.2), jnp.asarray([0, 3, 1], jnp.int32)
    if kind == "tb":  # [T, B, C]
        return normal(22, (5, 3, 4), 1.0, 0.2), jnp.asarray([2, 0, 1], jnp.int32)
    if kind == "bthc":  # [B, T, H, C]
        return normal(23, (2, 4, 3, 5)), jnp.asarray([[0, 4, 2], [1, 1, 3]], jnp.int32)
    if kind == "spikes":  # {0, 1} readout, ties in the argmax
        return (normal(24, (4, 6, 3)) > 0.3).astype(jnp.float32), jnp.asarray([0, 1, 2, 0], jnp.int32)
    raise KeyError(kind)


FN_CASES = {
    "integral_accuracy": [("golden", (), {}), ("bt", (), {}), ("tb", (), {"time_axis": 0}),
                          ("bt", (), {"time_axis": -2}), ("bthc", (), {}), ("spikes", (1,), {})],
    "integral_crossentropy": [("golden", (), {}), ("golden", (0.0,), {}), ("golden", (), {"time_axis": -2}),
                              ("tb", (0.1,), {"time_axis": 0}), ("bthc", (), {}), ("spikes", (0.5, 1), {}),
                              ("bt", (), {"smoothing": 1.0})],
    "mse_spikerate": [("golden", (), {}), ("golden", (0.5, 0.1), {}), ("tb", (), {"time_axis": 0}),
                      ("bthc", (0.3,), {"smoothing": 0.2}), ("spikes", (), {"sparsity": 0.1, "time_axis": -2})],
}


def _fn_case(fname, kind, args, kw):
    def run(S):
        traces, targets = _traces(kind)
        f = getattr(S.fn, fname)(*args, **kw)
        g = input_grads(lambda t: f(t, targets), traces)
        return {"inputs": {"traces": traces, "targets": targets}, "value": g.pop("value"), "grads": g}

    return run


for _f, _variants in FN_CASES.items():
    for _i, (_kind, _a, _k) in enumerate(_variants):
        add("fn", f"{_f}.{_i}.{_kind}", _fn_case(_f, _kind, _a, _k))


def _reg_inputs(kind):
    if kind == "silence_golden":
        return [jnp.asarray([[0.0, 1.0], [0.0, 3.0]]), 0.5 * jnp.ones((2, 2, 2))]
    if kind == "sparsity_golden":
        return [jnp.ones((4, 8)), 3.0 * jnp.ones((4, 2, 2))]
    if kind == "dict":
        return {"a": jnp.ones((4, 8)), "b": normal(31, (4, 3), 2.0, 1.0)}
    if kind == "layers":  # per-layer spike counts
        return [jnp.abs(normal(32, (3, 5), 2.0)), jnp.abs(normal(33, (3, 2, 2), 1.0)), jnp.zeros((3, 4))]
    raise KeyError(kind)


REG_CASES = {
    "silence_reg": [("silence_golden", (1.0,), {}), ("layers", (0.5,), {}), ("dict", (2.0,), {}),
                    ("layers", (), {"min_spikes": 3})],
    "sparsity_reg": [("sparsity_golden", (0.1,), {}), ("dict", (0.1,), {}), ("layers", (0.5,), {}),
                     ("layers", (0.2,), {"norm": jnp.abs}), ("dict", (0.0, optax.l2_loss), {})],
}


def _reg_case(fname, kind, args, kw):
    def run(S):
        x = _reg_inputs(kind)
        f = getattr(S.fn, fname)(*args, **kw)
        g = input_grads(f, x)
        return {"inputs": x, "value": g.pop("value"), "grads": g}

    return run


for _f, _variants in REG_CASES.items():
    for _i, (_kind, _a, _k) in enumerate(_variants):
        add("fn", f"{_f}.{_i}.{_kind}", _reg_case(_f, _kind, _a, _k))


@case("fn", "run_batch_major_then_loss")
def _fn_pipeline(S):
    model, _ = _model(S, "LIF")
    x = normal(3, (B, T, 3), 2.0)
    y = jnp.asarray([1, 0], jnp.int32)
    loss = S.fn.integral_crossentropy()
    acc = S.fn.integral_accuracy()
    out = S.nn.run(model, x, batch_major=True)[0]
    out_tm = S.nn.run(model, jnp.swapaxes(x, 0, 1))[0]
    return {"loss": loss(out, y), "acc": acc(out, y), "loss_tm": S.fn.integral_crossentropy(time_axis=0)(out_tm, y),
            "grads": grads(model, lambda m, xx: loss(S.nn.run(m, xx, batch_major=True)[0], y), x)}


# =============================================================================================== data


@case("data", "rate_code.golden")
def _rate_golden(S):
    return {"a": S.data.rate_code(4, 0.75)(jnp.asarray([[[0.0, 0.5, 1.0]]]), jax.random.PRNGKey(0)),
            "b": S.data.rate_code(6, 0.75)(jnp.asarray([[[0.2, 0.6, 0.9]]]), jax.random.PRNGKey(0))}


@case("data", "rate_code.variants")
def _rate_variants(S):
    x3 = uniform(1, (2, 1, 5))
    x2 = uniform(2, (3, 4))
    return {"bt1c": S.data.rate_code(8)(x3, jax.random.PRNGKey(3)),
            "bc": S.data.rate_code(3, max_r=1.0)(x2, jax.random.PRNGKey(4)),
            "numpy_input": S.data.rate_code(5, 0.5)(np.asarray(x2), jax.random.PRNGKey(5)),
            "max_r_low": S.data.rate_code(16, 0.1)(x3, jax.random.PRNGKey(6))}


@case("data", "latency_code")
def _latency(S):
    gold = jnp.asarray([1.0, 0.875, 0.625, 0.5, 0.375, 0.01, 0.02, 0.0, 1.5])
    x2 = uniform(7, (3, 4), -0.2, 1.2)
    return {"golden": S.data.latency_code(5)(gold), "threshold": S.data.latency_code(10, threshold=0.1)(x2),
            "steps1": S.data.latency_code(1)(x2), "numpy": S.data.latency_code(7, 0.0)(np.asarray(x2)),
            "int_input": S.data.latency_code(4)(jnp.asarray([0, 1, 2]))}


@case("data", "angle_code")
def _angle(S):
    gold = jnp.asarray([-0.1, 0.0, 0.3, 0.5, 0.99, 1.0, 1.5])
    x2 = uniform(8, (3, 4), -1.5, 1.5)
    return {"golden": S.data.angle_code(5, 0, 1)(gold), "2d": S.data.angle_code(8, -1.0, 1.0)(x2),
            "one": S.data.angle_code(1, 0.0, 1.0)(gold)}


@case("data", "shift_augment")
def _shift(S):
    x = jnp.arange(6.0)
    x2 = jnp.arange(20.0).reshape(4, 5)
    x3 = normal(9, (2, 3, 4))
    return {"golden": S.data.shift_augment(2)(x, jax.random.PRNGKey(0)),
            "axes01": S.data.shift_augment(3, axes=(0, 1))(x2, jax.random.PRNGKey(1)),
            "default": S.data.shift_augment()(x3, jax.random.PRNGKey(2)),
            "axis1": S.data.shift_augment(1, (1,))(x3, jax.random.PRNGKey(3)),
            "grad": input_grads(lambda v: S.data.shift_augment(2)(v, jax.random.PRNGKey(0)), x)}


@case("data", "shuffler")
def _shuffler(S):
    x = normal(10, (10, 3, 2))
    y = jnp.arange(10)
    f = S.data.shuffler((x, y), 3)
    x4 = normal(11, (8, 5))
    y4 = jnp.arange(8) * 2
    return {"a": f((x, y), jax.random.PRNGKey(0)), "b": f((x, y), jax.random.PRNGKey(1)),
            "exact_fit": S.data.shuffler((x4, y4), 4)((x4, y4), jax.random.PRNGKey(2))}


@case("data", "grain_transforms_deterministic")
def _grain_det(S):
    import grain.python as grain

    obs = np.asarray([1.0, 0.5, 0.0], np.float32)
    obs2 = np.asarray([[0.9, 0.2], [0.015, 0.6]], np.float32)
    lc = S.data.LatencyCode(10)
    ac = S.data.AngleCode(8, 0.0, 1.0)
    ac2 = S.data.AngleCode(5, 0, 1, input_key="x", output_key="y")
    return {"latency": lc.map({"obs": obs})["obs"], "latency_2d": S.data.LatencyCode(12, 0.02).map({"obs": obs2}),
            "angle": ac.map({"obs": np.asarray([0.0, 0.5, 1.0])})["obs"], "angle_neurons": ac.neurons,
            "angle_keys": ac2.map({"x": np.asarray([-0.1, 0.3, 0.99]), "labels": 3}),
            "is_map_transform": [isinstance(t, grain.MapTransform) for t in (lc, ac)]}


@case("data", "grain_transforms_numpy_rng")
def _grain_rng(S):
    obs = np.asarray([[0.1, 0.5, 0.9], [1.0, 0.0, 0.3]], np.float32)
    np.random.seed(0)
    rate = S.data.RateCode(12, 0.75).map({"obs": obs})["obs"]
    rate2 = S.data.RateCode(5, input_key="x", output_key="y").map({"x": obs})
    np.random.seed(1)
    shifted = S.data.ShiftAugment(2).map({"obs": np.arange(12.0).reshape(3, 4)})["obs"]
    shifted2 = S.data.ShiftAugment(3, axes=(0, 1)).map({"obs": np.arange(12.0).reshape(3, 4)})["obs"]
    return {"rate": rate, "rate2": rate2, "shift": shifted, "shift2": shifted2}


@case("data", "plumbing")
def _plumbing(S):
    rng = np.random.default_rng(0)
    ds = [((rng.random((10, 1, 6)) > 0.6).astype(np.int64) * 3, i) for i in range(10)]  # label = index
    src = S.data.TonicSource(ds)
    mds = S.data.SpyxMapDataset(src)
    first = src[0]
    plain = S.data.GrainLoader(mds, 4, shuffle=False, worker_count=0)
    shuf = S.data.GrainLoader(mds, 4, shuffle=True, seed=0, worker_count=0)
    it, its = iter(plain), iter(shuf)
    # only the first epoch (2 full batches of 4 out of 10): §15 #17 lets batches after it differ
    b_plain = [next(it) for _ in range(2)]
    b_shuf = [next(its) for _ in range(2)]
    st = S.data.State(obs=1, labels=2)
    return {"len": len(src), "len_ds": len(mds), "item0": first, "item3": mds[3],
            "plain": [{"obs": b.obs, "labels": b.labels, "type": type(b).__name__} for b in b_plain],
            "shuffled_labels_seed0": [b.labels for b in b_shuf],
            "State_fields": list(S.data.State._fields), "State_is_tuple": isinstance(st, tuple),
            "tonic_installed_type": type(S.data.tonic_installed).__name__}


# =============================================================================================== nir


def nir_value(v):
    """A NIR field as a value: numbers, tuples, lists and arrays of numbers all become float64 arrays (NIR readers
    cast them; which container or integer width an exporter chose is not behaviour), strings and None as they are."""
    if isinstance(v, dict):
        return {str(k): nir_value(x) for k, x in v.items()}
    if v is None or isinstance(v, str):
        return v
    try:
        arr = np.asarray(v)
    except (TypeError, ValueError):
        return v
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    if isinstance(v, (list, tuple)):
        return type(v)(nir_value(x) for x in v)
    return v


def nir_graph(g) -> dict:
    import nir

    # node and edge *sets* (the order a dict or list holds them in carries no meaning in NIR)
    out = {"type": type(g).__name__, "node_names": sorted(g.nodes), "edges": sorted(list(e) for e in g.edges),
           "nodes": {}}
    for k, node in g.nodes.items():
        if isinstance(node, nir.NIRGraph):
            out["nodes"][k] = nir_graph(node)
            continue
        d = {"type": type(node).__name__}
        for f in dataclasses.fields(node):
            if f.name != "metadata":
                d[f.name] = nir_value(getattr(node, f.name))
        out["nodes"][k] = d
    return out


def _nir_model(S, kind):
    nn = S.nn
    rngs = nnx.Rngs(0)
    L = nnx.Linear
    if kind == "mlp_lif":
        return nn.Sequential(L(3, 4, rngs=rngs), nn.LIF((4,), rngs=rngs), L(4, 2, rngs=rngs), nn.LI((2,), rngs=rngs))
    if kind == "mlp_lif_noli":
        return nn.Sequential(L(3, 4, rngs=rngs), nn.LIF((4,), threshold=0.8, rngs=rngs), L(4, 2, rngs=rngs),
                             nn.LIF((2,), beta=0.9, rngs=rngs))
    if kind == "cubalif":
        return nn.Sequential(L(3, 4, use_bias=False, rngs=rngs), nn.CuBaLIF((4,), rngs=rngs),
                             L(4, 3, rngs=rngs), nn.CuBaLIF((3,), alpha=0.7, beta=0.85, threshold=0.8, rngs=rngs))
    if kind == "if":
        return nn.Sequential(L(3, 4, rngs=rngs), nn.IF((4,), threshold=2), L(4, 2, rngs=rngs), nn.IF((2,)))
    if kind == "rif":
        return nn.Sequential(L(3, 4, rngs=rngs), nn.RIF((4,), rngs=rngs), L(4, 2, rngs=rngs))
    if kind == "rlif":
        return nn.Sequential(L(3, 4, rngs=rngs), nn.RLIF((4,), rngs=rngs), L(4, 3, rngs=rngs),
                             nn.RLIF((3,), beta=0.9, threshold=0.5, rngs=rngs))
    if kind == "rcubalif":
        return nn.Sequential(L(3, 4, rngs=rngs), nn.RCuBaLIF((4,), rngs=rngs), L(4, 3, rngs=rngs),
                             nn.RCuBaLIF((3,), alpha=0.6, beta=0.9, rngs=rngs))
    if kind == "psu_lif":
        m = nn.Sequential(L(3, 4, rngs=rngs), nn.PSU_LIF((4,), rngs=rngs), L(4, 2, rngs=rngs),
                          nn.PSU_LIF((2,), beta=0.8, threshold=0.7, rngs=rngs))
        m.layers[1].beta[...] = jnp.asarray(PER_UNIT["beta"], jnp.float32)
        return m
    if kind == "mixed":
        return nn.Sequential(L(3, 5, rngs=rngs), nn.LIF((5,), rngs=rngs), L(5, 4, rngs=rngs),
                             nn.ALIF((4,), rngs=rngs), L(4, 4, rngs=rngs), nn.AssociativeLIF((4,), rngs=rngs),
                             jax.nn.relu, L(4, 3, rngs=rngs), nn.RLIF((3,), rngs=rngs), L(3, 2, rngs=rngs),
                             nn.LI((2,), rngs=rngs))
    if kind == "conv":
        return nn.Sequential(nnx.Conv(2, 4, (3, 3), padding="SAME", rngs=rngs), nn.LIF((8, 8, 4), rngs=rngs),
                             nn.SumPool(2, 2, "VALID"), nn.Flatten(), L(64, 3, rngs=rngs), nn.LI((3,), rngs=rngs))
    if kind == "conv_valid":
        return nn.Sequential(nnx.Conv(2, 3, (3, 3), strides=(1, 1), padding="VALID", rngs=rngs),
                             nn.IF((6, 6, 3), threshold=0.5),
                             nn.SumPool((2, 2), (2, 2), "SAME"), nnx.Conv(3, 2, (2, 2), padding="SAME",
                                                                         use_bias=False, rngs=rngs),
                             nn.PSU_LIF((3, 3, 2), rngs=rngs), nn.Flatten(), L(18, 2, rngs=rngs))
    if kind == "conv_same_pool_odd":
        return nn.Sequential(nnx.Conv(2, 2, (3, 3), padding="SAME", rngs=rngs), nn.LIF((7, 7, 2), rngs=rngs),
                             nn.SumPool(2, 2, "SAME"), nn.Flatten(), L(32, 2, rngs=rngs))
    raise KeyError(kind)


NIR_MODELS = {  # kind -> (input feature shape channels-last, nir input shape, nir output shape, dt)
    "mlp_lif": ((3,), (3,), (2,), 1),
    "mlp_lif_noli": ((3,), (3,), (2,), 1),
    "cubalif": ((3,), (3,), (3,), 1),
    "if": ((3,), (3,), (2,), 1),
    "rif": ((3,), (3,), (2,), 1),
    "rlif": ((3,), (3,), (3,), 1),
    "rcubalif": ((3,), (3,), (3,), 1),
    "psu_lif": ((3,), (3,), (2,), 1),
    "mixed": ((3,), (3,), (2,), 0.5),
    "conv": ((8, 8, 2), (2, 8, 8), (3,), 1),
    "conv_valid": ((8, 8, 2), (2, 8, 8), (2,), 1),
    "conv_same_pool_odd": ((7, 7, 2), (2, 7, 7), (2,), 1.0),
}
ROUND_TRIP = ("mlp_lif_noli", "cubalif", "if", "rif", "rlif", "rcubalif", "psu_lif", "conv", "conv_valid",
              "conv_same_pool_odd")


def _to_nir(S, kind):
    model = _nir_model(S, kind)
    feat, nin, nout, dt = NIR_MODELS[kind]
    with captured() as buf:
        g = S.nir.to_nir(model, {"input": nin}, {"output": nout}, dt=dt)
    warn = [ln for ln in buf.getvalue().splitlines() if "not recognized/supported for NIR export" in ln]
    return model, g, len(warn)


def imported(model) -> dict:
    return {"classes": [type(lay).__name__ for lay in model.layers], "state": nnx.state(model),
            "layers": [describe(lay) for lay in model.layers], "is_sequential": type(model).__name__}


def _export_case(kind):
    def run(S):
        model, g, n_warn = _to_nir(S, kind)
        return {"graph": nir_graph(g), "n_skip_warnings": n_warn, "model_state": nnx.state(model)}

    return run


def _round_trip_case(kind, all_states=False):
    def run(S):
        model, g, _ = _to_nir(S, kind)
        feat = NIR_MODELS[kind][0]
        dt = NIR_MODELS[kind][3]
        x = (normal(40, (5, B, *feat), 1.5, 0.5))
        with captured():
            m2, res = S.nir.from_nir(g, x, dt=dt, return_all_states=all_states)
        out = {"original_out": S.nn.run(model, x)[0], "imported": imported(m2), "inputs": x}
        if all_states:
            out["outputs"], out["states"] = res
        else:
            out["outputs"] = res
        return out

    return run


for _k in NIR_MODELS:
    add("nir", f"to_nir.{_k}", _export_case(_k))
for _k in ROUND_TRIP:
    add("nir", f"round_trip.{_k}", _round_trip_case(_k))
add("nir", "round_trip.rlif.all_states", _round_trip_case("rlif", True))
add("nir", "round_trip.conv.all_states", _round_trip_case("conv", True))


@case("nir", "to_nir.single_layer_and_dt")
def _to_nir_single(S):
    nn = S.nn
    lif = nn.LIF((4,), rngs=nnx.Rngs(0))
    one = nn.LIF((3,), beta=1.0, rngs=nnx.Rngs(0))
    cuba = nn.CuBaLIF((3,), rngs=nnx.Rngs(1))
    with captured():
        g1 = S.nir.to_nir(lif, {"input": (4,)}, {"output": (4,)})
        g2 = S.nir.to_nir(nn.Sequential(one, cuba), {"input": (3,)}, {"output": (3,)}, dt=0.25)
        g3 = S.nir.to_nir(nn.Sequential(nn.PSU_LIF((3,), beta=1.0, rngs=nnx.Rngs(0))), {"input": (3,)},
                          {"output": (3,)}, dt=2)
    return {"single": nir_graph(g1), "dt_beta_one": nir_graph(g2), "psu_beta_one": nir_graph(g3)}


@case("nir", "reorder_layers")
def _reorder(S):
    init = {"b": 1, "a": 2, "c": 3}
    trained = {"a": jnp.ones(2), "c": jnp.zeros(1), "b": jnp.full((2,), 5.0), "extra": 0}
    r = S.nir.reorder_layers(init, trained)
    return {"keys": list(r), "values": r}


def _graph(kind):
    """Hand-built NIR graphs (same nir calls on both sides) to import."""
    import nir

    rng = np.random.default_rng(7)

    def w(*shape, s=0.6):
        return (s * rng.standard_normal(shape)).astype(np.float32)

    if kind == "affine_lif_cubalif":
        nodes = {"input": nir.Input({"input": np.array([3])}),
                 "fc1": nir.Affine(w(4, 3), w(4)),
                 "lif": nir.LIF(tau=np.array([2.0, 4.0, 10.0, 1.5], np.float32),
                                v_threshold=np.array([0.5, 1.0, 0.8, 1.2], np.float32),
                                v_leak=np.zeros(4, np.float32), r=np.ones(4, np.float32)),
                 "fc2": nir.Linear(w(3, 4)),
                 "cuba": nir.CubaLIF(tau_mem=np.array([5.0, 2.0, 3.0], np.float32),
                                     tau_syn=np.array([2.0, 8.0, 1.25], np.float32),
                                     v_threshold=np.ones(3, np.float32), v_leak=np.zeros(3, np.float32),
                                     r=np.ones(3, np.float32)),
                 "output": nir.Output({"output": np.array([3])})}
        edges = [("input", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "cuba"), ("cuba", "output")]
        return nir.NIRGraph(nodes, edges), (3,)
    if kind == "if_li_threshold":
        nodes = {"input": nir.Input({"input": np.array([3])}),
                 "fc": nir.Affine(w(4, 3), w(4)),
                 "if": nir.IF(r=np.ones(4, np.float32), v_threshold=np.array([0.5, 1.0, 1.5, 0.7], np.float32)),
                 "fc2": nir.Affine(w(2, 4), w(2)),
                 "li": nir.LI(tau=np.array([4.0, 2.0], np.float32), r=np.ones(2, np.float32),
                              v_leak=np.zeros(2, np.float32)),
                 "thr": nir.Threshold(np.array([0.3, 0.6], np.float32)),
                 "output": nir.Output({"output": np.array([2])})}
        edges = [("input", "fc"), ("fc", "if"), ("if", "fc2"), ("fc2", "li"), ("li", "thr"), ("thr", "output")]
        return nir.NIRGraph(nodes, edges), (3,)
    if kind == "duplicate_edge":  # removed on import (with a printed warning)
        nodes = {"input": nir.Input({"input": np.array([3])}), "fc": nir.Affine(w(2, 3), w(2)),
                 "output": nir.Output({"output": np.array([2])})}
        g = nir.NIRGraph(nodes, [("input", "fc"), ("fc", "output")])
        g.edges.append(("fc", "output"))  # nir >= 1.0.8 refuses it at construction; from_nir must remove it
        return g, (3,)
    if kind == "flat_rnn_motif":  # LIF <-> Affine, collapsed into an RLIF on import
        nodes = {"input": nir.Input({"input": np.array([3])}),
                 "fc": nir.Affine(w(4, 3), w(4)),
                 "rnn.lif": nir.LIF(tau=np.array([2.0, 3.0, 4.0, 5.0], np.float32),
                                    v_threshold=np.ones(4, np.float32), v_leak=np.zeros(4, np.float32),
                                    r=np.ones(4, np.float32)),
                 "rnn.w_rec": nir.Affine(w(4, 4, s=0.3), np.zeros(4, np.float32)),
                 "fc2": nir.Linear(w(2, 4)),
                 "output": nir.Output({"output": np.array([2])})}
        edges = [("input", "fc"), ("fc", "rnn.lif"), ("rnn.lif", "rnn.w_rec"), ("rnn.w_rec", "rnn.lif"),
                 ("rnn.lif", "fc2"), ("fc2", "output")]
        return nir.NIRGraph(nodes, edges), (3,)
    if kind == "nested_rif_rcuba":
        def sub(neuron, n, key):
            return nir.NIRGraph(
                {f"{key}.input": nir.Input({"input": np.array([n])}), f"{key}.lif": neuron,
                 f"{key}.w_rec": nir.Linear(w(n, n, s=0.4)), f"{key}.output": nir.Output({"output": np.array([n])})},
                [(f"{key}.input", f"{key}.w_rec"), (f"{key}.w_rec", f"{key}.lif"), (f"{key}.lif", f"{key}.w_rec"),
                 (f"{key}.lif", f"{key}.output")])

        rif = sub(nir.IF(r=np.ones(4), v_threshold=np.full(4, 0.8)), 4, "r1")
        cuba = sub(nir.CubaLIF(tau_mem=np.full(3, 4.0), tau_syn=np.full(3, 2.0), v_threshold=np.ones(3),
                               v_leak=np.zeros(3), r=np.ones(3)), 3, "r2")
        nodes = {"input": nir.Input({"input": np.array([3])}), "fc": nir.Affine(w(4, 3), w(4)), "r1": rif,
                 "fc2": nir.Affine(w(3, 4), w(3)), "r2": cuba, "output": nir.Output({"output": np.array([3])})}
        edges = [("input", "fc"), ("fc", "r1"), ("r1", "fc2"), ("fc2", "r2"), ("r2", "output")]
        return nir.NIRGraph(nodes, edges), (3,)
    if kind == "conv_pool_int_padding":  # explicit conv pad (1, 1); a non-zero pool pad means SAME on import
        nodes = {"input": nir.Input({"input": np.array([2, 5, 5])}),
                 "conv": nir.Conv2d(input_shape=(5, 5), weight=w(3, 2, 3, 3), stride=1, padding=(1, 1),
                                    dilation=1, groups=1, bias=w(3)),
                 "lif": nir.LIF(tau=np.full((3, 5, 5), 2.0, np.float32),
                                v_threshold=np.full((3, 5, 5), 0.7, np.float32),
                                v_leak=np.zeros((3, 5, 5), np.float32), r=np.ones((3, 5, 5), np.float32)),
                 "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                       padding=np.array([1, 1])),
                 "flat": nir.Flatten(input_type={"input": np.array([3, 3, 3])}, start_dim=0, end_dim=-1),
                 "fc": nir.Affine(w(2, 27), w(2)),
                 "output": nir.Output({"output": np.array([2])})}
        edges = [("input", "conv"), ("conv", "lif"), ("lif", "pool"), ("pool", "flat"), ("flat", "fc"),
                 ("fc", "output")]
        return nir.NIRGraph(nodes, edges), (5, 5, 2)
    if kind == "conv_valid_stride2_nobias":
        nodes = {"input": nir.Input({"input": np.array([1, 7, 7])}),
                 "conv": nir.Conv2d(input_shape=(7, 7), weight=w(2, 1, 3, 3), stride=2, padding="valid",
                                    dilation=1, groups=1, bias=None),
                 "if": nir.IF(r=np.ones((2, 3, 3), np.float32),
                              v_threshold=np.linspace(0.2, 1.0, 18).reshape(2, 3, 3).astype(np.float32)),
                 "delay": nir.Delay(np.zeros((2, 3, 3), np.float32)),
                 "flat": nir.Flatten(input_type={"input": np.array([2, 3, 3])}, start_dim=0, end_dim=-1),
                 "output": nir.Output({"output": np.array([18])})}
        edges = [("input", "conv"), ("conv", "if"), ("if", "delay"), ("delay", "flat"), ("flat", "output")]
        return nir.NIRGraph(nodes, edges), (7, 7, 1)
    raise KeyError(kind)


def _import_case(kind, all_states=False, rngs_seed=None, dt=1):
    def run(S):
        g, feat = _graph(kind)
        x = normal(41, (5, B, *feat), 1.5, 0.5)
        kw = {"return_all_states": all_states, "dt": dt}
        if rngs_seed is not None:
            kw["rngs"] = nnx.Rngs(rngs_seed)
        with captured() as buf:
            m, res = S.nir.from_nir(g, x, **kw)
        out = {"imported": imported(m), "inputs": x,
               "graph_after": {"nodes": sorted(g.nodes), "edges": sorted(list(e) for e in g.edges)},
               "printed_info": "found RNN subgraph" in buf.getvalue()}
        if all_states:
            out["outputs"], out["states"] = res
        else:
            out["outputs"] = res
        return out

    return run


add("nir", "from_nir.affine_lif_cubalif", _import_case("affine_lif_cubalif"))
add("nir", "from_nir.affine_lif_cubalif.dt", _import_case("affine_lif_cubalif", dt=0.5))
add("nir", "from_nir.affine_lif_cubalif.all_states", _import_case("affine_lif_cubalif", True, rngs_seed=5))
add("nir", "from_nir.if_li_threshold", _import_case("if_li_threshold"))
add("nir", "from_nir.flat_rnn_motif", _import_case("flat_rnn_motif", True))
add("nir", "from_nir.duplicate_edge", _import_case("duplicate_edge"))
add("nir", "from_nir.nested_rif_rcuba", _import_case("nested_rif_rcuba"))
add("nir", "from_nir.conv_pool_int_padding", _import_case("conv_pool_int_padding", True))
add("nir", "from_nir.conv_valid_stride2_nobias", _import_case("conv_valid_stride2_nobias"))


# =============================================================================================== optimize


def _opt_model(S):
    nn = S.nn
    rngs = nnx.Rngs(0)
    return nn.Sequential(nnx.Linear(3, 4, use_bias=False, rngs=rngs), nn.LIF((4,), rngs=rngs),
                         nnx.Linear(4, 2, use_bias=False, rngs=rngs), nn.LI((2,), rngs=rngs))


def _opt_data():
    X = 2.0 * jax.random.normal(jax.random.PRNGKey(3), (2, 4, 5, 3))
    Y = jnp.asarray([[0, 1, 0, 1], [1, 0, 1, 0]], jnp.int32)
    return X, Y


def _loss_fn(S):
    ce = S.fn.integral_crossentropy()

    def loss(m, x, y):
        return ce(S.nn.run(m, x, batch_major=True)[0], y)

    return loss


def _eval_fn(S):
    ce = S.fn.integral_crossentropy()
    acc = S.fn.integral_accuracy()

    def ev(m, x, y):
        out = S.nn.run(m, x, batch_major=True)[0]
        return acc(out, y)[0], ce(out, y)

    return ev


@case("optimize", "fit.golden_with_eval")
def _fit(S):
    # §18.2's fit; evaluation after each epoch does not change the model, so train_loss stays the golden one
    model = _opt_model(S)
    X, Y = _opt_data()
    calls = []
    hist = S.optimize.fit(model, optax.adam(1e-2), _loss_fn(S), lambda: [(X[0], Y[0]), (X[1], Y[1])], epochs=3,
                          eval_iter=lambda: [(X[1], Y[1]), (X[0], Y[0])], eval_fn=_eval_fn(S),
                          on_epoch_end=lambda e, m: calls.append([e, sorted(m)]))
    return {"history": hist, "callback": calls, "trained_state": nnx.state(model)}


@case("optimize", "fit.dict_batches_and_eval_iter_without_eval_fn")
def _fit_dict(S):
    # a dict batch is passed as one argument; eval_iter without eval_fn is silently skipped (§15 #28)
    model = _opt_model(S)
    X, Y = _opt_data()
    loss = _loss_fn(S)
    hist = S.optimize.fit(model, optax.adam(1e-2), lambda m, b: loss(m, b["x"], b["y"]),
                          lambda: [{"x": X[0], "y": Y[0]}, {"x": X[1], "y": Y[1]}], epochs=2,
                          eval_iter=lambda: [(X[1], Y[1])])
    return {"history": hist, "trained_state": nnx.state(model)}


@case("optimize", "compile_fit.golden")
def _compile_fit(S):
    model = _opt_model(S)
    before = nnx.state(model)
    X, Y = _opt_data()
    new, hist = S.optimize.compile_fit(model, optax.adam(1e-2), _loss_fn(S), (X, Y), epochs=3)
    return {"history": hist, "trained_state": nnx.state(new), "input_model_state": nnx.state(model),
            "before": before, "new_is_input": new is model}


@case("optimize", "compile_fit.eval_and_backprop")
def _compile_fit_eval(S):
    model = _opt_model(S)
    X, Y = _opt_data()
    acc = S.fn.integral_accuracy()

    def metric(m, x, y):
        return acc(S.nn.run(m, x, batch_major=True)[0], y)[0]

    new, hist = S.optimize.compile_fit(model, S.optimize.backprop(optax.sgd(0.1)), _loss_fn(S), (X, Y), epochs=2,
                                       eval_data=(X, Y), metric_fn=metric, key=jax.random.PRNGKey(1))
    return {"history": hist, "trained_state": nnx.state(new)}


# the contract's __all__ lists (§7, §9): each name must exist (extra names in ours are compatible)
OPTIMIZE_ALL = ["fit", "compile_fit", "backprop", "SolverImpl", "Solver", "make_train_step", "make_eval_step",
                "History"]
QUANT_ALL = ["available", "binary_activation_error", "bitnet_ternary_rules", "linear_only_rules", "quantize",
             "spiking_feedforward_rules", "weights_only_rules"]


@case("optimize", "steps")
def _steps(S):
    model = _opt_model(S)
    X, Y = _opt_data()
    opt = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    step = S.optimize.make_train_step(_loss_fn(S))
    losses = [step(model, opt, X[0], Y[0]), step(model, opt, X[1], Y[1])]
    ev = S.optimize.make_eval_step(_eval_fn(S))
    impl = S.optimize.backprop(optax.sgd(0.1))(lambda p, b: jnp.sum(p["w"] * b[0]), {"w": jnp.ones(3)})
    st = impl.init(jax.random.PRNGKey(0))
    st2, metric = impl.step(st, (jnp.arange(3.0),), jax.random.PRNGKey(1))
    return {"losses": losses, "state": nnx.state(model), "eval": ev(model, X[0], Y[0]),
            "solver_fields": list(S.optimize.SolverImpl._fields), "solver_params": impl.get_params(st2),
            "solver_metric": metric, "has_public_names": {n: hasattr(S.optimize, n) for n in OPTIMIZE_ALL}}


# =============================================================================================== quant

BAE_INPUTS = {
    "golden": [[0.0, 0.37, 1.0, 0.63]],
    "binary": [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]],
    "zeros": [[0.0, 0.0]],
    "signed": [[-0.4, 0.2, 1.7, -2.0, 0.01]],
}


@case("quant", "binary_activation_error")
def _bae(S):
    out = {}
    for k, v in BAE_INPUTS.items():
        for q in ("int8", "int4", "int2", "int16"):
            out[f"{k}.{q}"] = S.quant.binary_activation_error(v, weight_qtype=q)
    out["default_qtype"] = S.quant.binary_activation_error(jnp.asarray(BAE_INPUTS["golden"]))
    out["numpy_int_input"] = S.quant.binary_activation_error(np.asarray([[0, 1, 3]], np.int32))
    return out


@case("quant", "available_and_all")
def _quant_surface(S):
    return {"has_public_names": {n: hasattr(S.quant, n) for n in QUANT_ALL},
            "in_all": {n: n in S.quant.__all__ for n in QUANT_ALL},
            "available_type": type(S.quant.available()).__name__}


def rule(r) -> dict:
    return {"class": type(r).__name__,
            **{f.name: nir_value(getattr(r, f.name)) for f in dataclasses.fields(r)}}


@case("quant", "rules", needs=("qwix",))
def _rules(S):
    q = S.quant
    calls = {
        "linear_only.default": q.linear_only_rules(),
        "linear_only.int4_int8": q.linear_only_rules("int4", "int8"),
        "linear_only.nvfp4": q.linear_only_rules("nvfp4", "int8"),
        "linear_only.act_mxfp8": q.linear_only_rules(weight_qtype="int8", act_qtype="mxfp8"),
        "linear_only.tile_explicit": q.linear_only_rules("mxfp4", "int8", tile_size=64),
        "linear_only.extra_ops": q.linear_only_rules(extra_op_names=("custom_op",)),
        "weights_only.default": q.weights_only_rules(),
        "weights_only.args": q.weights_only_rules("int4", module_path="layers/0.*", op_names=["dot_general"]),
        "weights_only.mxfp4": q.weights_only_rules("mxfp4"),
        "spiking_ff.default": q.spiking_feedforward_rules(),
        "spiking_ff.args": q.spiking_feedforward_rules("nvfp4", module_path="x", extra_op_names=("a", "b")),
        "bitnet.default": q.bitnet_ternary_rules(),
        "bitnet.none": q.bitnet_ternary_rules(act_qtype=None),
    }
    return {k: {"type": type(v).__name__, "rules": [rule(r) for r in v]} for k, v in calls.items()}


@case("quant", "quantize_ptq_weights_only", needs=("qwix",))
def _ptq(S):
    nn = S.nn
    rngs = nnx.Rngs(0)
    model = nn.Sequential(nnx.Linear(4, 3, use_bias=False, rngs=rngs), nn.LIF((3,), beta=0.9, rngs=rngs))
    q = S.quant.quantize(model, jnp.zeros((B, 4)), model.initial_state(B), rules=S.quant.weights_only_rules(),
                         mode="ptq")
    x = normal(50, (T, B, 4), 1.5, 0.5)
    return {"state": nnx.state(q), "spikes": nn.run(q, x)[0], "float_spikes": nn.run(model, x)[0]}


# =============================================================================================== errors


def err(name, error, fragment=None, needs=()):
    def deco(fn):
        add("errors", name, fn, error=error, fragment=fragment, needs=needs)
        return fn

    return deco


@err("nn.run.stateless_model", "TypeError", "initial_state")
def _e_run(S):
    S.nn.run(nnx.Linear(3, 2, rngs=nnx.Rngs(0)), jnp.ones((4, 2, 3)))


@err("nn.run.stateless_model.message_start", "TypeError", "spyx.nn.run: the given model has no")
def _e_run2(S):
    S.nn.run(S.nn.Flatten(), jnp.ones((4, 2, 3)))


@err("nn.Sequential.state_length", "ValueError")
def _e_seq(S):
    m = S.nn.Sequential(S.nn.LIF((3,), rngs=nnx.Rngs(0)), S.nn.LI((3,), rngs=nnx.Rngs(0)))
    m(jnp.ones((2, 3)), [jnp.zeros((2, 3))])


@err("nn.sum_pool.padding_lowercase", "ValueError", "Invalid padding")
def _e_pool1(S):
    S.nn.sum_pool(jnp.ones((1, 4, 4, 2)), 2, 2, "same")


@err("nn.SumPool.padding", "ValueError", "Invalid padding")
def _e_pool2(S):
    S.nn.SumPool(2, 2, "FULL")(jnp.ones((1, 4, 4, 2)))


@err("nn.sum_pool.channel_axis_too_big", "ValueError", "Invalid channel axis")
def _e_pool3(S):
    S.nn.sum_pool(jnp.ones((1, 4, 4, 2)), 2, 2, "VALID", channel_axis=4)


@err("nn.SumPool.channel_axis_negative", "ValueError", "Invalid channel axis")
def _e_pool4(S):
    S.nn.SumPool(2, 2, "VALID", channel_axis=-5)(jnp.ones((1, 4, 4, 2)))


for _cls in [c for c in DECAYS if c != "IF"]:
    def _e_rngs(S, _cls=_cls):
        getattr(S.nn, _cls)((3,))

    add("errors", f"nn.{_cls}.rngs_omitted", _e_rngs, error="TypeError")


@err("nn.LIF.rngs_omitted_with_beta", "TypeError")
def _e_rngs_beta(S):
    S.nn.LIF((3,), beta=0.9)


@err("nn.LIF.beta_array", "ValueError")
def _e_beta_array(S):
    S.nn.LIF((3,), beta=jnp.ones(3), rngs=nnx.Rngs(0))


_FN_ERRORS = {
    "rank1": (lambda f: f()(jnp.ones(3), jnp.zeros((), jnp.int32)), "at least 2 dimensions"),
    "time_axis_3": (lambda f: f(time_axis=3)(jnp.ones((2, 3, 4)), jnp.zeros(2, jnp.int32)), "out of range"),
    "time_axis_neg4": (lambda f: f(time_axis=-4)(jnp.ones((2, 3, 4)), jnp.zeros(2, jnp.int32)), "out of range"),
    "targets_mismatch": (lambda f: f()(jnp.ones((2, 3, 4)), jnp.zeros(3, jnp.int32)), "does not match"),
    "targets_mismatch_time0": (lambda f: f(time_axis=0)(jnp.ones((2, 3, 4)), jnp.zeros(2, jnp.int32)),
                               "does not match"),
}
for _f in ("integral_accuracy", "integral_crossentropy", "mse_spikerate"):
    for _n, (_call, _frag) in _FN_ERRORS.items():
        def _e_fn(S, _f=_f, _call=_call):
            _call(getattr(S.fn, _f))

        add("errors", f"fn.{_f}.{_n}", _e_fn, error="ValueError", fragment=_frag)
    add("errors", f"fn.{_f}.message_names_factory", (lambda S, _f=_f: getattr(S.fn, _f)()(jnp.ones(3), jnp.ones(()))),
        error="ValueError", fragment=f"{_f}:")


@err("data.NMNIST_loader.no_tonic", "ImportError", "spyx[loaders]", needs=("no_tonic",))
def _e_nmnist(S):
    S.data.NMNIST_loader()


@err("data.SHD_loader.no_tonic", "ImportError", "spyx[loaders]", needs=("no_tonic",))
def _e_shd(S):
    S.data.SHD_loader()


def _opt_setup(S):
    return _opt_model(S), _opt_data()


@err("optimize.fit.empty_train", "RuntimeError", "yielded no batches")
def _e_fit(S):
    model, _ = _opt_setup(S)
    S.optimize.fit(model, optax.adam(1e-2), _loss_fn(S), lambda: [], epochs=1)


@err("optimize.fit.empty_eval", "RuntimeError", "yielded no batches")
def _e_fit_eval(S):
    model, (X, Y) = _opt_setup(S)
    S.optimize.fit(model, optax.adam(1e-2), _loss_fn(S), lambda: [(X[0], Y[0])], epochs=1, eval_iter=lambda: [],
                   eval_fn=_eval_fn(S))


@err("optimize.compile_fit.eval_without_metric", "ValueError", "metric_fn is required when eval_data is given")
def _e_cfit(S):
    model, (X, Y) = _opt_setup(S)
    S.optimize.compile_fit(model, optax.adam(1e-2), _loss_fn(S), (X, Y), epochs=1, eval_data=(X, Y))


@err("nir.to_nir.resonatefire", "NotImplementedError", "ResonateFire")
def _e_rf(S):
    m = S.nn.Sequential(nnx.Linear(3, 3, rngs=nnx.Rngs(0)), S.phasor.ResonateFire((3,), rngs=nnx.Rngs(0)))
    S.nir.to_nir(m, {"input": (3,)}, {"output": (3,)})


@err("nir.to_nir.quantized_ptq", "ValueError", "quantiz", needs=("qwix",))
def _e_q_ptq(S):
    m = S.nn.Sequential(nnx.Linear(4, 3, rngs=nnx.Rngs(0)), S.nn.LIF((3,), rngs=nnx.Rngs(0)))
    q = S.quant.quantize(m, jnp.zeros((2, 4)), m.initial_state(2), mode="ptq")
    S.nir.to_nir(q, {"input": (4,)}, {"output": (3,)})


@err("nir.to_nir.quantized_qat", "ValueError", "quantiz", needs=("qwix",))
def _e_q_qat(S):
    m = S.nn.Sequential(nnx.Linear(4, 3, rngs=nnx.Rngs(0)), S.nn.LIF((3,), rngs=nnx.Rngs(0)))
    q = S.quant.quantize(m, jnp.zeros((2, 4)), m.initial_state(2))
    S.nir.to_nir(q, {"input": (4,)}, {"output": (3,)})


@err("nir.from_nir.li_without_threshold", "ValueError", "nir.LI without a following nir.Threshold")
def _e_li(S):
    import nir

    g = nir.NIRGraph({"input": nir.Input({"input": np.array([2])}),
                      "li": nir.LI(tau=np.full(2, 2.0), r=np.ones(2), v_leak=np.zeros(2)),
                      "output": nir.Output({"output": np.array([2])})},
                     [("input", "li"), ("li", "output")])
    with captured():
        S.nir.from_nir(g, jnp.ones((3, 1, 2)))


@err("nir.from_nir.invalid_rnn_subgraph", "ValueError", "invalid RNN subgraph")
def _e_rnn(S):
    import nir

    sub = nir.NIRGraph({"s.input": nir.Input({"input": np.array([2])}),
                        "s.lif": nir.LIF(tau=np.full(2, 2.0), v_threshold=np.ones(2), v_leak=np.zeros(2),
                                         r=np.ones(2)),
                        "s.thr": nir.Threshold(np.ones(2)),
                        "s.output": nir.Output({"output": np.array([2])})},
                       [("s.input", "s.lif"), ("s.lif", "s.thr"), ("s.thr", "s.output")])
    g = nir.NIRGraph({"input": nir.Input({"input": np.array([2])}), "s": sub,
                      "output": nir.Output({"output": np.array([2])})}, [("input", "s"), ("s", "output")])
    with captured():
        S.nir.from_nir(g, jnp.ones((3, 1, 2)))


for _fname in ("linear_only_rules", "weights_only_rules", "spiking_feedforward_rules", "bitnet_ternary_rules"):
    add("errors", f"quant.{_fname}.no_qwix", (lambda S, _f=_fname: getattr(S.quant, _f)()), error="ImportError",
        fragment="qwix", needs=("no_qwix",))
add("errors", "quant.quantize.no_qwix", (lambda S: S.quant.quantize(nnx.Linear(2, 2, rngs=nnx.Rngs(0)),
                                                                    jnp.zeros((1, 2)))),
    error="ImportError", fragment="qwix", needs=("no_qwix",))


@err("quant.quantize.unknown_mode", "ValueError", "Unknown quantization mode", needs=("qwix",))
def _e_mode(S):
    m = S.nn.Sequential(nnx.Linear(4, 3, rngs=nnx.Rngs(0)), S.nn.LIF((3,), rngs=nnx.Rngs(0)))
    S.quant.quantize(m, jnp.zeros((2, 4)), m.initial_state(2), mode="int8")


for _q, _frag in (("fp8", "integer qtypes"), ("float8_e4m3fn", "integer qtypes"), ("int1", "at least 2 bits"),
                  ("int0", "at least 2 bits"), ("intx", "Malformed integer qtype")):
    add("errors", f"quant.binary_activation_error.{_q}",
        (lambda S, _q=_q: S.quant.binary_activation_error([[0.0, 1.0]], weight_qtype=_q)), error="ValueError",
        fragment=_frag)


# -- the rest of the §16 catalogue (modules outside spyx.nn/fn/data/nir/optimize/quant)


@err("ssm.LRU.rank", "ValueError", "[T, B, d_model]")
def _e_lru(S):
    S.ssm.LRU(2, 3, rngs=nnx.Rngs(0))(jnp.ones((4, 2)))


@err("ssm.S5Diag.rank", "ValueError", "[T, B, d_model]")
def _e_s5(S):
    S.ssm.S5Diag(2, 3, rngs=nnx.Rngs(0))(jnp.ones((4, 2)))


@err("ssm.Mamba.dim", "ValueError", "d_inner")
def _e_mamba(S):
    S.ssm.Mamba(4, rngs=nnx.Rngs(0))(jnp.ones((3, 1, 5)))


@err("ssm.MambaBlock.dim", "ValueError", "d_model")
def _e_mblock(S):
    S.ssm.MambaBlock(4, rngs=nnx.Rngs(0))(jnp.ones((3, 1, 5)))


def _chunked(S, **kw):
    return S.ssm.ChunkedSSM(S.ssm.LRU(2, 3, rngs=nnx.Rngs(0)), S.ssm.LRU(2, 3, rngs=nnx.Rngs(1)), **kw)


add("errors", "ssm.ChunkedSSM.pool", lambda S: _chunked(S, chunk_size=2, pool="max"), error="ValueError",
    fragment="pool")
add("errors", "ssm.ChunkedSSM.chunk_size", lambda S: _chunked(S, chunk_size=0), error="ValueError",
    fragment="positive")
add("errors", "ssm.ChunkedSSM.rank", lambda S: _chunked(S, chunk_size=2)(jnp.ones((4, 2))), error="ValueError",
    fragment="3D input")
add("errors", "ssm.ChunkedSSM.divisible", lambda S: _chunked(S, chunk_size=2)(jnp.ones((5, 1, 2))),
    error="ValueError", fragment="divisible")
add("errors", "phasor.PhasorLinear.real_input",
    lambda S: S.phasor.PhasorLinear(2, 2, rngs=nnx.Rngs(0))(jnp.ones((1, 2))), error="TypeError", fragment="complex")
add("errors", "phasor.PhasorMLP.depth", lambda S: S.phasor.PhasorMLP(2, 3, 2, depth=0, rngs=nnx.Rngs(0)),
    error="ValueError", fragment="depth >= 1")
add("errors", "phasor.phase_to_spikes.T", lambda S: S.phasor.phase_to_spikes(jnp.zeros(3), 0), error="ValueError",
    fragment="must be positive")
add("errors", "phasor.SpikingPhasor.period",
    lambda S: S.phasor.SpikingPhasor(S.phasor.PhasorLinear(2, 2, rngs=nnx.Rngs(0)), 0), error="ValueError",
    fragment="must be positive")
add("errors", "phasor.ResonateFire.dt", lambda S: S.phasor.ResonateFire((3,), dt=0.0, rngs=nnx.Rngs(0)),
    error="ValueError", fragment="dt must be positive")
add("errors", "bench.benchmark.n_iters",
    lambda S: S.bench.benchmark(S.nn.LIF((2,), rngs=nnx.Rngs(0)), (2,), seq_len=2, batch=1, n_warmup=0, n_iters=0),
    error="ValueError", fragment="n_iters must be >= 1")
add("errors", "bench.benchmark.thunk_not_module",
    lambda S: S.bench.benchmark(lambda: 3, (2,), seq_len=2, batch=1), error="TypeError", fragment="nnx.Module")
add("errors", "bench.benchmark.not_module",
    lambda S: S.bench.benchmark(5, (2,), seq_len=2, batch=1), error="TypeError", fragment="nnx.Module")
add("errors", "experimental.onnx.step_signature.stateless",
    lambda S: S.mod("experimental.onnx").step_signature(nnx.Linear(2, 2, rngs=nnx.Rngs(0)), (2,), batch=2),
    error="TypeError", fragment="initial_state")
add("errors", "experimental.rf_ssm.pole_init",
    lambda S: S.mod("experimental.rf_ssm").RFSSM((4,), pole_init="bad", rngs=nnx.Rngs(0)), error="ValueError",
    fragment="pole_init")
add("errors", "experimental.raven.RavenRSM.n_slots",
    lambda S: S.mod("experimental.raven").RavenRSM(4, 0, rngs=nnx.Rngs(0)), error="ValueError", fragment="n_slots")
add("errors", "experimental.raven.RavenRSM.decay_init",
    lambda S: S.mod("experimental.raven").RavenRSM(4, 2, decay_init=1.0, rngs=nnx.Rngs(0)), error="ValueError",
    fragment="decay_init")
add("errors", "experimental.raven.RavenRSM.input_shape",
    lambda S: S.mod("experimental.raven").RavenRSM(4, 2, rngs=nnx.Rngs(0))(jnp.ones((3, 1, 5))), error="ValueError",
    fragment="expects [T, B, d_model=")
add("errors", "experimental.raven.SpikingSlotMemory.beta_init",
    lambda S: S.mod("experimental.raven").SpikingSlotMemory(4, 2, beta_init=0.0, rngs=nnx.Rngs(0)),
    error="ValueError", fragment="beta_init")
add("errors", "experimental.raven.SlotRouter.hard_top_k",
    lambda S: S.mod("experimental.raven").SlotRouter(4, 2, hard_top_k=0, rngs=nnx.Rngs(0)), error="ValueError",
    fragment="hard_top_k")
add("errors", "experimental.raven.make_recall_batch.n_keys",
    lambda S: S.mod("experimental.raven").make_recall_batch(jax.random.PRNGKey(0), n_pairs=3, n_keys=2),
    error="ValueError", fragment="n_keys")
add("errors", "experimental.zoo.get.unknown", lambda S: S.mod("experimental.zoo").get("no-such-recipe"),
    error="KeyError", fragment="unknown recipe")


# =============================================================================================== sharding (issue 17)
# Self-contained section. spyx.optimize's mesh=/batch_axis= options and its population API (sweep) against the
# real Spyx 1.0, which has neither: where ``S.optimize`` has the new name (ours), the case calls it; where it does
# not (Spyx 1.0), the case makes the Spyx 1.0 calls it must equal: compile_fit / fit without a mesh, one
# compile_fit per population member with that member's learning rate and key (jax.random.split(key, P)[i]). So
# these cases compare our new API with the real Spyx 1.0 numbers. Multi-device results: tests/sharding.

AREAS = (*AREAS, "sharding")


def _sh_has(S, name: str) -> bool:
    return hasattr(S.optimize, name)


def _sh_mesh(S) -> dict:
    return {"mesh": S.optimize.make_mesh()} if _sh_has(S, "make_mesh") else {}  # every device: one here


def _sh_member(S, seed: int):
    nn, rngs = S.nn, nnx.Rngs(seed)
    return nn.Sequential(nnx.Linear(3, 4, use_bias=False, rngs=rngs), nn.LIF((4,), rngs=rngs),
                         nnx.Linear(4, 2, use_bias=False, rngs=rngs), nn.LI((2,), rngs=rngs))


@case("sharding", "compile_fit.mesh")
def _sh_compile_fit(S):
    X, Y = _opt_data()
    new, hist = S.optimize.compile_fit(_opt_model(S), optax.adam(1e-2), _loss_fn(S), (X, Y), epochs=3,
                                       **_sh_mesh(S))
    return {"history": hist, "trained_state": nnx.state(new)}


@case("sharding", "fit.mesh")
def _sh_fit(S):
    model = _opt_model(S)
    X, Y = _opt_data()
    hist = S.optimize.fit(model, optax.adam(1e-2), _loss_fn(S), lambda: [(X[0], Y[0]), (X[1], Y[1])], epochs=2,
                          **_sh_mesh(S))
    return {"history": hist, "trained_state": nnx.state(model)}


def _sh_population(S, solver_of, hparams, epochs=2):
    """(trained member states, train_loss (P, epochs)) of 3 members, by sweep (ours) or compile_fit each (1.0)."""
    members = [_sh_member(S, seed) for seed in range(3)]
    X, Y = _opt_data()
    key = jax.random.PRNGKey(5)
    if _sh_has(S, "sweep"):
        kw = {"hparams": jnp.asarray(hparams, jnp.float32), "solver": solver_of} if hparams else {
            "solver": solver_of(None)}
        pop, hist = S.optimize.sweep(members, loss_fn=_loss_fn(S), train_data=(X, Y), epochs=epochs, key=key,
                                     **kw, **_sh_mesh(S))
        return [nnx.state(m) for m in S.optimize.unstack(pop)], hist["train_loss"]
    runs = [S.optimize.compile_fit(m, solver_of(hparams[i] if hparams else None), _loss_fn(S), (X, Y),
                                   epochs=epochs, key=k)
            for i, (m, k) in enumerate(zip(members, jax.random.split(key, 3), strict=True))]
    return [nnx.state(r[0]) for r in runs], jnp.stack([r[1]["train_loss"] for r in runs])


@case("sharding", "sweep.learning_rates")
def _sh_sweep_lr(S):
    states, loss = _sh_population(S, lambda lr: optax.sgd(lr), [1e-2, 3e-2, 1e-1])
    return {"train_loss": loss, "trained_states": states}


@case("sharding", "sweep.member_keys")
def _sh_sweep_keys(S):
    # a solver that learns nothing and reports uniform(init key) + uniform(step key): the member keys, exactly
    def build(loss_flat, params0):
        del loss_flat

        def init(key):
            return params0, jax.random.uniform(key)

        def step(state, batch, key):
            del batch
            return state, jax.random.uniform(key) + state[1]

        return S.optimize.SolverImpl(init, step, lambda state: state[0])

    states, loss = _sh_population(S, lambda _: build, None)
    return {"train_loss": loss, "trained_states": states}
# =============================================================================================== bench, experimental
# (issue 15 part B: spyx.bench and spyx.experimental without rf_ssm; self-contained section. The v1.0.0 surface only:
# spyx 1.0.0 has none of spyx-api.md §14, whose names are tested in tests/experimental against closed forms.)

AREAS = (*AREAS, "bench", "experimental")

# Fields of a BenchResult that are the same on every run (latencies and memory are measurements).
BENCH_FIXED = ("name", "device", "seq_len", "batch", "param_count", "spike_rate", "flops", "mfu")


def _bench_fields(r) -> dict:
    d = r.as_dict()
    out = {k: d[k] for k in BENCH_FIXED}
    out.update(keys=list(d), timed_bwd=d["fwd_bwd_latency_ms"] is not None, positive_fwd=d["fwd_latency_ms"] > 0,
               throughput_consistent=abs(d["throughput_elem_ts_per_s"] * d["fwd_latency_ms"] / 1e3
                                         - d["seq_len"] * d["batch"]) < 1e-6 * d["seq_len"] * d["batch"])
    return out


@case("bench", "benchmark.LIF")
def _bench_lif(S):
    r = S.bench.benchmark(S.nn.LIF((4,), rngs=nnx.Rngs(0)), (4,), seq_len=5, batch=2, n_warmup=1, n_iters=2)
    return _bench_fields(r)


@case("bench", "benchmark.PSU_LIF_parallel")
def _bench_psu(S):
    r = S.bench.benchmark(S.nn.PSU_LIF((4,), rngs=nnx.Rngs(0)), (4,), seq_len=5, batch=2, n_warmup=1, n_iters=2,
                          backward=False)
    return _bench_fields(r)


@case("bench", "benchmark.dense_thunk_flops")
def _bench_dense(S):
    r = S.bench.benchmark(lambda: nnx.Linear(8, 16, rngs=nnx.Rngs(0)), (8,), seq_len=5, batch=3, n_warmup=1,
                          n_iters=2, run_fn=lambda m, x: m(x), backward=False, key=jax.random.PRNGKey(2))
    return _bench_fields(r)


@case("bench", "benchmark.sequential_run_fn_tuple")
def _bench_seq(S):
    rngs = nnx.Rngs(1)
    model = S.nn.Sequential(nnx.Linear(3, 6, rngs=rngs), S.nn.LIF((6,), rngs=rngs), nnx.Linear(6, 2, rngs=rngs),
                            S.nn.LI((2,), rngs=rngs))
    r = S.bench.benchmark(model, (3,), seq_len=4, batch=2, n_warmup=1, n_iters=1, run_fn=S.nn.run, name="seq")
    return _bench_fields(r)


@case("bench", "compare_and_format_table")
def _bench_compare(S):
    models = {"lif": lambda: S.nn.LIF((3,), rngs=nnx.Rngs(0)), "psu": S.nn.PSU_LIF((3,), rngs=nnx.Rngs(0))}
    res = S.bench.compare(models, (3,), seq_lens=(2, 4), batch=1, n_warmup=0, n_iters=1, backward=False)
    lines = S.bench.format_table(res).split("\n")
    return {"rows": [[r.name, r.seq_len, r.batch, r.spike_rate, r.param_count] for r in res],
            "n_lines": len(lines), "header": lines[0].split(), "rule_is_dashes": set(lines[1]) <= {"-", " "},
            "first_row_cells": lines[2].split()[:5], "empty": S.bench.format_table([]),
            "result_fields": [f.name for f in dataclasses.fields(S.bench.BenchResult)]}


# ---- experimental: namespace

EXPERIMENTAL_V1_NAMES = [  # spyx-api.md §13.1, less the resonate-and-fire names (issue 15 part A)
    "compress", "evolve", "hybrid", "matfree", "onnx", "parallel_reset", "raven", "stochastic", "zoo", "PSU_LIF",
    "AssociativeLIF", "pack_spikes", "unpack_spikes", "packed_spike_dense", "es_gradient", "hybrid_gradient",
    "hybrid_diagnostics", "sges_gradient", "make_hybrid_train_step", "make_sges_hybrid_train_step",
    "ParallelResetLIF", "RavenRSM", "SpikingSlotMemory", "SlotRouter", "make_recall_batch", "SPSN",
    "StochasticAssociativeLIF", "StochasticAssociativeCuBaLIF", "sigmoid_bernoulli", "refractory_sigmoid_bernoulli"]


@case("experimental", "namespace")
def _x_namespace(S):
    E = S.experimental
    return {"has": {n: hasattr(E, n) for n in EXPERIMENTAL_V1_NAMES},
            "in_all": {n: n in E.__all__ for n in EXPERIMENTAL_V1_NAMES},
            "same_objects": [E.PSU_LIF is S.nn.PSU_LIF, E.AssociativeLIF is S.nn.AssociativeLIF,
                             E.ParallelResetLIF is S.mod("experimental.parallel_reset").ParallelResetLIF,
                             E.pack_spikes is S.mod("experimental.compress").pack_spikes,
                             E.RavenRSM is S.mod("experimental.raven").RavenRSM],
            "sub_all": {m: sorted(S.mod(f"experimental.{m}").__all__)
                        for m in ("evolve", "hybrid", "matfree", "raven")}}


# ---- experimental.parallel_reset


def _parallel_reset_case(beta, threshold):
    def run(S):
        PR = S.mod("experimental.parallel_reset").ParallelResetLIF
        layer = PR((4,), beta=beta, threshold=threshold, rngs=nnx.Rngs(3))
        x = normal(21, (8, B, 4), 1.2, 0.3)

        def apply(m, xx):
            return {"run": S.nn.run(m, xx), "spikes_K0": m.parallel(xx, K=0), "spikes_K3": m.parallel(xx),
                    "spikes_K8": m.parallel(xx, K=8)}

        g = grads(layer, apply, x)
        return {"layer": describe(layer), "value": g.pop("value"), "grads": g}

    return run


add("experimental", "ParallelResetLIF.drawn", _parallel_reset_case(None, 1.0))
add("experimental", "ParallelResetLIF.scalar", _parallel_reset_case(0.8, 0.7))


# ---- experimental.stochastic


@case("experimental", "stochastic.surrogates")
def _x_bernoulli(S):
    st = S.mod("experimental.stochastic")
    x = jnp.linspace(-0.5, 2.5, 13)
    key = jax.random.PRNGKey(4)
    out = {}
    for name, f in (("sigmoid", st.sigmoid_bernoulli()), ("sigmoid_k3", st.sigmoid_bernoulli(3.0, 0.5, 0.9)),
                    ("refractory", st.refractory_sigmoid_bernoulli()),
                    ("refractory_k5", st.refractory_sigmoid_bernoulli(5.0, 1.0))):
        out[name] = input_grads(lambda xx, f=f: f(xx, key), x)
        out[name]["spikes"] = out[name].pop("value")
    return out


def _stochastic_case(kind):
    def run(S):
        st = S.mod("experimental.stochastic")
        rngs = nnx.Rngs(5)
        layer = {"SPSN": lambda: st.SPSN((4,), rngs=rngs),
                 "SPSN_k": lambda: st.SPSN((4,), threshold=0.5, k=4, rngs=rngs),
                 "LIF": lambda: st.StochasticAssociativeLIF((4,), rngs=rngs),
                 "LIF_nospike": lambda: st.StochasticAssociativeLIF((4,), spike=False, rngs=rngs),
                 "CuBaLIF": lambda: st.StochasticAssociativeCuBaLIF((4,), threshold=0.8, k=20, rngs=rngs)}[kind]()
        x = normal(22, (B, 7, 4), 0.8, 0.6)
        key = jax.random.PRNGKey(6)
        out = grads(layer, lambda m, xx: m(key, xx), x)
        value = out.pop("value")
        if isinstance(value, tuple):
            out["spikes"], out["membrane"] = value
        else:
            out["spikes"] = value
        return {"state": nnx.state(layer), **out}

    return run


for _k in ("SPSN", "SPSN_k", "LIF", "LIF_nospike", "CuBaLIF"):
    add("experimental", f"stochastic.{_k}", _stochastic_case(_k))


# ---- experimental.raven


def _raven_case(kind):
    def run(S):
        rv = S.mod("experimental.raven")
        rngs = nnx.Rngs(7)
        if kind.startswith("RavenRSM"):
            top = 2 if kind.endswith("top2") else None
            layer = rv.RavenRSM(4, 3, 2, hard_top_k=top, decay_init=0.8, rngs=rngs)
        else:
            layer = rv.SpikingSlotMemory(4, 3, hard_top_k=1 if kind.endswith("top1") else None, beta_init=0.7,
                                         threshold=0.3, rngs=rngs)
        u = normal(23, (5, B, 4), 1.5)

        def apply(m, uu):
            S0 = m.initial_state(B)
            S1, y0 = m.step(S0, uu[0])
            return {"call": m(uu), "step0_state": S1, "step0_out": y0}

        g = grads(layer, apply, u)
        value = g.pop("value")
        if kind.startswith("Spiking"):
            value["spikes"] = value.pop("call")
        return {"state": nnx.state(layer), "attrs": [layer.d_model, layer.n_slots, layer.d_slot],
                "initial_state": layer.initial_state(3), "value": value, "grads": g}

    return run


for _k in ("RavenRSM", "RavenRSM.top2", "SpikingSlotMemory", "SpikingSlotMemory.top1"):
    add("experimental", f"raven.{_k}", _raven_case(_k))


@case("experimental", "raven.router_ties_and_recall_batch")
def _x_router(S):
    rv = S.mod("experimental.raven")
    router = rv.SlotRouter(3, 4, hard_top_k=2, rngs=nnx.Rngs(8))
    router.proj.kernel[...] = jnp.zeros((3, 4))
    router.proj.bias[...] = jnp.asarray([0.5, 0.5, 0.5, -1.0])  # a three-way tie for two places
    u, target = rv.make_recall_batch(jax.random.PRNGKey(0), batch=2, n_pairs=2, n_keys=3, n_values=3)
    u2, t2 = rv.make_recall_batch(jax.random.PRNGKey(9))
    return {"tied": router(jnp.ones((2, 3))), "attrs": [router.n_slots, router.hard_top_k],
            "recall": {"u": u, "target": target}, "recall_default": {"u": u2, "target": t2}}


# ---- experimental.compress


@case("experimental", "compress.pack_unpack")
def _x_pack(S):
    cp = S.mod("experimental.compress")
    out = {}
    for n in (5, 8, 13, 33):
        x = (normal(24 + n, (3, n)) > 0.3).astype(jnp.float32)
        packed = cp.pack_spikes(x, axis=-1)
        packed0 = cp.pack_spikes(x.T, axis=0)
        out[str(n)] = {"packed": packed, "packed_axis0": packed0, "back": cp.unpack_spikes(packed, n, axis=-1),
                       "back_axis0": cp.unpack_spikes(packed0, n, axis=0)}
    out["graded"] = cp.pack_spikes(jnp.asarray([0.0, 0.4, 1.0, 2.0, -1.0, 0.0, 0.0, 3.5, 1.0]))
    return out


@case("experimental", "compress.packed_spike_dense")
def _x_psd(S):
    cp = S.mod("experimental.compress")
    spikes = (normal(25, (3, 2, 11)) > 0.2).astype(jnp.float32)
    graded = normal(26, (3, 2, 11), 0.7, 0.5)
    w = normal(27, (11, 5))
    return {"spikes_case": input_grads(cp.packed_spike_dense, spikes, w),
            "graded_case": input_grads(cp.packed_spike_dense, graded, w)}


# ---- experimental.hybrid and evolve


def _hyb_model(S):
    rngs = nnx.Rngs(10)
    return S.nn.Sequential(nnx.Linear(3, 4, rngs=rngs), S.nn.LIF((4,), rngs=rngs), nnx.Linear(4, 2, rngs=rngs),
                           S.nn.LI((2,), rngs=rngs))


def _hyb_data():
    return 2.0 * jax.random.normal(jax.random.PRNGKey(3), (2, 4, 5, 3)), jnp.asarray([[0, 1, 0, 1], [1, 0, 1, 0]])


def _hyb_loss(S):
    ce = S.fn.integral_crossentropy()
    return lambda m, x, y: ce(S.nn.run(m, x, batch_major=True)[0], y)


def _hyb_true(S):  # a loss without a surrogate's help: the spike count of the hidden layer against a target
    return lambda m, x, y: jnp.mean((jnp.mean(S.nn.run(m, x, batch_major=True)[0], axis=1) - 0.1) ** 2)


@case("experimental", "hybrid.flat_estimators")
def _x_flat(S):
    hy = S.mod("experimental.hybrid")
    theta = jnp.asarray([1.0, -2.0, 0.5])
    f = lambda t: jnp.sum(t**2)  # noqa: E731
    g_es = hy._es_flat(theta, f, jax.random.PRNGKey(0), num_samples=4, sigma=0.1)
    sg = hy._sges_flat(theta, f, jnp.asarray([1.0, 0.0, 0.0]), jax.random.PRNGKey(0), num_samples=4, sigma=0.1,
                       eps=1e-8)
    big = hy._es_flat(jnp.linspace(-1, 1, 6), lambda t: jnp.sum(jnp.sin(t)), jax.random.PRNGKey(1), num_samples=9,
                      sigma=0.05)
    return {"es": g_es, "sges": list(sg), "es_big": big}


@case("experimental", "hybrid.gradients")
def _x_hybrid(S):
    hy = S.mod("experimental.hybrid")
    model = _hyb_model(S)
    X, Y = _hyb_data()
    ls, lt = _hyb_loss(S), _hyb_true(S)
    key = jax.random.PRNGKey(11)
    batch = (X[0], Y[0])
    out = {"es": hy.es_gradient(model, lt, key, batch=batch, num_samples=6, sigma=0.05)}
    for name, kw in (("plain", {}), ("lam0", {"lam": 0.0}), ("normalized", {"normalize": True, "lam": 0.5})):
        g, d = hy.hybrid_gradient(model, ls, lt, key, batch=batch, num_samples=6, sigma=0.05, return_diagnostics=True,
                                  **kw)
        out[name] = {"grads": g, "diagnostics": d}
    out["diagnostics_only"] = hy.hybrid_diagnostics(model, ls, lt, key, batch=batch, num_samples=6, sigma=0.05)
    g, d = hy.sges_gradient(model, ls, lt, key, batch=batch, num_samples=6, sigma=0.05, lam=0.7,
                            return_diagnostics=True)
    out["sges"] = {"grads": g, "diagnostics": d}
    return out


@case("experimental", "hybrid.train_steps")
def _x_hybrid_steps(S):
    hy = S.mod("experimental.hybrid")
    X, Y = _hyb_data()
    out = {}
    for name, make in (("hybrid", hy.make_hybrid_train_step), ("sges", hy.make_sges_hybrid_train_step)):
        model = _hyb_model(S)
        opt = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
        step = make(_hyb_loss(S), _hyb_true(S), num_samples=4, sigma=0.05, lam=0.5)
        losses = [step(model, opt, jax.random.PRNGKey(12 + i), X[i], Y[i]) for i in range(2)]
        out[name] = {"losses": losses, "state": nnx.state(model, nnx.Param)}
    return out


@case("experimental", "evolve.es_compile_fit")
def _x_evolve(S):
    ev = S.mod("experimental.evolve")
    model = _hyb_model(S)
    X, Y = _hyb_data()
    new, hist = S.optimize.compile_fit(model, ev.es(optax.adam(5e-2), num_samples=6, sigma=0.05), _hyb_loss(S),
                                       (X, Y), epochs=3, key=jax.random.PRNGKey(13))
    impl = ev.es(optax.sgd(0.1), num_samples=4, sigma=0.1)(lambda p, b: jnp.sum((p["w"] - b[0]) ** 2),
                                                          {"w": jnp.ones(3)})
    st = impl.init(jax.random.PRNGKey(0))
    st2, metric = impl.step(st, (jnp.arange(3.0),), jax.random.PRNGKey(1))
    return {"history": hist, "trained": nnx.state(new, nnx.Param), "step_params": impl.get_params(st2),
            "step_metric": metric, "all": sorted(ev.__all__)}


# ---- experimental.matfree


@case("experimental", "matfree.functions")
def _x_matfree_fns(S):
    mf = S.mod("experimental.matfree")
    w = jnp.asarray([[0.3, -0.05, 1.2], [-0.8, 0.01, 0.4]])
    x = normal(28, (2, 7), 1.3)
    return {"ternary": mf.ternary_weights(w), "pow2": mf.power_of_two_weights(w),
            "pow2_range": mf.power_of_two_weights(normal(29, (4, 4), 3.0), min_exp=-3, max_exp=2),
            "aq4": mf.activation_quant(jnp.asarray([[0.1, -0.5, 0.26]]), bits=4),
            "aq": input_grads(lambda xx: mf.activation_quant(xx, bits=3), x),
            "ste": input_grads(lambda xx: mf.ste(xx, jnp.round(xx)), x)}


def _matfree_case(kind):
    def run(S):
        mf = S.mod("experimental.matfree")
        rngs = nnx.Rngs(14)
        layer = {"TernaryLinear": lambda: mf.TernaryLinear(5, 3, rngs=rngs, use_bias=True, activation_bits=4),
                 "ShiftAddLinear": lambda: mf.ShiftAddLinear(5, 3, rngs=rngs, use_bias=True, min_exp=-4),
                 "TernaryMLP": lambda: mf.TernaryMLP(5, 6, rngs=rngs),
                 "RMSNorm": lambda: mf.RMSNorm(5, rngs=rngs),
                 "MLGRU": lambda: mf.MLGRU(5, 6, rngs=rngs),
                 "MatMulFreeBlock": lambda: mf.MatMulFreeBlock(5, rngs=rngs, mlp_ratio=2)}[kind]()
        x = normal(30, (B, 6, 5), 0.9)
        g = grads(layer, lambda m, xx: m(xx), x)
        return {"state": nnx.state(layer), **g}

    return run


for _k in ("TernaryLinear", "ShiftAddLinear", "TernaryMLP", "RMSNorm", "MLGRU", "MatMulFreeBlock"):
    add("experimental", f"matfree.{_k}", _matfree_case(_k))


# ---- experimental.onnx (the signature needs no ONNX package)


@case("experimental", "onnx.step_signature")
def _x_onnx(S):
    ox = S.mod("experimental.onnx")
    rngs = nnx.Rngs(0)
    cuba = S.nn.Sequential(nnx.Linear(2, 3, rngs=rngs), S.nn.CuBaLIF((3,), rngs=rngs))
    deep = S.nn.Sequential(nnx.Linear(8, 16, rngs=rngs), S.nn.LIF((16,), rngs=rngs), nnx.Linear(16, 4, rngs=rngs),
                           S.nn.LI((4,), rngs=rngs))
    out = {}
    for name, sig in (("cuba", ox.step_signature(cuba, (2,), batch=2)), ("deep", ox.step_signature(deep, (8,))),
                      ("seq", ox.step_signature(deep, (8,), batch=3, sequence_length=5))):
        out[name] = {f.name: (str(sig.input_dtype) if f.name == "input_dtype" else
                              [str(d) for d in sig.state_dtypes] if f.name == "state_dtypes" else
                              str(sig.output_dtype) if f.name == "output_dtype" else
                              sig.state_treedef.num_leaves if f.name == "state_treedef" else getattr(sig, f.name))
                     for f in dataclasses.fields(sig)}
        out[name]["num_state"] = sig.num_state
        out[name]["seed_state"] = sig.seed_state()
        out[name]["treedef_roundtrip"] = jax.tree_util.tree_unflatten(sig.state_treedef, sig.seed_state())
    return out


# ---- experimental.zoo (the recipes that need neither evosax nor spyx.ssm)


@case("experimental", "zoo.registry_and_recipes")
def _x_zoo(S):
    zoo = S.mod("experimental.zoo")
    recipes = {n: [r.name, r.application, r.method, r.architecture] for n, r in zoo.REGISTRY.items()}
    ctrl, cls = zoo.get("control-lif-es"), zoo.get("classification-rsnn")
    cmodel = ctrl.build(nnx.Rngs(0))
    cbatch = ctrl.synthetic_batch(jax.random.PRNGKey(1), batch_size=4)
    kmodel = cls.build(nnx.Rngs(0))
    kbatch = cls.synthetic_batch(jax.random.PRNGKey(2), batch_size=6)
    return {"keys": list(zoo.REGISTRY), "recipes": recipes,
            "fields": [f.name for f in dataclasses.fields(zoo.Recipe)],
            "by_method": [r.name for r in zoo.list_recipes(method="surrogate")],
            "by_app": [r.name for r in zoo.list_recipes(application="control")],
            "none": zoo.list_recipes(application="control", method="gradient"),
            "control": {"state": nnx.state(cmodel), "batch": cbatch, "loss": ctrl.loss(cmodel, *cbatch),
                        "default_batch": ctrl.synthetic_batch()},
            "classification": {"state": nnx.state(kmodel), "batch": {"spikes": kbatch[0], "labels": kbatch[1]},
                               "loss": cls.loss(kmodel, *kbatch)},
            "constants": [zoo.control.OBS_DIM, zoo.control.HIDDEN, zoo.control.ACT_DIM, zoo.control.DT,
                          zoo.control.ROLLOUT_STEPS, zoo.classification.TIME, zoo.classification.INPUTS,
                          zoo.classification.HIDDEN, zoo.classification.CLASSES]}


@case("experimental", "zoo.classification_demo")
def _x_zoo_demo(S):
    return {"losses": S.mod("experimental.zoo").get("classification-rsnn").demo(steps=3)}


# =============================================================================================== ssm, phasor, rf_ssm
# Issue 15, part A: spyx.ssm, spyx.phasor and spyx.experimental.rf_ssm (spyx-api.md §10, §11, §13.9). Every case
# builds its layers with fixed nnx.Rngs seeds, records the parameters as constructed (draws and their order), the
# outputs, and the gradients of a loss w.r.t. every Param and input from one jitted program.

AREAS = (*AREAS, "ssm", "phasor", "experimental.rf_ssm")

SSM_ATTRS = ("d_model", "d_state", "d_inner", "dt_rank", "d_conv", "use_skip", "chunk_size", "pool")


def ssm_describe(layer) -> dict:
    d = {"class": type(layer).__name__, "state": nnx.state(layer), "has_initial_state": hasattr(layer, "initial_state")}
    for a in SSM_ATTRS:
        if hasattr(layer, a):
            d[a] = pyval(getattr(layer, a))
    if hasattr(layer, "D"):
        d["D_is_None"] = layer.D is None
    return d


def _ssm_case(build, inputs, extra=None):
    """``build(S) -> {name: layer}``; every layer applied to its input (``inputs[name]``: a seed and shape),
    differentiated together; ``extra(S, layers) -> dict`` (values computed in the same program)."""

    def run(S):
        layers = build(S)
        names_ = list(layers)
        xs = [normal(seed, shape, 1.0, 0.2) for seed, shape in (inputs[k] for k in names_)]

        def apply(ms, *us):
            out = {k: ms[i](us[i]) for i, k in enumerate(names_)}
            if extra is not None:
                out["extra"] = extra(S, dict(zip(names_, ms, strict=True)))
            return out

        described = {k: ssm_describe(v) for k, v in layers.items()}
        g = grads(nnx.List([layers[k] for k in names_]), apply, *xs)
        return {"layers": described, "inputs": dict(zip(names_, xs, strict=True)), "outputs": g.pop("value"),
                "grads": g}

    return run


# Layers of one case share their shapes where they can: the eager construction ops then compile once.
def _lru_layers(S):
    return {"golden": S.ssm.LRU(2, 3, rngs=nnx.Rngs(0)),
            "ranges_no_skip": S.ssm.LRU(2, 3, r_min=0.5, r_max=0.9, use_skip=False, rngs=nnx.Rngs(1))}


def _complex_parts(S, ms):
    out = {}
    for k, m in ms.items():
        lam, Bm, Cm = m._complex_matrices()
        out[k] = {"lam": [jnp.real(lam), jnp.imag(lam)], "B": [jnp.real(Bm), jnp.imag(Bm)],
                  "C": [jnp.real(Cm), jnp.imag(Cm)]}
    out["golden_ones"] = ms["golden"](jnp.ones((4, 1, 2)))  # spyx-api.md §18.7
    return out


add("ssm", "LRU", _ssm_case(_lru_layers, {"golden": (20, (T, B, 2)), "ranges_no_skip": (21, (T, B, 2))},
                           _complex_parts))


def _s5_layers(S):
    zero = S.ssm.S5Diag(2, 3, dt_min=1e-2, dt_max=0.5, use_skip=False, rngs=nnx.Rngs(1))
    # a continuous eigenvalue of exactly 0 (softplus(-inf) = 0): the ZOH guard's branch (Spyx 1.0 test_ssm)
    zero.A_re_raw = nnx.Param(zero.A_re_raw[...].at[0].set(-jnp.inf))
    zero.A_im = nnx.Param(zero.A_im[...].at[0].set(0.0))
    return {"golden": S.ssm.S5Diag(2, 3, rngs=nnx.Rngs(0)), "dt_range_no_skip_zero_eigenvalue": zero}


add("ssm", "S5Diag", _ssm_case(_s5_layers, {"golden": (23, (T, B, 2)), "dt_range_no_skip_zero_eigenvalue":
                                            (24, (T, B, 2))}, _complex_parts))


def _mamba_layers(S):
    return {"default_dt_rank_2": S.ssm.Mamba(20, d_state=3, rngs=nnx.Rngs(0)),  # ceil(20 / 16) = 2
            "dt_rank_3_range": S.ssm.Mamba(20, d_state=3, dt_rank=3, dt_min=1e-2, dt_max=0.2, rngs=nnx.Rngs(1))}


add("ssm", "Mamba", _ssm_case(_mamba_layers, {"default_dt_rank_2": (27, (5, B, 20)),
                                              "dt_rank_3_range": (28, (5, B, 20))}))
add("ssm", "MambaBlock", _ssm_case(lambda S: {"default": S.ssm.MambaBlock(4, d_state=3, rngs=nnx.Rngs(0))},
                                   {"default": (30, (T, B, 4))}))


def _chunked_layers(S):
    ssm = S.ssm
    return {"mean_lru_s5": ssm.ChunkedSSM(ssm.LRU(2, 3, rngs=nnx.Rngs(0)), ssm.S5Diag(2, 3, rngs=nnx.Rngs(1)),
                                          chunk_size=2),
            "last_lru": ssm.ChunkedSSM(ssm.LRU(2, 3, rngs=nnx.Rngs(2)), ssm.LRU(2, 3, rngs=nnx.Rngs(3)),
                                       chunk_size=3, pool="last"),
            "mamba_inner_chunk_T": ssm.ChunkedSSM(ssm.MambaBlock(2, d_state=3, d_conv=2, expand=1,
                                                                 rngs=nnx.Rngs(4)),
                                                  ssm.LRU(2, 3, rngs=nnx.Rngs(5)), chunk_size=T)}


add("ssm", "ChunkedSSM", _ssm_case(_chunked_layers, {"mean_lru_s5": (32, (T, B, 2)), "last_lru": (33, (T, B, 2)),
                                                     "mamba_inner_chunk_T": (34, (T, B, 2))}))


@case("ssm", "private_scans")
def _ssm_scans(S):
    """Spyx 1.0's private scan hooks (its tests call them): values and input gradients."""
    ssm = S.ssm
    rng = np.random.default_rng(36)
    lam = jnp.asarray(0.9 * np.exp(1j * rng.uniform(-2, 2, 4)) * rng.uniform(0.5, 1.0, 4), jnp.complex64)
    Bu = jnp.asarray(rng.standard_normal((7, 2, 4)) + 1j * rng.standard_normal((7, 2, 4)), jnp.complex64)
    A_bar = uniform(37, (7, 2, 3, 2), 0.3, 1.0)
    Bu_bar = normal(38, (7, 2, 3, 2))

    def fn(lam, Bu, A_bar, Bu_bar):
        parts = [ssm._diagonal_scan(lam, Bu), ssm._diagonal_scan_reference(lam, Bu)]
        return {"diagonal": [[jnp.real(p), jnp.imag(p)] for p in parts],
                "selective": [ssm._selective_scan(A_bar, Bu_bar), ssm._selective_scan_reference(A_bar, Bu_bar)]}

    return {"inputs": [lam, Bu, A_bar, Bu_bar], **input_grads(fn, lam, Bu, A_bar, Bu_bar)}


@case("ssm", "draw_order_and_to_nir")
def _ssm_draws(S):
    """One shared nnx.Rngs: each layer takes its draws in construction order (§2.4), the default d_state included;
    to_nir skips every SSM layer with a printed warning and keeps the rest of the chain (§8.2)."""
    ssm, rngs = S.ssm, nnx.Rngs(0)
    layers = [nnx.Linear(2, 2, rngs=rngs), ssm.LRU(2, 3, rngs=rngs), ssm.S5Diag(2, 3, rngs=rngs),
              ssm.Mamba(2, 3, rngs=rngs), ssm.MambaBlock(2, 3, d_conv=2, expand=1, rngs=rngs)]
    layers += [ssm.ChunkedSSM(ssm.LRU(2, 3, rngs=rngs), ssm.LRU(2, 3, rngs=rngs), chunk_size=2),
               nnx.Linear(2, 2, rngs=rngs)]
    defaults = [ssm.LRU(2, rngs=rngs), ssm.S5Diag(2, rngs=rngs)]
    model = nnx.Sequential(*layers)
    with captured() as buf:
        g = S.nir.to_nir(model, {"input": (2,)}, {"output": (2,)}, dt=1.0)
    warned = [ln for ln in buf.getvalue().splitlines() if "not recognized/supported for NIR export" in ln]
    u = normal(39, (4, 1, 2))
    return {"states": [nnx.state(m) for m in layers], "defaults": [ssm_describe(m) for m in defaults],
            "graph": nir_graph(g), "n_warnings": len(warned),
            "warned_names": [any(type(m).__name__ in ln for ln in warned) for m in layers],
            "whole_model": jax.jit(lambda uu: model(uu))(u)}


# ---- phasor


@case("phasor", "codecs")
def _phasor_codecs(S):
    ph = S.phasor
    x = jnp.asarray([-1.0, -0.3, 0.0, 0.25, 0.5, 0.999, 1.0, 1.7], jnp.float32)
    theta = jnp.asarray([-np.pi, -3.0, -1.0, -1e-6, 0.0, 1e-6, 1.0, 3.0, np.pi, 4.0, -4.0], jnp.float32)
    theta2 = normal(40, (3, 2), 2.0)
    silent = jnp.zeros((6, 3), jnp.float32).at[2, 1].set(1.0).at[4, 1].set(1.0)  # a silent unit, one spiking twice
    eye_int = jnp.eye(5, dtype=jnp.int32)

    def fn(x):
        z = ph.real_to_phasor(x)
        z2 = ph.real_to_phasor(x, 0.5)
        return {"real_to_phasor": [jnp.real(z), jnp.imag(z)], "scale_0.5": [jnp.real(z2), jnp.imag(z2)],
                "phasor_to_real": ph.phasor_to_real(z), "phase_of": ph.phase_of(z), "phase_of_scaled": ph.phase_of(z2)}

    @jax.jit  # one program instead of one compile per eager op
    def spikes(theta, theta2, silent, eye_int):
        train = ph.phase_to_spikes(theta2, 7)
        return {"phase_to_spikes": {str(t): ph.phase_to_spikes(theta, t) for t in (1, 4, 8)}, "train_2d": train,
                "golden_18_6": {"bins": jnp.argmax(ph.phase_to_spikes(jnp.asarray([-np.pi, -1, 0, 1, np.pi]), 4), 0),
                                "eye": ph.spikes_to_phase(jnp.eye(4))},
                "spikes_to_phase": {"round_trip": ph.spikes_to_phase(train), "T_given": ph.spikes_to_phase(train, 7),
                                    "silent_and_two_spikes": ph.spikes_to_phase(silent),
                                    "int_train": ph.spikes_to_phase(eye_int)}}

    dtypes = {"real_to_phasor": jnp.dtype(ph.real_to_phasor(x).dtype).name,
              "phase_to_spikes": jnp.dtype(ph.phase_to_spikes(theta, 5).dtype).name}
    return {"inputs": [x, theta, theta2, silent, eye_int], **input_grads(fn, x), "dtypes": dtypes,
            **spikes(theta, theta2, silent, eye_int)}


@case("phasor", "layers")
def _phasor_layers(S):
    ph = S.phasor
    layers = [ph.PhasorLinear(2, 2, rngs=nnx.Rngs(0)), ph.PhasorLinear(3, 4, use_bias=False, rngs=nnx.Rngs(1)),
              ph.PhasorReadout(4, 2, rngs=nnx.Rngs(2)), ph.PhasorActivation(), ph.PhasorActivation(eps=0.5)]
    layers[0].bias_re[...] = jnp.asarray([0.3, -0.2], jnp.float32)  # a nonzero bias reaches the output
    layers[0].bias_im[...] = jnp.asarray([0.1, 0.4], jnp.float32)
    rng = np.random.default_rng(41)
    z2 = jnp.asarray(rng.standard_normal((B, 2)) + 1j * rng.standard_normal((B, 2)), jnp.complex64)
    z3 = jnp.asarray(rng.standard_normal((B, 3)) + 1j * rng.standard_normal((B, 3)), jnp.complex64)
    zz = jnp.asarray([[0.0, 1 + 1j, 0.1, -2 + 0.5j, 1e-9j]], jnp.complex64)

    def apply(ms, z2, z3, zz):
        lin = ms[0](z2)
        nob = ms[1](z3)
        act = [ms[3](nob), ms[4](nob), ms[3](zz)]
        return {"linear": [jnp.real(lin), jnp.imag(lin)], "no_bias": [jnp.real(nob), jnp.imag(nob)],
                "activation": [[jnp.real(a), jnp.imag(a)] for a in act], "readout": ms[2](ms[3](nob)),
                "kernel": [jnp.real(ms[0].kernel), jnp.imag(ms[0].kernel)]}

    g = grads(nnx.List(layers), apply, z2, z3, zz)
    return {"layers": [describe(m) for m in layers], "bias_none": [layers[1].bias is None, layers[1].bias_re is None],
            "eps": [layers[3].eps, layers[4].eps], "inputs": [z2, z3, zz], "outputs": g.pop("value"), "grads": g}


@case("phasor", "PhasorMLP")
def _phasor_mlp(S):
    ph = S.phasor
    models = [ph.PhasorMLP(3, 4, 2, rngs=nnx.Rngs(0)), ph.PhasorMLP(3, 5, 3, depth=1, rngs=nnx.Rngs(1)),
              ph.PhasorMLP(2, 3, 2, depth=3, rngs=nnx.Rngs(2))]
    x = uniform(42, (B, 3))
    rng = np.random.default_rng(43)
    zc = jnp.asarray(np.exp(1j * rng.uniform(-3, 3, (B, 2))), jnp.complex64)
    g = grads(nnx.List(models), lambda ms, x, zc: [ms[0](x), ms[1](x), ms[2](zc)], x, zc)
    return {"states": [nnx.state(m) for m in models], "n_layers": [len(m.layers) for m in models],
            "layer_classes": [[type(lay).__name__ for lay in m.layers] for m in models], "inputs": [x, zc],
            "outputs": g.pop("value"), "grads": g}


@case("phasor", "SpikingPhasor")
def _spiking_phasor(S):
    ph = S.phasor
    sp = ph.SpikingPhasor(ph.PhasorLinear(4, 3, rngs=nnx.Rngs(0)), 16)
    train = ph.phase_to_spikes(normal(44, (B, 4), 2.0), 16)
    multi = train.at[3].set(1.0).at[:, 0, 1].set(0.0)  # a unit that spikes twice and a silent one
    out = jax.jit(lambda a, b: {"spikes": sp(a), "multi_spikes": sp(b)})(train, multi)
    return {"attrs": {"T": sp.T, "layer": type(sp.layer).__name__, "activation": type(sp.activation).__name__,
                      "has_initial_state": hasattr(sp, "initial_state")},
            "inputs": [train, multi], **out, "state": nnx.state(sp)}


def _resonate_case(build, hidden=(N,)):
    """Construction, one step, ``run`` (time-major), ``parallel`` and their gradients, in one jitted program."""

    def run(S):
        layers = build(S)
        x1 = normal(45, (B, *hidden), 1.0, 0.3)
        rng = np.random.default_rng(46)
        z0 = jnp.asarray(rng.standard_normal((B, *hidden)) + 1j * rng.standard_normal((B, *hidden)), jnp.complex64)
        xs = normal(47, (T, B, *hidden), 1.0, 0.4)

        def apply(ms, x1, z0, xs):
            out = []
            for m in ms:
                s, z = m(x1, z0)
                spikes, final = S.nn.run(m, xs)
                a = m.a
                out.append({"step_spikes": s, "step_state": [jnp.real(z), jnp.imag(z)], "run_spikes": spikes,
                            "run_final": [jnp.real(final), jnp.imag(final)], "parallel_spikes": m.parallel(xs),
                            "a": [jnp.real(a), jnp.imag(a)], "decay": m.decay})
            return out

        described = {k: describe(v) for k, v in layers.items()}
        g = grads(nnx.List(list(layers.values())), apply, x1, z0, xs)
        v = g.pop("value")
        return {"layers": described, "inputs": {"x1": x1, "z0": z0, "xs": xs},
                "values": dict(zip(layers, v, strict=True)), "grads": g,
                "attrs": {k: {"dt": pyval(getattr(m, "dt", None)),
                              "initial_state_dtype": jnp.dtype(m.initial_state(2).dtype).name}
                          for k, m in layers.items()}}

    return run


def _rf_layers(S):
    RF = S.phasor.ResonateFire
    return {"default": RF((N,), rngs=nnx.Rngs(0)),
            "scalars": RF((N,), lambda_init=0.1, omega_init=1.0, threshold=0.5, rngs=nnx.Rngs(0)),
            "lambda_only_dt_arctan_thr_array": RF((N,), lambda_init=0.3, dt=0.5, activation=S.axn.arctan(1.0),
                                                  threshold=jnp.asarray(THRESHOLDS, jnp.float32) - 0.5,
                                                  rngs=nnx.Rngs(1))}


add("phasor", "ResonateFire", _resonate_case(_rf_layers))
add("phasor", "ResonateFire.hidden_2d",
    _resonate_case(lambda S: {"default": S.phasor.ResonateFire((2, 3), threshold=0.4, rngs=nnx.Rngs(3))},
                   hidden=(2, 3)))


@case("phasor", "ResonateFire.golden_18_7")
def _rf_golden(S):
    RF = S.phasor.ResonateFire
    r3 = RF((3,), rngs=nnx.Rngs(0))
    r2 = RF((2,), rngs=nnx.Rngs(0))
    rs = RF((3,), lambda_init=0.1, omega_init=1.0, rngs=nnx.Rngs(0))
    return {"r3": {"state": nnx.state(r3), "decay": r3.decay, "abs_a": jnp.abs(r3.a)}, "r2_a": r2.a,
            "scalars": {"state": nnx.state(rs), "a": rs.a}, "same_class_in_experimental":
            S.mod("experimental").ResonateFire is RF}


# ---- experimental.rf_ssm


def _rfssm_layers(S):
    RFSSM = S.mod("experimental.rf_ssm").RFSSM
    return {"hippo": RFSSM((N,), rngs=nnx.Rngs(0)),
            "hippo_reset_dt": RFSSM((N,), reset_init=0.75, threshold=0.5, dt_min=1e-2, dt_max=0.5, rngs=nnx.Rngs(7)),
            "lru_reset_range_arctan": RFSSM((N,), pole_init="lru", reset_init=0.3, r_min=0.6, r_max=0.9,
                                            threshold=0.2, activation=S.axn.arctan(1.0), rngs=nnx.Rngs(3))}


@case("experimental.rf_ssm", "RFSSM")
def _rfssm(S):
    res = _resonate_case(_rfssm_layers)(S)
    mod = S.mod("experimental.rf_ssm")
    x = normal(48, (T, B, N), 1.0, 0.1)
    res["properties"] = {k: {"step": m.step, "drive": [jnp.real(m._drive(x)), jnp.imag(m._drive(x))]}
                         for k, m in _rfssm_layers(S).items()}
    res["alias"] = mod.ResonateFireSSM is mod.RFSSM
    res["in_experimental"] = [S.mod("experimental").RFSSM is mod.RFSSM,
                              S.mod("experimental").ResonateFireSSM is mod.RFSSM]
    res["subclass_of_ResonateFire"] = issubclass(mod.RFSSM, S.phasor.ResonateFire)
    return res


add("experimental.rf_ssm", "RFSSM.hidden_2d",
    _resonate_case(lambda S: {"hippo": S.mod("experimental.rf_ssm").RFSSM((2, 3), reset_init=0.2, threshold=0.3,
                                                                         rngs=nnx.Rngs(5)),
                              "lru": S.mod("experimental.rf_ssm").RFSSM((2, 3), pole_init="lru", threshold=0.3,
                                                                       rngs=nnx.Rngs(6))}, hidden=(2, 3)))


@case("experimental.rf_ssm", "RFSSM.to_nir_skipped")
def _rfssm_to_nir(S):
    RFSSM = S.mod("experimental.rf_ssm").RFSSM
    model = S.nn.Sequential(nnx.Linear(3, 4, rngs=nnx.Rngs(0)), RFSSM((4,), rngs=nnx.Rngs(0)),
                            nnx.Linear(4, 2, rngs=nnx.Rngs(1)))
    with captured() as buf:
        g = S.nir.to_nir(model, {"input": (3,)}, {"output": (2,)})
    return {"graph": nir_graph(g), "warned": "RFSSM" in buf.getvalue() and "not recognized" in buf.getvalue()}


# ====================================================================== package (issue 13: lazy `import spyx`)
# `import spyx` loads its submodules on first use (PEP 562) where Spyx 1.0 imported them all eagerly; these cases
# check that every top-level name of Spyx 1.0 is still there and is the same thing.

AREAS = (*AREAS, "package")

_SPYX1_TOP = ("jax", "jnp", "axn", "bench", "data", "experimental", "fn", "nir", "nn", "optimize", "phasor",
              "quant", "ssm")


@case("package", "top_level_names")
def _package_top_level_names(S):
    root = S.root
    prefix = root.__name__ + "."
    return {
        # the module each name is (its name relative to the package, or jax's own)
        "modules": {n: getattr(root, n).__name__.removeprefix(prefix) for n in _SPYX1_TOP},
        "from_import": [getattr(importlib.import_module(root.__name__), n) is getattr(root, n) for n in _SPYX1_TOP],
        "missing_from_all": sorted(set(_SPYX1_TOP) - set(root.__all__)),
        "missing_from_dir": sorted(set(_SPYX1_TOP) - set(dir(root))),
        "version_is_str": isinstance(root.__version__, str),
        "LIF_is_a_class": isinstance(root.nn.LIF, type),
    }
