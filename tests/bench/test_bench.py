"""spyx.bench: FLOPs against a hand count, the median against an independent timing loop, the drivers (parallel,
run_fn, run, Program), the table's text, and the errors."""

from __future__ import annotations

import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import spyx
from spyx import bench
from spyx import nn as snn

T, B, D, H = 5, 3, 8, 16


def _dense(use_bias=True):
    return lambda: nnx.Linear(D, H, use_bias=use_bias, rngs=nnx.Rngs(0))


def _apply(m, x):
    return m(x)


@pytest.mark.parametrize("use_bias", [True, False])
def test_flops_match_a_hand_count_on_a_dense_layer(use_bias):
    # x [T, B, D] @ W [D, H]: T B H dot products of length D, each D multiplies and D adds (XLA counts 2 D), plus one
    # add per output for the bias.
    r = bench.benchmark(_dense(use_bias), (D,), seq_len=T, batch=B, n_warmup=0, n_iters=1, run_fn=_apply,
                        backward=False)
    expected = 2 * T * B * D * H + (T * B * H if use_bias else 0)
    assert r.flops == expected
    assert r.param_count == D * H + (H if use_bias else 0)
    assert r.name == "Linear" and r.fwd_bwd_latency_ms is None and r.spike_rate == 1.0


def test_median_agrees_with_an_independent_timing_loop():
    rngs = nnx.Rngs(0)
    layer = nnx.Linear(256, 256, rngs=rngs)
    r = bench.benchmark(layer, (256,), seq_len=16, batch=64, n_warmup=3, n_iters=15, run_fn=_apply, backward=False)

    # The same computation timed here by hand: jit, warm up, time each call to completion, take the median.
    graphdef, params, rest = nnx.split(layer, nnx.Param, ...)
    f = jax.jit(lambda p, x: nnx.merge(graphdef, p, rest)(x))
    x = jax.random.normal(jax.random.PRNGKey(0), (16, 64, 256))
    for _ in range(3):
        f(params, x).block_until_ready()
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        f(params, x).block_until_ready()
        times.append(time.perf_counter() - t0)
    mine = 1e3 * statistics.median(times)
    assert 1 / 4 < r.fwd_latency_ms / mine < 4, (r.fwd_latency_ms, mine)  # generous: a shared 2-core machine
    assert r.throughput_elem_ts_per_s == pytest.approx(16 * 64 / (r.fwd_latency_ms / 1e3))


def test_a_module_with_parallel_is_driven_by_it_and_run_fn_takes_a_tuples_first_element():
    layer = snn.PSU_LIF((4,), rngs=nnx.Rngs(0))
    key = jax.random.PRNGKey(3)
    x = jax.random.normal(key, (6, 2, 4))
    r = bench.benchmark(layer, (4,), seq_len=6, batch=2, n_warmup=0, n_iters=1, key=key, backward=False)
    assert r.spike_rate == pytest.approx(float(jnp.mean(layer.parallel(x) != 0)))

    # A parallel method that is not the step loop: the harness must call it.
    class Odd(nnx.Module):
        def __init__(self):
            self.w = nnx.Param(jnp.ones(()))

        def initial_state(self, b):
            return jnp.zeros((b, 4))

        def __call__(self, x, s):
            return x * self.w[...], s

        def parallel(self, x):
            return jnp.zeros_like(x) * self.w[...]

    assert bench.benchmark(Odd(), (4,), seq_len=3, batch=2, n_warmup=0, n_iters=1, backward=False).spike_rate == 0.0
    via_run = bench.benchmark(Odd(), (4,), seq_len=3, batch=2, n_warmup=0, n_iters=1, run_fn=snn.run,
                              backward=False)
    assert via_run.spike_rate == 1.0 and via_run.param_count == 1


