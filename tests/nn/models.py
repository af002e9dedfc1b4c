"""Seeded spyx NNX models of every layer kind for the spyx.nn tests, with random (not default) parameters.
Spiking layers use the default spike function (``spyx.axn.superspike()``) unless ``act`` is given."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

import spyx.nn as snn


def randomize(model, seed: int, low: float = 0.3, high: float = 0.97):
    """Give every decay Param (beta, alpha, gamma) a random per-neuron value in [low, high]."""
    rng = np.random.default_rng(seed)
    for path, var in nnx.iter_graph(model):
        if isinstance(var, nnx.Param) and path and path[-1] in ("beta", "alpha", "gamma"):
            var[...] = jnp.asarray(rng.uniform(low, high, var[...].shape), jnp.float32)
    return model


def spikes(shape, seed: int, p: float = 0.3):
    return (jax.random.uniform(jax.random.key(seed), shape) < p).astype(jnp.float32)


def neuron(kind: str, shape, seed: int, act=None):
    """One spiking/integrating layer of ``kind`` with random decays and threshold."""
    rng = np.random.default_rng(seed)
    thr = float(rng.uniform(0.5, 1.5))
    rngs = nnx.Rngs(seed)
    make = {
        "IF": lambda: snn.IF(shape, threshold=thr, activation=act),
        "LIF": lambda: snn.LIF(shape, threshold=thr, activation=act, rngs=rngs),
        "CuBaLIF": lambda: snn.CuBaLIF(shape, threshold=thr, activation=act, rngs=rngs),
        "LI": lambda: snn.LI(shape, rngs=rngs),
        "PSU_LIF": lambda: snn.PSU_LIF(shape, threshold=thr, activation=act, rngs=rngs),
        "RIF": lambda: snn.RIF(shape, threshold=thr, activation=act, rngs=rngs),
        "RLIF": lambda: snn.RLIF(shape, threshold=thr, activation=act, rngs=rngs),
        "RCuBaLIF": lambda: snn.RCuBaLIF(shape, threshold=thr, activation=act, rngs=rngs),
        "ALIF": lambda: snn.ALIF(shape, threshold=thr, activation=act, rngs=rngs),
    }[kind]
    return randomize(make(), seed)


LOWERABLE = ["IF", "LIF", "CuBaLIF", "LI", "PSU_LIF", "RIF", "RLIF", "RCuBaLIF"]
SPIKING_1D = ["IF", "LIF", "CuBaLIF", "PSU_LIF", "RIF", "RLIF", "RCuBaLIF"]


def mlp(seed: int, kind: str = "LIF", n_in: int = 12, hidden: int = 16, n_out: int = 4, act=None):
    r = nnx.Rngs(seed)
    return snn.Sequential(
        nnx.Linear(n_in, hidden, rngs=r),
        neuron(kind, (hidden,), seed + 1, act),
        nnx.Linear(hidden, n_out, rngs=r),
        neuron("LI", (n_out,), seed + 2, act),
    )


def convnet(seed: int, act=None):
    """Input (10, 10, 2) channels-last: conv(stride 1 SAME) -> LIF -> SumPool -> conv(stride 2, pad 1,
    dilation, groups) -> CuBaLIF -> Flatten -> Linear -> RLIF -> Linear -> LI."""
    r = nnx.Rngs(seed)
    return snn.Sequential(
        nnx.Conv(2, 4, (3, 3), padding="SAME", rngs=r),
        neuron("LIF", (10, 10, 4), seed + 1, act),
        snn.SumPool(2, 2, "VALID"),
        nnx.Conv(
            4,
            6,
            (3, 2),
            strides=(2, 1),
            padding=((1, 1), (1, 1)),
            kernel_dilation=(1, 2),
            feature_group_count=2,
            rngs=r,
        ),
        neuron("CuBaLIF", (3, 5, 6), seed + 2, act),
        snn.Flatten(),
        nnx.Linear(90, 20, rngs=r),
        neuron("RLIF", (20,), seed + 3, act),
        snn.ActivityRegularization((20,)),
        nnx.Linear(20, 5, rngs=r),
        neuron("LI", (5,), seed + 4, act),
    )


def conv1d_net(seed: int, act=None):
    """Input (16, 3): conv1d (stride 2, VALID) -> IF -> Flatten (pending permutation to the output)."""
    r = nnx.Rngs(seed)
    return snn.Sequential(
        nnx.Conv(3, 4, (3,), strides=2, padding="VALID", rngs=r),
        neuron("PSU_LIF", (7, 4), seed + 1, act),
        snn.Flatten(),
        neuron("IF", (28,), seed + 2, act),
    )


def alif_stack(seed: int):
    """Input (9,): Linear -> RLIF -> Linear -> ALIF (fixed gamma) -> Linear -> LI."""
    r = nnx.Rngs(seed)
    alif = snn.ALIF((10,), gamma=0.9, learn_gamma=False, threshold=0.8, rngs=r)
    return snn.Sequential(
        nnx.Linear(9, 8, rngs=r),
        neuron("RLIF", (8,), seed + 1),
        nnx.Linear(8, 10, rngs=r),
        randomize(alif, seed + 2),
        nnx.Linear(10, 4, rngs=r),
        neuron("LI", (4,), seed + 3),
    )


def alif_conv_net(seed: int):
    """Input (6, 6, 2): conv (SAME) -> ALIF on a (H, W, C) map -> Flatten -> ALIF (pending permutation to
    the output): per-neuron beta and gamma in both layouts."""
    r = nnx.Rngs(seed)
    return snn.Sequential(
        nnx.Conv(2, 3, (3, 3), padding="SAME", rngs=r),
        neuron("ALIF", (6, 6, 3), seed + 1),
        snn.Flatten(),
        neuron("ALIF", (108,), seed + 2),
    )


def random_stack(seed: int):
    """A random MLP of 1-3 (Linear, neuron) blocks with random kinds and widths, ending in an LI readout
    half of the time. Returns (model, input_shape)."""
    rng = np.random.default_rng(seed)
    r = nnx.Rngs(seed)
    width = int(rng.integers(3, 12))
    n_in = width
    layers = []
    for b in range(int(rng.integers(1, 4))):
        out = int(rng.integers(3, 16))
        layers.append(nnx.Linear(width, out, use_bias=bool(rng.random() < 0.7), rngs=r))
        layers.append(neuron(str(rng.choice(SPIKING_1D)), (out,), seed * 10 + b))
        width = out
    if rng.random() < 0.5:
        layers += [nnx.Linear(width, 3, rngs=r), neuron("LI", (3,), seed * 10 + 9)]
    return snn.Sequential(*layers), (n_in,)
