"""Spyx 1.0.0 (flax.nnx) fixtures: LIF, CuBaLIF, IF, PSU_LIF (LI + Threshold), RLIF, RCuBaLIF, conv +
SumPool +
Flatten (channels-last natively), and LI (not exported).

Runs only in a separate venv (``/work/spyx1-venv``: ``pip install spyx==1.0.0``, which brings jax 0.10
and flax
0.12), without torch: ``/work/spyx1-venv/bin/python -m tests.interop.peers.generate OUT --peer spyx1``.

Spyx 1.0 emits the spike of the *previous* membrane (``S_t = H(V_{t-1} - thr)``, spyx/nn.py LIF/CuBaLIF
``__call__``); ``spyx.nir.to_nir(model, input_shape, output_shape, dt)`` writes LIF(tau = dt/(1-beta), r
= beta),
CubaLIF(tau_mem, tau_syn, r = beta), IF(r = 1), PSU_LIF as LI(r = 1) + Threshold, and recurrent layers as a
sub-graph ``input -> w_rec <-> lif -> output``.
"""

from __future__ import annotations

import numpy as np

from .common import Case, CaseResult, dropped_nodes, spikes, to_numpy, try_export

PEER = "spyx1"
T, B = 40, 2
LOST = ["reset by subtraction and the previous-membrane spike (no NIR field)", "channels-last Flatten order"]


def _spyx1():
    """Import the installed spyx 1.0, not the repository's ``spyx/`` (which shadows it when run from the
    root)."""
    import importlib
    import sys
    from pathlib import Path

    mod = sys.modules.get("spyx")
    if mod is not None and getattr(mod, "__version__", "").startswith("1."):
        return mod
    root = Path(__file__).resolve().parents[3]
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != root]
    for name in [m for m in sys.modules if m == "spyx" or m.startswith("spyx.")]:
        del sys.modules[name]
    try:
        return importlib.import_module("spyx")
    finally:
        sys.path[:] = saved


def version() -> str:
    return _spyx1().__version__


def _run(model, x_tb):
    import jax.numpy as jnp

    y, _ = _spyx1().nn.run(model, jnp.asarray(x_tb))
    return to_numpy(np.asarray(y))


def _export(model, in_shape, out_shape, dt):
    spyx = _spyx1()
    return try_export(
        lambda: spyx.nir.to_nir(model, {"input": np.array(in_shape)}, {"output": np.array(out_shape)}, dt=dt)
    )


def _scale(lin, s):
    lin.kernel.value = lin.kernel.value * s
    return lin


def case_mlp(neuron: str, seed: int, dt: float = 1.0, readout: str | None = None) -> CaseResult:
    from flax import nnx

    sn = _spyx1().nn

    rngs = nnx.Rngs(seed)
    rng = np.random.default_rng(seed)
    make = {
        "LIF": lambda n: sn.LIF((n,), threshold=0.8, rngs=rngs),
        "CuBaLIF": lambda n: sn.CuBaLIF((n,), threshold=0.8, rngs=rngs),
        "IF": lambda n: sn.IF((n,), threshold=1.5),
        "RLIF": lambda n: sn.RLIF((n,), threshold=0.8, rngs=rngs),
        "RCuBaLIF": lambda n: sn.RCuBaLIF((n,), threshold=0.8, rngs=rngs),
        "PSU_LIF": lambda n: sn.PSU_LIF((n,), threshold=0.8, rngs=rngs),
    }[neuron]
    layers = [_scale(nnx.Linear(6, 10, rngs=rngs), 2.0), make(10), _scale(nnx.Linear(10, 4, rngs=rngs), 2.0)]
    if readout == "LI":
        layers.append(sn.LI((4,), rngs=rngs))
    else:
        layers.append(make(4))
    model = sn.Sequential(*layers)
    x = spikes(rng, (T, B, 6))
    y = _run(model, x)
    graph, err = _export(model, [6], [4], dt)
    err = err or dropped_nodes(graph, [f"layer_{i}" for i in range(len(layers))])
    return CaseResult(
        input=x,
        output=y,
        dt=dt,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        output_kind="membrane" if readout else "spikes",
        native_options={"neuron": neuron, "dt": dt, "readout": readout},
        ref={"profile": "spyx1", "options": {}},
    )


def case_conv(seed: int) -> CaseResult:
    """Conv(SAME) -> LIF -> SumPool(2) -> Flatten -> Linear -> LIF; native NHWC, stored input NCHW."""
    from flax import nnx

    sn = _spyx1().nn

    rngs = nnx.Rngs(seed)
    rng = np.random.default_rng(seed)
    conv = nnx.Conv(2, 4, kernel_size=(3, 3), padding="SAME", rngs=rngs)
    conv.kernel.value = conv.kernel.value * 2.0
    model = sn.Sequential(
        conv,
        sn.LIF((8, 8, 4), threshold=0.8, rngs=rngs),
        sn.SumPool((2, 2), (2, 2), "VALID"),
        sn.Flatten(),
        _scale(nnx.Linear(64, 5, rngs=rngs), 2.0),
        sn.LIF((5,), threshold=0.8, rngs=rngs),
    )
    x = spikes(rng, (T, B, 2, 8, 8))
    y = _run(model, np.ascontiguousarray(np.moveaxis(x, 2, -1)))
    graph, err = _export(model, [2, 8, 8], [5], 1.0)
    return CaseResult(
        input=x,
        output=y,
        dt=1.0,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options={"layout": "NHWC natively"},
        ref={"profile": "spyx1", "options": {"flatten": "channels_last"}},
        notes="the LIF over a conv map has hidden_shape (H, W, C) natively; its params are written (C, H, W)",
    )


CASES = [
    Case("lif_mlp", lambda: case_mlp("LIF", 1), "Linear-LIF x2, dt=1"),
    Case("lif_mlp_dt1e-3", lambda: case_mlp("LIF", 2, dt=1e-3), "Linear-LIF x2, exported with dt=1e-3"),
    Case("cubalif_mlp", lambda: case_mlp("CuBaLIF", 3), "Linear-CuBaLIF x2"),
    Case("if_mlp", lambda: case_mlp("IF", 4), "Linear-IF x2"),
    Case("psu_lif_mlp", lambda: case_mlp("PSU_LIF", 5), "Linear-PSU_LIF x2 (LI + Threshold in NIR)"),
    Case("rlif_mlp", lambda: case_mlp("RLIF", 6), "Linear-RLIF x2"),
    Case("rcubalif_mlp", lambda: case_mlp("RCuBaLIF", 7), "Linear-RCuBaLIF x2"),
    Case(
        "lif_li_readout", lambda: case_mlp("LIF", 8, readout="LI"), "Linear-LIF-Linear-LI: LI is not exported"
    ),
    Case("conv_sumpool_flatten", lambda: case_conv(9), "Conv-LIF-SumPool-Flatten-Linear-LIF (channels-last)"),
]
