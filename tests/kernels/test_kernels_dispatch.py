"""Dispatch and argument checks of ``spyx.kernels``: which implementation runs, the errors for impossible
requests, the fallback for spike functions that are not ``spyx.axn``'s, and empty sequences."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import spyx.kernels as K
import spyx.nn as snn
from spyx.errors import InputError, OptionError


def test_auto_is_scan_off_gpu_and_pallas_needs_interpret():
    assert jax.default_backend() == "cpu"
    assert K.resolve_impl("auto", False, has_pallas=True, what="t") == "scan"
    assert K.resolve_impl("pallas", True, has_pallas=True, what="t") == "pallas"
    assert K.resolve_impl("autodiff", False, has_pallas=True, what="t") == "autodiff"
    x = jnp.ones((3, 2, 4))
    with pytest.raises(OptionError, match="interpret=True"):
        K.lif_sequence(x, None, 0.9, impl="pallas")
    with pytest.raises(OptionError, match="is not one of"):
        K.lif_sequence(x, None, 0.9, impl="triton")
    with pytest.raises(OptionError, match="no Pallas kernel"):
        K.rlif_sequence(x, None, jnp.zeros((4, 4)), 0.9, impl="pallas")


def test_bad_arguments_name_the_function():
    x = jnp.ones((3, 2, 4))
    with pytest.raises(InputError, match="lif_sequence: initial state v has shape"):
        K.lif_sequence(x, jnp.zeros((4,)), 0.9)
    with pytest.raises(InputError, match="does not broadcast"):
        K.lif_sequence(x, None, jnp.ones(3))
    with pytest.raises(InputError, match="float array"):
        K.if_sequence(jnp.ones((3, 2, 4), jnp.int32), None)
    with pytest.raises(InputError, match=r"recurrent_w has shape \(3, 3\)"):
        K.rif_sequence(x, None, jnp.zeros((3, 3)))
    with pytest.raises(OptionError, match="reset='zero' is not supported"):
        K.lif_sequence(x, None, 0.9, reset="zero")
    with pytest.raises(OptionError, match="power of 2"):
        K.KernelConfig(block=100)
    with pytest.raises(OptionError, match="config must be"):
        K.lif_sequence(x, None, 0.9, config={"block": 64})


def test_plain_activation_runs_the_autodiff_scan():
    """An activation that is not a ``spyx.axn`` spike function (here a sigmoid, as a Spyx 1.0 user may pass)
    has no known surrogate derivative: ``auto`` and ``scan`` fall back to autodiff and still equal
    ``spyx.nn.run``; ``pallas`` refuses."""
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(0.3, 1.0, (6, 2, 5)).astype(np.float32))
    layer = snn.LIF((5,), beta=0.8, threshold=1.0, activation=jax.nn.sigmoid, rngs=nnx.Rngs(0))
    want_s, want_v = snn.run(layer, x)
    for impl in ("auto", "scan", "autodiff"):
        s, v = K.lif_sequence(x, None, 0.8, 1.0, surrogate=jax.nn.sigmoid, impl=impl)
        np.testing.assert_allclose(np.asarray(s), np.asarray(want_s), rtol=1e-6)
        np.testing.assert_allclose(np.asarray(v), np.asarray(want_v), rtol=1e-6)
    with pytest.raises(OptionError, match="needs a spyx.axn spike function"):
        K.lif_sequence(x, None, 0.8, surrogate=jax.nn.sigmoid, impl="pallas", interpret=True)


def test_empty_sequence_keeps_the_state():
    v0 = jnp.arange(6, dtype=jnp.float32).reshape(2, 3)
    s, v = K.lif_sequence(jnp.zeros((0, 2, 3)), v0, 0.9)
    assert s.shape == (0, 2, 3)
    np.testing.assert_array_equal(np.asarray(v), np.asarray(v0))
