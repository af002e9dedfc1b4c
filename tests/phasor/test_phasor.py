"""spyx.phasor and spyx.experimental.rf_ssm against independent float64 NumPy references written here, the
contract's golden numbers (spyx-api.md §18.6-18.7) and the refusals to lower or export. The parallel paths are
checked against a complex128 step loop for every scan method; parity with the real Spyx 1.0 is
tests/compat/test_parity_phasor.py and test_parity_experimental_rf_ssm.py."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import spyx
from spyx import phasor as ph
from spyx.errors import ArgumentError, ExportError, InputError
from spyx.experimental import RFSSM, ResonateFireSSM
from spyx.scan import METHODS

T, B = 13, 3


def p64(p):
    return np.asarray(p[...], np.float64)


def softplus(v):
    return np.logaddexp(0.0, v)


def membrane64(a, drive, z0=None):
    """z_t = a z_{t-1} + drive_t in complex128, one step at a time."""
    z = np.zeros(drive.shape[1:], np.complex128) if z0 is None else np.asarray(z0, np.complex128)
    out = []
    for t in range(drive.shape[0]):
        z = a * z + drive[t]
        out.append(z)
    return np.stack(out)


def pole64(layer):
    """The pole from the layer's parameters, computed here in float64."""
    if isinstance(layer, RFSSM):
        step = np.exp(p64(layer.log_dt))
    else:
        step = layer.dt
    return np.exp(step * (-softplus(p64(layer.raw_lambda)) + 1j * p64(layer.omega)))


def drive64(layer, x):
    x = np.asarray(x, np.float64)
    return x + 1j * p64(layer.reset) if isinstance(layer, RFSSM) else x.astype(np.complex128)


def assert_spikes(got, re_z, thr, margin=1e-4):
    """Spikes equal H(Re z - thr) of the float64 membrane, except within ``margin`` of the threshold (float32
    rounding may tip those either way; the test inputs put almost none there)."""
    want = (re_z - thr > 0).astype(np.float64)
    got = np.asarray(got, np.float64)
    sure = np.abs(re_z - thr) > margin
    assert sure.mean() > 0.99
    np.testing.assert_array_equal(got[sure], want[sure])
    assert 0.05 < want.mean() < 0.95  # the case spikes, and not everywhere


def layers():
    return [
        ph.ResonateFire((4,), threshold=0.6, rngs=nnx.Rngs(0)),
        ph.ResonateFire((2, 2), lambda_init=0.05, omega_init=0.7, dt=0.5, threshold=1.5, rngs=nnx.Rngs(1)),
        RFSSM((4,), reset_init=0.4, threshold=0.5, dt_min=0.05, dt_max=0.5, rngs=nnx.Rngs(2)),
        RFSSM((2, 2), pole_init="lru", reset_init=-0.3, threshold=0.3, rngs=nnx.Rngs(3)),
    ]


@pytest.fixture(scope="module")
def cases():
    rng = np.random.default_rng(0)
    out = []
    for layer in layers():
        x = jnp.asarray(rng.normal(0.3, 1.0, (T, B, *layer.hidden_shape)), jnp.float32)
        out.append((layer, x, membrane64(pole64(layer), drive64(layer, x))))
    return out


@pytest.mark.parametrize("method", METHODS)
def test_parallel_equals_the_float64_step_loop(method, cases):
    for layer, x, z in cases:
        thr = np.asarray(layer.threshold, np.float64)
        got = nnx.jit(lambda m, xx: m.parallel(xx, method=method, chunk_size=4))(layer, x)
        assert_spikes(got, z.real, thr)


def test_run_step_and_layer_schedules_equal_the_loop(cases):
    """spyx.nn.run drives the step (__call__) and, with schedule="layer", the sequence() path; both continue a
    given complex state, and the final states equal the float64 membrane."""
    rng = np.random.default_rng(1)
    for layer, x, _ in cases:
        z0 = jnp.asarray(rng.normal(size=(B, *layer.hidden_shape)) + 1j * rng.normal(size=(B, *layer.hidden_shape)),
                         jnp.complex64)
        z = membrane64(pole64(layer), drive64(layer, x), z0)
        thr = np.asarray(layer.threshold, np.float64)
        for schedule in ("step", "layer"):
            spikes, final = nnx.jit(lambda m, xx, s0, sc=schedule: spyx.nn.run(m, xx, s0, schedule=sc))(layer, x, z0)
            assert final.dtype == jnp.complex64
            np.testing.assert_allclose(np.asarray(final), z[-1], rtol=1e-5, atol=1e-5)
            assert_spikes(spikes, z.real, thr)


def test_gradients_reach_every_parameter(cases):
    for layer, x, _ in cases[2:3]:
        g = nnx.jit(nnx.grad(lambda m: jnp.sum(m.parallel(x) * jnp.arange(T)[:, None, None])))(layer)
        for name in ("raw_lambda", "omega", "log_dt", "reset"):
            leaf = np.asarray(getattr(g, name)[...])
            assert np.all(np.isfinite(leaf)) and np.any(leaf != 0), name