def test_sequential_and_compiled_program():
    rngs = nnx.Rngs(1)
    model = snn.Sequential(nnx.Linear(3, 5, rngs=rngs), snn.LIF((5,), rngs=rngs), nnx.Linear(5, 2, rngs=rngs),
                           snn.LI((2,), rngs=rngs))
    key = jax.random.PRNGKey(4)
    x = jax.random.normal(key, (7, 2, 3))
    r = bench.benchmark(model, (3,), seq_len=7, batch=2, n_warmup=0, n_iters=1, key=key, backward=False)
    assert r.name == "Sequential" and r.param_count == 3 * 5 + 5 + 4 * 0 + 5 + 5 * 2 + 2 + 2
    assert r.spike_rate == pytest.approx(float(jnp.mean(snn.run(model, x)[0] != 0)))

    prog = spyx.compile(snn.lower(model, (3,)))
    rp = bench.benchmark(prog, (3,), seq_len=7, batch=2, n_warmup=0, n_iters=1, key=key)
    assert rp.name == "Program"
    assert rp.param_count == sum(int(np.size(a)) for a in jax.tree.leaves(prog.params))
    assert rp.spike_rate == pytest.approx(float(jnp.mean(prog.run(prog.params, x)[0] != 0)))
    assert rp.fwd_bwd_latency_ms is not None and rp.fwd_bwd_latency_ms > 0


def test_mfu_against_a_stated_peak_and_compare_order():
    r = bench.benchmark(_dense(), (D,), seq_len=T, batch=B, n_warmup=0, n_iters=2, run_fn=_apply, backward=False,
                        peak_flops=1e9)
    assert r.mfu == pytest.approx(r.flops / (r.fwd_latency_ms / 1e3) / 1e9)
    assert bench.benchmark(_dense(), (D,), seq_len=T, batch=B, n_warmup=0, n_iters=1, run_fn=_apply,
                           backward=False).mfu is None  # CPU: no peak in the table
    res = bench.compare({"a": _dense(), "b": _dense(False)}, (D,), seq_lens=(2, 3), batch=1, n_warmup=0, n_iters=1,
                        run_fn=_apply, backward=False)
    assert [(x.name, x.seq_len) for x in res] == [("a", 2), ("b", 2), ("a", 3), ("b", 3)]


def test_format_table_text():
    rows = [bench.BenchResult("n", "cpu:cpu", 5, 2, 4, 0.0625, None, 1234567.0, 0.0, 1e-4, float("nan"), None),
            bench.BenchResult("longer-name", "cpu:cpu", 50, 20, 4000, 12.5, 20.0, 800.0, 0.25)]
    text = bench.format_table(rows)
    lines = text.split("\n")
    assert len(lines) == 4 and not text.endswith("\n")
    header = ["name", "device", "seq", "batch", "params", "fwd_ms", "fwd_bwd_ms", "elem_ts/s", "spike_rate",
              "mem_mb", "flops", "mfu"]
    assert lines[0].split() == header
    widths = [len(w) for w in lines[1].split("  ")]
    cells = [[line[sum(widths[:i]) + 2 * i: sum(widths[: i + 1]) + 2 * i].strip() for i in range(len(widths))]
             for line in lines[2:]]
    assert cells[0] == ["n", "cpu:cpu", "5", "2", "4", "0.062", "-", "1.235e+06", "0", "1.000e-04", "nan", "-"]
    assert cells[1] == ["longer-name", "cpu:cpu", "50", "20", "4000", "12.500", "20.000", "800.000", "0.250", "-",
                        "-", "-"]
    assert widths[0] == len("longer-name") and widths[7] == len("1.235e+06")
    assert bench.format_table([]) == "(no results)"
    assert list(rows[0].as_dict()) == [f.name for f in bench.BenchResult.__dataclass_fields__.values()]


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="n_iters must be >= 1"):
        bench.benchmark(_dense(), (D,), seq_len=2, batch=1, n_iters=0, run_fn=_apply)
    with pytest.raises(TypeError, match="nnx.Module"):
        bench.benchmark(lambda: 3, (2,), seq_len=2, batch=1)
    with pytest.raises(TypeError, match="nnx.Module"):
        bench.benchmark(5, (2,), seq_len=2, batch=1)
