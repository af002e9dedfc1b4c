"""spyx.nn.run(model) == program of lower(model) == program of load(save(export(model))) == from_nir(file).

ALIF has no NIR form, so models with it take the lowering path only (both schedules).

Spikes must be identical and membranes (final states, LI readouts) within 1e-6 of their scale
(``max(1, max |v|)``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import spyx
import spyx.nn as snn
from tests.nn.models import (
    LOWERABLE,
    alif_conv_net,
    alif_stack,
    conv1d_net,
    convnet,
    mlp,
    neuron,
    random_stack,
    spikes,
)

DT = 1e-3


def cf(a: np.ndarray, lead: int = 2) -> np.ndarray:
    """(..lead.., *spatial, C) -> (..lead.., C, *spatial): the NNX layout of a signal in NIR's layout."""
    a = np.asarray(a)
    return a if a.ndim - lead < 2 else np.moveaxis(a, -1, lead)


def close(actual, expected, what: str):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    # float32 sums in a different order (e.g. x - thr s + W s): 1e-6 of the signal's scale
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6 * scale, err_msg=what)


def compare_outputs(model, out_ref, out, what):
    last = model.layers[-1] if isinstance(model, snn.Sequential) else model
    if isinstance(last, snn.LI):
        close(out, out_ref, f"{what}: readout membrane")
    else:
        assert np.array_equal(np.asarray(out), np.asarray(out_ref)), f"{what}: spikes differ"


def neuron_layers(model):
    """(top-level layer name, layer) for every layer with a membrane, as the walk names them."""
    layers = list(model.layers) if isinstance(model, snn.Sequential) else [model]
    return [
        (f"{i}_{type(layer).__name__.lower()}", i, layer)
        for i, layer in enumerate(layers)
        if hasattr(layer, "beta") or isinstance(layer, snn.IF)
    ]


def halves(state):
    """``[X | Y]`` on the last axis -> (X, Y)."""
    n = np.asarray(state).shape[-1] // 2
    return np.asarray(state)[..., :n], np.asarray(state)[..., n:]


def compare_membranes(model, ref_state, prog_state, what, skip=(), faithful=False):
    """The layers' states against the program's: membrane ``V`` (the first half of ``[V | I]`` / ``[V | A]``).

    CuBaLIF resets before the leak: its lowered ``spyx.Neuron`` keeps ``V - s thr`` (the reset applied), so the
    lowered program is compared on the current ``I``; the faithful graph's membrane LI holds ``V`` itself and
    its synapse LI ``I``."""
    compared = 0
    for name, i, layer in neuron_layers(model):
        if name in skip:
            continue
        ref = ref_state[i] if isinstance(model, snn.Sequential) else ref_state
        if isinstance(layer, snn.CuBaLIF):
            v, cur = halves(ref)
            if faithful:
                close(prog_state[name]["v"], cf(v, 1), f"{what}: membrane of {name}")
                close(prog_state[f"{name}_syn"]["v"], cf(cur, 1), f"{what}: current of {name}")
            else:
                close(prog_state[name]["i"], cf(cur, 1), f"{what}: current of {name}")
        else:
            v = halves(ref)[0] if isinstance(layer, snn.ALIF) else ref
            close(prog_state[name]["v"], cf(v, 1), f"{what}: membrane of {name}")
        compared += 1
    assert compared, "no membrane compared"


def cases():
    yield "LIF+LI mlp", mlp(0, "LIF"), (12,), ()
    yield "RCuBaLIF+LI mlp", mlp(10, "RCuBaLIF"), (12,), ()
    for kind in LOWERABLE:
        yield f"{kind} alone", neuron(kind, (11,), seed=7), (11,), ()
    for seed in (1, 2, 3):
        model, shape = random_stack(seed)
        yield f"random stack {seed}", model, shape, ()
    yield "conv net", convnet(40), (10, 10, 2), ()
    # the IF after Flatten keeps NIR order internally (a permutation restores NNX order at the output)
    yield "conv1d net", conv1d_net(50), (16, 3), ("3_if",)