def test_golden_numbers_18_7():
    r3 = ph.ResonateFire((3,), rngs=nnx.Rngs(0))
    np.testing.assert_allclose(r3.raw_lambda[...], [0.735339, 0.286751, 0.323096], atol=2e-6)
    np.testing.assert_allclose(r3.omega[...], [0.057479, 0.139860, 1.098034], atol=2e-6)
    np.testing.assert_allclose(r3.decay, [1.126937, 0.846766, 0.867688], atol=2e-6)
    np.testing.assert_allclose(jnp.abs(r3.a), [0.324024, 0.428799, 0.419921], atol=2e-6)
    np.testing.assert_allclose(ph.ResonateFire((2,), rngs=nnx.Rngs(0)).a,
                               [0.323489 + 0.018614j, 0.424612 + 0.059777j], atol=2e-6)
    rs = ph.ResonateFire((3,), lambda_init=0.1, omega_init=1.0, rngs=nnx.Rngs(0))
    assert rs.raw_lambda[...].shape == () and rs.omega[...].dtype == jnp.float32
    np.testing.assert_allclose(rs.raw_lambda[...], -2.252169, atol=2e-6)
    np.testing.assert_allclose(rs.a, 0.488886 + 0.761394j, atol=2e-6)
    f = RFSSM((4,), rngs=nnx.Rngs(0))
    np.testing.assert_allclose(f.raw_lambda[...], -0.432752, atol=2e-6)
    np.testing.assert_allclose(f.omega[...], np.pi * np.arange(4), atol=2e-6)
    np.testing.assert_allclose(f.log_dt[...], [-3.028755, -6.067871, -5.861562, -6.351793], atol=2e-6)
    np.testing.assert_allclose(f.decay, 0.5, atol=2e-6)
    np.testing.assert_array_equal(f.reset[...], 0.0)
    np.testing.assert_allclose(ph.PhasorLinear(2, 2, rngs=nnx.Rngs(0)).kernel,
                               [[-0.287390 - 0.628739j, 0.399918 - 0.200802j],
                                [-0.129803 - 0.560680j, 0.714936 + 0.439189j]], atol=2e-6)
    assert ResonateFireSSM is RFSSM and spyx.experimental.ResonateFire is ph.ResonateFire


def test_codecs():
    theta = jnp.asarray([-np.pi, -1.0, 0.0, 1.0, np.pi])
    np.testing.assert_array_equal(jnp.argmax(ph.phase_to_spikes(theta, 4), axis=0), [0, 1, 2, 2, 3])  # §18.6
    np.testing.assert_allclose(ph.spikes_to_phase(jnp.eye(4)), [-np.pi, -np.pi / 2, 0, np.pi / 2], atol=1e-6)
    th = np.random.default_rng(2).uniform(-np.pi, np.pi, (7, 5)).astype(np.float32)
    for n in (5, 16, 64):
        train = np.asarray(ph.phase_to_spikes(th, n))
        assert train.shape == (n, 7, 5) and train.dtype == np.float32
        np.testing.assert_array_equal(train.sum(axis=0), 1.0)
        want = np.clip(np.floor((th.astype(np.float64) + np.pi) / (2 * np.pi) * n), 0, n - 1)
        np.testing.assert_array_equal(np.argmax(train, axis=0), want)
        back = np.asarray(ph.spikes_to_phase(train))
        assert np.max(np.abs(back - th)) < 2 * np.pi / n
    silent = jnp.zeros((6, 2)).at[1, 0].set(1.0).at[4, 0].set(1.0)
    np.testing.assert_allclose(ph.spikes_to_phase(silent), [2 * np.pi * 2.5 / 6 - np.pi, -np.pi], atol=1e-6)
    x = jnp.asarray([0.0, 0.25, 0.5, 1.0])
    z = ph.real_to_phasor(x)
    assert z.dtype == jnp.complex64
    np.testing.assert_allclose(z, np.exp(1j * np.pi * np.asarray(x)), atol=1e-6)
    np.testing.assert_allclose(ph.phase_of(z)[:3], np.pi * np.asarray(x)[:3], atol=1e-6)
    np.testing.assert_allclose(ph.phasor_to_real(z), np.cos(np.pi * np.asarray(x)), atol=1e-6)


