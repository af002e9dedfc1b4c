"""Program interface: errors, shapes, dtypes, the discretize pass, run_file, jit/vmap/grad, fine-tuning."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import spyx
from spyx.errors import CompileError, InputError, MissingDtError, OptionError
from spyx.ir import LIF, Affine, Delay, Graph
from spyx.passes import get_pass, parse_pipeline
from spyx.passes.discretize import Discretize
from tests.graphgen import DT, multi_io_graph, primitive_graphs

F32 = np.float32


def lif_graph(n=3, dtype=F32):
    ones = np.ones(n, dtype)
    lif = LIF(tau=ones * 5e-3, r=ones, v_leak=ones * 0, v_threshold=ones * 0.5, v_reset=ones * 0)
    return Graph.sequential(
        [("fc", Affine(weight=np.eye(n, dtype=dtype), bias=np.zeros(n, dtype))), ("lif1", lif)],
        input_shape=(n,),
    )


def test_missing_dt_names_the_nodes():
    with pytest.raises(
        MissingDtError, match=r"graph has continuous-time nodes \(lif1: LIF\); pass dt \(CLI: --dt\)"
    ):
        spyx.compile(lif_graph())


def test_delay_must_be_whole_steps_unless_rounding_is_given():
    g = Graph.sequential([("d", Delay(delay=np.array([2.5e-3, 1e-3], F32)))], input_shape=(2,))
    with pytest.raises(CompileError, match=r"node d \(Delay\): delay/dt = 2.5.*delay_rounding"):
        spyx.compile(g, dt=1e-3)
    for rounding, steps in (("floor", [2, 1]), ("ceil", [3, 1]), ("round", [2, 1])):
        prog = spyx.compile(g, dt=1e-3, delay_rounding=rounding)
        np.testing.assert_array_equal(prog.graph.nodes["d"].steps, steps)
        x = np.arange(1, 7, dtype=F32).reshape(6, 1, 1) * np.ones((1, 1, 2), F32)
        y, _ = prog.run(prog.params, x)
        np.testing.assert_array_equal(
            np.asarray(y)[:, 0, 0], np.concatenate([np.zeros(steps[0]), x[: 6 - steps[0], 0, 0]])
        )


def test_discretize_pass_registered_changed_and_unchanged():
    (p,) = parse_pipeline("discretize{dt=0.001,method=euler}")
    assert isinstance(p, Discretize) and p.dt == 1e-3 and p.method == "euler"
    res = p(lif_graph())
    assert res.modified and res.graph.nodes["lif1"].kind == "spyx.Neuron"
    again = p(res.graph)
    assert not again.modified and again.graph is res.graph
    with pytest.raises(OptionError):
        parse_pipeline("discretize{method=rk4}")
    assert get_pass("discretize", dt=1e-3).name == "discretize"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_factors_keep_the_parameter_dtype(dtype):
    node = Discretize(dt=1e-3)(lif_graph(dtype=dtype)).graph.nodes["lif1"]
    assert {v.dtype for v in node.params().values()} == {np.dtype(dtype)}
    np.testing.assert_allclose(node.beta, np.exp(-1e-3 / 5e-3), rtol=1e-7 if dtype == np.float32 else 1e-15)


def test_shapes_names_and_input_errors():
    prog = spyx.compile(lif_graph(), dt=DT)
    assert prog.input_names == ("input",) and prog.output_names == ("output",)
    assert prog.input_shapes == {"input": (3,)} and prog.output_shapes == {"output": (3,)}
    assert prog.state_shapes == {"lif1": {"v": (3,)}}
    assert prog.params["fc"]["weight"].dtype == jnp.float32
    with pytest.raises(InputError, match=r"input input: expected shape \(T, B, 3\), got \(10, 2, 4\)"):
        prog.run(prog.params, np.zeros((10, 2, 4), F32))
    with pytest.raises(InputError, match=r"missing: input"):
        prog.run(prog.params, {"other": np.zeros((10, 2, 3), F32)})
    with pytest.raises(OptionError, match="schedule"):
        spyx.compile(lif_graph(), dt=DT, schedule="fast")


def test_step_by_step_equals_run():
    g = multi_io_graph(np.random.default_rng(0))
    prog = spyx.compile(g, dt=DT)
    rng = np.random.default_rng(1)
    xs = {n: rng.uniform(0, 1.5, (12, 2, *s)).astype(F32) for n, s in prog.input_shapes.items()}
    outs, final = jax.jit(prog.run)(prog.params, xs)
    state = prog.init_state(2)
    step = jax.jit(prog.step)
    for t in range(12):
        state, y = step(prog.params, state, {k: v[t] for k, v in xs.items()})
        for o in prog.output_names:
            np.testing.assert_allclose(np.asarray(y[o]), np.asarray(outs[o][t]), rtol=1e-6, atol=1e-6)
    jax.tree_util.tree_map(
        lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6), state, final
    )


def test_run_continues_from_a_state():
    _, g = next(iter(primitive_graphs()))
    prog = spyx.compile(g, dt=DT)
    x = np.random.default_rng(2).uniform(0, 2, (20, 2, 3)).astype(F32)
    run = jax.jit(prog.run)
    whole, _ = run(prog.params, x)
    first, st = run(prog.params, x[:8])
    second, _ = run(prog.params, x[8:], st)
    np.testing.assert_allclose(np.concatenate([first, second]), whole, atol=1e-6)


def test_run_file_single_sample_and_states():
    res = spyx.run_file(lif_graph(), np.full((30, 3), 0.8, F32), dt=DT, states=True)
    assert res.outputs["output"].shape == (30, 3)
    assert res.states["lif1.v"].shape == (30, 3)
    assert res.summary["spike_counts"]["output"] == float(res.outputs["output"].sum()) > 0
    with pytest.raises(InputError, match=r"expected shape \(T, B, 3\)"):
        spyx.run_file(lif_graph(), np.zeros((30, 4), F32), dt=DT)
    with pytest.raises(MissingDtError):
        spyx.run_file(lif_graph(), np.zeros((30, 3), F32))


def test_vmap_over_batch_and_over_params():
    _, g = list(primitive_graphs())[4]  # CubaLIF
    prog = spyx.compile(g, dt=DT)
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 2, (25, 4, 3)).astype(F32)
    run = jax.jit(prog.run)
    full, _ = run(prog.params, x)
    per_sample = jax.jit(
        jax.vmap(lambda xi: prog.run(prog.params, xi[:, None])[0][:, 0], in_axes=1, out_axes=1)
    )(x)
    np.testing.assert_allclose(np.asarray(per_sample), np.asarray(full), atol=1e-6)
    scales = jnp.array([0.5, 1.0, 2.0], jnp.float32)
    pop = jax.tree_util.tree_map(lambda a: a[None] * jnp.ones((3,) + (1,) * a.ndim, a.dtype), prog.params)
    pop["fc1"]["weight"] = pop["fc1"]["weight"] * scales[:, None, None]
    outs = jax.jit(jax.vmap(lambda p: prog.run(p, x)[0]))(pop)
    for k in range(3):
        p = jax.tree_util.tree_map(lambda a, k=k: a[k], pop)
        np.testing.assert_allclose(np.asarray(outs[k]), np.asarray(run(p, x)[0]), atol=1e-6)
    assert len({float(outs[k].sum()) for k in range(3)}) == 3


@pytest.fixture(scope="module")
def braille(corpus):
    return spyx.load(corpus / "braille_noDelay_bias_zero.nir")


def test_grad_of_readout_matches_finite_differences(braille):
    """d/dparams of the output layer's membrane: no spike flips under tiny perturbations, so the true
    derivative exists and the surrogate plays no part on this path."""
    with jax.enable_x64(True):
        prog = spyx.compile(braille, dt=1e-4, dtype=jnp.float64, surrogate="tanh")
        rng = np.random.default_rng(4)
        x = (rng.random((40, 2, 12)) < 0.3).astype(np.float64)
        (out_neuron,) = [n for n in prog.graph.predecessors("output")]
        fc2 = prog.graph.predecessors(out_neuron)[0]

        def loss(sub):
            params = {**prog.params, fc2: sub["fc"], out_neuron: sub["neu"]}
            _, _, tr = prog.run_traced(params, x)
            return jnp.sum(jnp.sin(tr[out_neuron]["v"]))

        sub = {"fc": prog.params[fc2], "neu": prog.params[out_neuron]}
        grads = jax.jit(jax.grad(loss))(sub)
        flat, unravel = ravel_pytree(sub)
        g_flat, _ = ravel_pytree(grads)
        f = jax.jit(lambda v: loss(unravel(v)))
        nonzero = np.flatnonzero(np.asarray(g_flat))
        assert nonzero.size >= 20  # fc2 bias, the readout's own factors, weights of lif1 units that spiked
        pick = np.random.default_rng(5)
        idx = np.concatenate(
            [pick.choice(nonzero, 15, replace=False), pick.choice(flat.size, 10, replace=False)]
        )
        eps = 1e-6
        for i in idx:
            e = jnp.zeros_like(flat).at[i].set(eps)
            fd = (f(flat + e) - f(flat - e)) / (2 * eps)
            np.testing.assert_allclose(float(g_flat[i]), float(fd), rtol=1e-5, atol=1e-7)


def test_finetuning_braille_lowers_the_loss(braille):
    import optax

    prog = spyx.compile(braille, dt=1e-4, surrogate="superspike")
    rng = np.random.default_rng(6)
    x = jnp.asarray((rng.random((60, 8, 12)) < 0.3).astype(F32))
    labels = jnp.asarray(rng.integers(0, 7, 8))

    def loss(params):
        spikes, _ = prog.run(params, x)
        logits = spikes.sum(0)
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    opt = optax.adam(3e-3)

    @jax.jit
    def update(params, state):
        value, g = jax.value_and_grad(loss)(params)
        upd, state = opt.update(g, state, params)
        return optax.apply_updates(params, upd), state, value, g

    params, state = prog.params, opt.init(prog.params)
    values = []
    for k in range(25):
        params, state, value, grads = update(params, state)
        values.append(float(value))
        if k == 0:
            assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree_util.tree_leaves(grads))
            assert float(jnp.abs(grads["fc1"]["weight"]).sum()) > 0  # through the recurrent spiking layer
    assert values[-1] < 0.8 * values[0], values


@pytest.mark.parametrize(
    ("mode", "pad", "stride", "dil", "groups"),
    [
        ("same", None, 1, 1, 1),
        ("same", None, 1, 2, 2),
        ("valid", None, 2, 1, 1),
        (None, 2, 2, 2, 2),
        (None, 0, 3, 1, 4),
    ],
)
def test_conv2d_options_match_numpy(mode, pad, stride, dil, groups):
    from spyx.ir import Conv2d
    from tests.backend.numpy_reference import conv

    rng = np.random.default_rng(9)
    c_in, c_out, k = 4, 8, 3
    node = Conv2d(
        weight=rng.standard_normal((c_out, c_in // groups, k, k)).astype(F32),
        bias=rng.standard_normal(c_out).astype(F32),
        stride=np.array([stride, stride]),
        padding=None if mode else np.array([pad, pad]),
        padding_mode=mode,
        dilation=np.array([dil, dil]),
        groups=np.int64(groups),
        input_shape=np.array([9, 10]),
    )
    prog = spyx.compile(Graph.sequential([("conv", node)], input_shape=(c_in, 9, 10)))
    x = rng.standard_normal((2, 3, c_in, 9, 10)).astype(F32)
    y, _ = jax.jit(prog.run)(prog.params, x)
    want = conv(
        x.reshape(6, c_in, 9, 10).astype(np.float64),
        node.weight.astype(np.float64),
        node.bias.astype(np.float64),
        (stride, stride),
        node.pads(),
        (dil, dil),
        groups,
    )
    np.testing.assert_allclose(np.asarray(y).reshape(want.shape), want, rtol=1e-5, atol=1e-5)
    if mode == "same":
        assert np.asarray(y).shape[-2:] == (9, 10)


@pytest.mark.parametrize("pool", ["SumPool2d", "AvgPool2d"])
def test_pooling_is_differentiable_under_jit(pool):
    """A traced init value made ``lax.reduce_window`` generic and not differentiable under ``jit`` (the gradient of
    cnn_sinabs failed): the gradient through a pool under jit equals the finite difference."""
    from spyx.ir import pool as pools

    node = getattr(pools, pool)(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))
    prog = spyx.compile(Graph.sequential([("pool", node)], input_shape=(1, 4, 4)))
    x = jnp.asarray(np.random.default_rng(4).normal(size=(2, 1, 1, 4, 4)), jnp.float32)
    w = jnp.asarray(np.random.default_rng(5).normal(size=(2, 1, 1, 2, 2)), jnp.float32)

    def f(x):
        return jnp.sum(prog.run(prog.params, x)[0] * w)

    g = jax.jit(jax.grad(f))(x)
    # each input lands in exactly one 2x2 window: its gradient is that window's weight (/4 for the average)
    want = np.repeat(np.repeat(np.asarray(w), 2, axis=-1), 2, axis=-2) / (4 if pool == "AvgPool2d" else 1)
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-6)
