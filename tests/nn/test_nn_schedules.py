"""spyx.nn.run's layer-wise schedule against the step loop, for every layer kind and the conv nets: outputs and
states identical for the MLPs; for the conv nets (whose larger products XLA blocks differently by row count) at
most a few spikes flip where a membrane lies within float rounding of its threshold; gradients equal to float32
summation order. auto picks the step loop where rows interact."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import spyx
import spyx.nn as snn
from spyx.nn.run import _layerwise_ok
from tests.nn.models import SPIKING_1D, alif_stack, conv1d_net, convnet, mlp, spikes

CASES = {f"{k} mlp": (lambda k=k: mlp(5, k), (12,)) for k in [*SPIKING_1D, "ALIF"]}
CASES["conv net"] = (lambda: convnet(40), (10, 10, 2))
CASES["conv1d net"] = (lambda: conv1d_net(50), (16, 3))
CASES["ALIF stack"] = (lambda: alif_stack(31), (9,))


@pytest.mark.parametrize("label", sorted(CASES))
def test_layer_schedule_equals_step_loop(label):
    make, shape = CASES[label]
    model = make()
    assert _layerwise_ok(model)
    x = spikes((20, 3, *shape), seed=7) * 1.5
    step, s_step = snn.run(model, x, schedule="step")
    layer, s_layer = snn.run(model, x, schedule="layer")
    if "conv" in label:
        flips = float(np.mean(np.asarray(step) != np.asarray(layer)))
        print(f"{label}: {flips:.2e} of the outputs differ between the schedules")
        assert flips < 1e-3, f"{label}: {flips:.2e} of the outputs differ"
        return  # a flipped spike changes what follows; the MLP cases check states and gradients exactly
    assert np.array_equal(np.asarray(step), np.asarray(layer)), f"{label}: outputs differ"
    for a, b in zip(jax.tree.leaves(s_step), jax.tree.leaves(s_layer), strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b)), f"{label}: states differ"

    def loss(m, schedule):
        out, _ = snn.run(m, x, schedule=schedule)
        return jnp.mean(out**2)

    g_step = nnx.grad(lambda m: loss(m, "step"))(model)
    g_layer = nnx.grad(lambda m: loss(m, "layer"))(model)
    for a, b in zip(jax.tree.leaves(g_step), jax.tree.leaves(g_layer), strict=True):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6 * max(1.0, float(np.abs(a).max())))


def test_auto_keeps_the_step_loop_for_layers_that_mix_rows():
    rngs = nnx.Rngs(0)
    norm = snn.Sequential(nnx.Linear(4, 4, rngs=rngs), nnx.BatchNorm(4, rngs=rngs), snn.IF((4,)))
    assert not _layerwise_ok(norm)
    assert _layerwise_ok(snn.Sequential(nnx.Linear(4, 4, rngs=rngs), jax.nn.relu, snn.IF((4,))))
    assert not _layerwise_ok(snn.Sequential(lambda v: v - v.mean(0), snn.IF((4,))))
    with pytest.raises(spyx.OptionError, match="schedule"):
        snn.run(snn.IF((4,)), jnp.zeros((3, 2, 4)), schedule="fast")