CASES = list(cases())


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Run every case once through all four paths (compiles are the slow part: one jit per program)."""
    out = {}
    tmp = tmp_path_factory.mktemp("nir")
    for idx, (label, model, shape, skip) in enumerate(CASES):
        x = spikes((30, 3, *shape), seed=idx + 100)
        ref, ref_state = snn.run(model, x)
        x_ir = cf(x)
        prog = spyx.compile(snn.lower(model, shape))
        low, low_state = jax.jit(prog.run)(prog.params, x_ir)
        path = tmp / f"case{idx}.nir"
        spyx.save(snn.export(model, shape, dt=DT), path)
        prog2 = spyx.compile(spyx.load(path), dt=DT, method="exact")
        fa, fa_state = jax.jit(prog2.run)(prog2.params, x_ir)
        module = snn.from_nir(path, dt=DT)
        imp, _ = snn.run(module, jnp.asarray(x_ir))
        out[label] = (model, skip, np.asarray(ref), ref_state, low, low_state, fa, fa_state, imp)
    return out


@pytest.mark.parametrize("label", [c[0] for c in CASES])
def test_lowered_program_equals_run(results, label):
    model, skip, ref, ref_state, low, low_state, *_ = results[label]
    assert ref.shape[0] == 30
    compare_outputs(model, ref, cf(low), f"{label} lowered")
    compare_membranes(model, ref_state, low_state, f"{label} lowered", skip)


@pytest.mark.parametrize("label", [c[0] for c in CASES])
def test_faithful_nir_file_equals_run(results, label):
    model, skip, ref, ref_state, _, _, fa, fa_state, _ = results[label]
    compare_outputs(model, ref, cf(fa), f"{label} faithful NIR")
    compare_membranes(model, ref_state, fa_state, f"{label} faithful NIR", skip, faithful=True)


@pytest.mark.parametrize("label", [c[0] for c in CASES])
def test_from_nir_equals_run(results, label):
    model, _, ref, *_, imp = results[label]
    compare_outputs(model, ref, cf(imp), f"{label} from_nir")


def lower_only_cases():
    """(label, model, input_shape, {layer name: NIR-order permutation of its flat state}); every case runs
    in the default ``layer`` schedule, the cheap ones in ``step`` too."""
    yield "ALIF alone", neuron("ALIF", (11,), seed=7), (11,), {}
    yield "ALIF+LI mlp", mlp(30, "ALIF"), (12,), {}
    yield "RLIF+ALIF+LI stack", alif_stack(31), (9,), {}
    # the ALIF after Flatten keeps NIR order (c, h, w) internally; the output Linear restores NNX order
    perm = np.moveaxis(np.arange(108).reshape(3, 6, 6), 0, -1).reshape(-1)
    yield "ALIF conv net", alif_conv_net(32), (6, 6, 2), {"3_alif": perm}


LOWER_ONLY = {c[0]: c[1:] for c in lower_only_cases()}
LOWER_RUNS = [(label, "layer") for label in LOWER_ONLY] + [
    ("ALIF alone", "step"),
    ("RLIF+ALIF+LI stack", "step"),
]


@pytest.mark.parametrize(("label", "schedule"), LOWER_RUNS)
def test_lowered_alif_program_equals_run(label, schedule):
    model, shape, perms = LOWER_ONLY[label]
    x = spikes((30, 3, *shape), seed=200) * 1.5
    ref, ref_state = snn.run(model, x)
    prog = spyx.compile(snn.lower(model, shape), schedule=schedule)
    low, low_state = jax.jit(prog.run)(prog.params, cf(x))
    what = f"{label} lowered ({schedule})"
    compare_outputs(model, ref, cf(low), what)
    compare_membranes(model, ref_state, low_state, what, skip=tuple(perms))
    for name, i, layer in neuron_layers(model):
        ref = ref_state[i] if isinstance(model, snn.Sequential) else ref_state
        parts = dict(zip(("v", "a"), halves(ref), strict=True)) if isinstance(layer, snn.ALIF) else {"v": ref}
        for key, value in parts.items():
            got = np.asarray(low_state[name][key])
            got = got[..., perms[name]] if name in perms else got
            close(got, cf(value, 1), f"{what}: {key} of {name}")
        if isinstance(layer, snn.ALIF):
            assert float(np.max(parts["a"])) > 0, f"{what}: {name} never spiked"


def test_spiking_cases_fire():
    """Guard against a vacuous comparison: the spiking models' outputs are not all zero."""
    x = spikes((30, 3, 12), seed=1)
    out, _ = snn.run(snn.Sequential(*list(mlp(20, "LIF").layers)[:2]), x)
    assert 0.02 < float(jnp.mean(out)) < 0.98


@pytest.mark.parametrize("kind", ["LIF", "CuBaLIF", "PSU_LIF"])
def test_trained_decays_outside_unit_interval_lower_as_the_layer_clips_them(kind):
    """Training can push a stored decay past [0, 1]; the layer clips at use, so the lowered graph must too."""
    model = mlp(40, kind)
    hidden, readout = model.layers[1], model.layers[3]
    for layer in (hidden, readout):
        for attr in ("beta", "alpha"):
            p = getattr(layer, attr, None)
            if isinstance(p, nnx.Param):
                values = np.array(p[...])
                values[::2] = 1.25  # above 1: clipped to 1
                values[1::4] = -0.5  # below 0: clipped to 0
                p[...] = jnp.asarray(values)
    x = spikes((30, 3, 12), seed=41) * 1.5
    ref, ref_state = snn.run(model, x)
    prog = spyx.compile(snn.lower(model, (12,)))
    low, low_state = jax.jit(prog.run)(prog.params, cf(x))
    compare_outputs(model, ref, cf(low), f"{kind} with out-of-range decays, lowered")
    compare_membranes(model, ref_state, low_state, f"{kind} with out-of-range decays, lowered")