def test_phasor_layers_equal_complex128_algebra():
    rng = np.random.default_rng(3)
    mlp = ph.PhasorMLP(3, 5, 2, depth=2, rngs=nnx.Rngs(0))
    for lin in mlp.layers[::2]:
        lin.bias_re[...] = jnp.asarray(rng.normal(size=lin.bias_re.shape), jnp.float32)
        lin.bias_im[...] = jnp.asarray(rng.normal(size=lin.bias_im.shape), jnp.float32)
    x = rng.uniform(0, 1, (4, 3)).astype(np.float32)
    z = np.exp(1j * np.pi * x.astype(np.float64))
    for lin in mlp.layers[::2]:
        z = z @ (p64(lin.kernel_re) + 1j * p64(lin.kernel_im)) + (p64(lin.bias_re) + 1j * p64(lin.bias_im))
        z = z / (np.abs(z) + 1e-8)
    ro = mlp.readout.proj
    want = (z @ (p64(ro.kernel_re) + 1j * p64(ro.kernel_im))).real
    got = nnx.jit(lambda m, xx: m(xx))(mlp, jnp.asarray(x))
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=1e-5, atol=1e-5)
    # SpikingPhasor: decode phases, one PhasorLinear + unit circle, encode; one spike per unit and period
    sp = ph.SpikingPhasor(mlp.layers[0], 32)
    train = ph.phase_to_spikes(jnp.asarray(rng.uniform(-3, 3, (2, 3)), jnp.float32), 32)
    theta = 2 * np.pi * np.argmax(np.asarray(train), axis=0) / 32 - np.pi
    lin = mlp.layers[0]
    zz = np.exp(1j * theta) @ (p64(lin.kernel_re) + 1j * p64(lin.kernel_im)) + p64(lin.bias_re) + 1j * p64(
        lin.bias_im)
    tick = np.clip(np.floor((np.angle(zz) + np.pi) / (2 * np.pi) * 32), 0, 31)
    out = np.asarray(sp(train))
    assert out.shape == (32, 2, 5) and np.all(out.sum(axis=0) == 1)
    assert np.mean(np.argmax(out, axis=0) == tick) > 0.9  # float32 angle rounding can move a bin edge


def test_errors_name_the_argument():
    with pytest.raises(TypeError, match="complex"):
        ph.PhasorLinear(2, 2, rngs=nnx.Rngs(0))(jnp.ones((1, 2)))
    with pytest.raises(ArgumentError, match="depth >= 1"):
        ph.PhasorMLP(2, 3, 2, depth=0, rngs=nnx.Rngs(0))
    with pytest.raises(ArgumentError, match="must be positive"):
        ph.phase_to_spikes(jnp.zeros(3), 0)
    with pytest.raises(ArgumentError, match="period_T must be positive"):
        ph.SpikingPhasor(ph.PhasorLinear(2, 2, rngs=nnx.Rngs(0)), 0)
    with pytest.raises(ArgumentError, match="dt must be positive"):
        ph.ResonateFire((3,), dt=0.0, rngs=nnx.Rngs(0))
    with pytest.raises(ArgumentError, match="pole_init"):
        RFSSM((3,), pole_init="s4", rngs=nnx.Rngs(0))
    rf = ph.ResonateFire((3,), rngs=nnx.Rngs(0))
    with pytest.raises(InputError, match=r"parallel expects time-major \(T, B, \*\(3,\)\)"):
        rf.parallel(jnp.ones((4, 2, 5)))
    with pytest.raises(ArgumentError, match="method must be one of"):
        rf.parallel(jnp.ones((4, 2, 3)), method="fft")


@pytest.mark.parametrize("make", [
    lambda: ph.ResonateFire((3,), rngs=nnx.Rngs(0)),
    lambda: RFSSM((3,), rngs=nnx.Rngs(0)),
])
def test_resonators_have_no_nir_form(make):
    model = spyx.nn.Sequential(nnx.Linear(2, 3, rngs=nnx.Rngs(0)), make())
    for convert in (lambda: spyx.nn.export(model, (2,), dt=1.0), lambda: spyx.nn.lower(model, (2,))):
        with pytest.raises(ExportError, match="membrane is complex"):
            convert()


def test_to_nir_follows_spyx1(capsys):
    """Spyx 1.0's to_nir raises NotImplementedError for ResonateFire and skips RFSSM with a printed warning."""
    lin = nnx.Linear(2, 3, rngs=nnx.Rngs(0))
    with pytest.raises(NotImplementedError, match="ResonateFire"):
        spyx.nir.to_nir(spyx.nn.Sequential(lin, ph.ResonateFire((3,), rngs=nnx.Rngs(0))), {"input": (2,)},
                        {"output": (3,)})
    g = spyx.nir.to_nir(spyx.nn.Sequential(lin, RFSSM((3,), rngs=nnx.Rngs(0))), {"input": (2,)}, {"output": (3,)})
    assert sorted(g.nodes) == ["input", "layer_0", "output"]
    assert "Layer RFSSM not recognized/supported for NIR export" in capsys.readouterr().out


def test_lazy_submodules():
    import importlib

    assert spyx.phasor is importlib.import_module("spyx.phasor")
    assert importlib.import_module("spyx.experimental.rf_ssm").RFSSM is RFSSM
    assert "ResonateFire" not in ph.__all__ and len(ph.__all__) == 10  # Spyx 1.0's __all__


def test_jit_vmap_compose(cases):
    """Modules hold one example's computation; an extra leading axis is vmap's job."""
    layer, x, z = cases[0]
    got = jax.jit(jax.vmap(layer.parallel))(jnp.stack([x, x]))
    assert got.shape == (2, *x.shape)
    for g in got:
        assert_spikes(g, z.real, np.asarray(layer.threshold, np.float64))
