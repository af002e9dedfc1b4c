"""spyx.ssm against independent float64 NumPy references written here (every scan method), the contract's golden
numbers (spyx-api.md §18.7), and the refusals to lower or export. Parity with the real Spyx 1.0 (draws, values,
gradients) is tests/compat/test_parity_ssm.py."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import spyx
from spyx.errors import ArgumentError, ExportError, InputError
from spyx.scan import METHODS
from spyx.ssm import LRU, ChunkedSSM, Mamba, MambaBlock, S5Diag

T, B = 11, 2


def p64(p):
    return np.asarray(p[...], np.float64)


def diagonal64(u, lam, Bm, Cm, D):
    """y_t = Re(C x_t) + D u_t, x_t = lam x_{t-1} + B u_t, in complex128 one step at a time."""
    x = np.zeros((u.shape[1], lam.shape[0]), np.complex128)
    ys = []
    for t in range(u.shape[0]):
        x = lam * x + u[t] @ Bm.T
        y = (x @ Cm.T).real
        ys.append(y if D is None else y + D * u[t])
    return np.stack(ys)


def lru64(layer, u):
    lam = np.exp(-np.exp(p64(layer.nu))) * np.exp(1j * p64(layer.theta))
    Bm = p64(layer.B_re) + 1j * p64(layer.B_im)
    Cm = p64(layer.C_re) + 1j * p64(layer.C_im)
    return diagonal64(u, lam, Bm, Cm, p64(layer.D) if layer.use_skip else None)


def s5_64(layer, u):
    A = -np.logaddexp(0.0, p64(layer.A_re_raw)) + 1j * p64(layer.A_im)
    dt = np.exp(p64(layer.log_dt))
    lam = np.exp(A * dt)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(np.abs(A) < 1e-4, dt, (lam - 1) / A)
    Bm = f[:, None] * (p64(layer.B_re) + 1j * p64(layer.B_im))
    Cm = p64(layer.C_re) + 1j * p64(layer.C_im)
    return diagonal64(u, lam, Bm, Cm, p64(layer.D) if layer.use_skip else None)


def mamba64(m, u):
    r, s = m.dt_rank, m.d_state
    xp = u @ p64(m.x_proj.kernel)
    delta, Bt, Ct = xp[..., :r], xp[..., r:r + s], xp[..., r + s:]
    dt = np.logaddexp(0.0, delta @ p64(m.dt_proj.kernel) + p64(m.dt_proj.bias))
    A = -np.exp(p64(m.A_log))
    h = np.zeros((u.shape[1], m.d_inner, s))
    ys = []
    for t in range(u.shape[0]):
        h = np.exp(dt[t][..., None] * A) * h + dt[t][..., None] * Bt[t][:, None, :] * u[t][..., None]
        ys.append(np.einsum("bs,bds->bd", Ct[t], h) + p64(m.D) * u[t])
    return np.stack(ys)


# One compiled program per call instead of one compile per eager op (most of these tests' time is XLA compiles).
fwd = nnx.jit(lambda m, u: m(u))


def close(got, want, tol=2e-5):
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=tol, atol=tol)


# The layers use the shapes of the golden-number test (LRU(2, 3), Mamba(20), MambaBlock(4)) so that the eager ops
# of their construction compile once for the whole module.
@pytest.fixture(scope="module")
def u2():
    return jnp.asarray(np.random.default_rng(0).normal(size=(T, B, 2)), jnp.float32)


@pytest.mark.parametrize("method", METHODS)
def test_lru_and_s5_equal_their_float64_recurrence(method, u2):
    lru = LRU(2, 3, r_min=0.3, r_max=0.95, rngs=nnx.Rngs(1), scan_method=method, scan_chunk_size=4)
    s5 = S5Diag(2, 3, use_skip=False, rngs=nnx.Rngs(1), scan_method=method, scan_chunk_size=4)
    u = np.asarray(u2, np.float64)
    close(fwd(lru, u2), lru64(lru, u))
    close(fwd(s5, u2), s5_64(s5, u))


@pytest.mark.parametrize("method", ["associative", "chunked"])
def test_mamba_selective_scan_equals_float64_loop(method):
    m = Mamba(20, dt_min=0.05, dt_max=0.5, rngs=nnx.Rngs(2), scan_method=method, scan_chunk_size=3)
    u = jnp.asarray(np.random.default_rng(1).normal(size=(T, B, 20)), jnp.float32)
    close(fwd(m, u), mamba64(m, np.asarray(u, np.float64)), 5e-5)


def test_mamba_block_composes_its_parts():
    blk = MambaBlock(4, rngs=nnx.Rngs(3))  # d_inner 8, d_state 16, d_conv 4
    u4 = jnp.asarray(np.random.default_rng(2).normal(size=(T, B, 4)), jnp.float32)
    u = np.asarray(u4, np.float64)
    xz = u @ p64(blk.in_proj.kernel)
    x, z = xz[..., :8], xz[..., 8:]
    k, bias = p64(blk.conv.kernel)[:, 0, :], p64(blk.conv.bias)  # (d_conv, C): causal depthwise
    conv = np.stack([sum(k[j] * x[t - (3 - j)] for j in range(4) if t - (3 - j) >= 0) + bias for t in range(T)])

    def silu(v):
        return v / (1 + np.exp(-v))

    y = mamba64(blk.ssm, silu(conv)) * silu(z)
    close(fwd(blk, u4), y @ p64(blk.out_proj.kernel), 5e-5)


@pytest.mark.parametrize("pool", ["mean", "last"])
def test_chunked_ssm_pools_and_adds_back(pool, u2):
    inner, outer = LRU(2, 3, rngs=nnx.Rngs(4)), LRU(2, 3, rngs=nnx.Rngs(5))
    u = jnp.concatenate([u2, u2[:1]])  # T = 12
    c = ChunkedSSM(inner, outer, chunk_size=4, pool=pool)
    h = np.asarray(fwd(inner, u), np.float64).reshape(3, 4, B, 2)
    summary = h.mean(axis=1) if pool == "mean" else h[:, -1]
    want = h + lru64(outer, summary)[:, None]
    close(fwd(c, u), want.reshape(12, B, 2))


def test_golden_numbers_18_7():
    lru = LRU(2, 3, rngs=nnx.Rngs(0))
    close(lru.nu, [0.275594, -0.678581, -0.879040], 2e-6)
    close(lru.theta, [0.519015, 4.905830, 5.895386], 2e-6)
    close(fwd(lru, jnp.ones((4, 1, 2)))[:, 0], [[0.923492, 1.134557], [1.060173, 0.974738], [0.900666, 1.068517],
                                           [0.757541, 1.193536]], 2e-6)
    s5 = S5Diag(2, 3, rngs=nnx.Rngs(0))
    close(s5.log_dt, [-5.605782, -3.278433, -5.076816], 2e-6)
    close(fwd(s5, jnp.ones((4, 1, 2)))[:, 0], [[0.352938, 1.022061], [0.364117, 1.013665], [0.373360, 1.008574],
                                          [0.380612, 1.006777]], 2e-6)
    m = Mamba(20, rngs=nnx.Rngs(0))
    assert (m.dt_rank, m.x_proj.kernel.shape, m.dt_proj.kernel.shape, m.A_log.shape) == (2, (20, 34), (2, 20),
                                                                                            (20, 16))
    blk = MambaBlock(4, rngs=nnx.Rngs(0))
    shapes = [blk.conv.kernel.shape, blk.in_proj.kernel.shape, blk.out_proj.kernel.shape,
              blk.ssm.x_proj.kernel.shape, blk.ssm.dt_proj.kernel.shape]
    assert shapes == [(4, 1, 8), (4, 16), (8, 4), (8, 33), (1, 8)]


def test_scan_methods_agree_in_gradient(u2):
    """The parameter gradients through the associative scan equal those through the sequential one."""
    layers = [LRU(2, 3, rngs=nnx.Rngs(6), scan_method=m) for m in ("associative", "sequential")]

    @jax.jit
    def g(state_a, state_b):
        out = []
        for lay, st in zip(layers, (state_a, state_b), strict=True):
            gd = nnx.graphdef(lay)
            out.append(jax.grad(lambda p: jnp.sum(nnx.merge(gd, p)(u2) ** 2))(st))
        return out

    ga, gb = g(nnx.state(layers[0]), nnx.state(layers[1]))
    for x, y in zip(jax.tree.leaves(ga), jax.tree.leaves(gb), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-5)


def test_errors_name_the_layer():
    with pytest.raises(InputError, match=r"LRU expects \[T, B, d_model\]"):
        LRU(2, 3, rngs=nnx.Rngs(0))(jnp.ones((4, 2)))
    with pytest.raises(InputError, match=r"S5Diag expects \[T, B, d_model\] with d_model=2; got shape \(4, 1, 3\)"):
        S5Diag(2, 3, rngs=nnx.Rngs(0))(jnp.ones((4, 1, 3)))
    with pytest.raises(ValueError, match="d_inner=20"):
        Mamba(20, rngs=nnx.Rngs(0))(jnp.ones((3, 1, 5)))
    with pytest.raises(ValueError, match="divisible"):
        ChunkedSSM(LRU(2, 3, rngs=nnx.Rngs(0)), LRU(2, 3, rngs=nnx.Rngs(1)), chunk_size=2)(jnp.ones((5, 1, 2)))
    with pytest.raises(ArgumentError, match="pool"):
        ChunkedSSM(LRU(2, 3, rngs=nnx.Rngs(0)), LRU(2, 3, rngs=nnx.Rngs(1)), chunk_size=2, pool="max")
    with pytest.raises(ArgumentError, match="S5Diag: method must be one of"):
        S5Diag(2, 3, rngs=nnx.Rngs(0), scan_method="fft")
    with pytest.raises(ArgumentError, match="chunk_size must be a positive integer"):
        LRU(2, 3, rngs=nnx.Rngs(0), scan_chunk_size=0)


@pytest.mark.parametrize("make, why", [
    (lambda: LRU(2, 3, rngs=nnx.Rngs(0)), "complex"),
    (lambda: S5Diag(2, 3, rngs=nnx.Rngs(0)), "complex"),
    (lambda: Mamba(20, rngs=nnx.Rngs(0)), "input at every step"),
    (lambda: MambaBlock(4, rngs=nnx.Rngs(0)), "selective"),
    (lambda: ChunkedSSM(LRU(2, 3, rngs=nnx.Rngs(0)), LRU(2, 3, rngs=nnx.Rngs(1)), chunk_size=2), "not causal"),
])
def test_no_nir_form_is_an_export_error_saying_why(make, why):
    layer = make()
    n = getattr(layer, "d_model", getattr(layer, "d_inner", 2))
    model = spyx.nn.Sequential(nnx.Linear(2, n, rngs=nnx.Rngs(0)), layer)
    for convert in (lambda: spyx.nn.export(model, (2,), dt=1.0), lambda: spyx.nn.lower(model, (2,))):
        with pytest.raises(ExportError, match=f"layer 1_.*cannot be lowered or exported to NIR: .*{why}"):
            convert()


def test_lazy_submodule():
    import importlib

    assert spyx.ssm is importlib.import_module("spyx.ssm")
    assert "ssm" in spyx.__all__ and spyx.ssm.__all__ == ["LRU", "S5Diag", "Mamba", "MambaBlock", "ChunkedSSM"]
