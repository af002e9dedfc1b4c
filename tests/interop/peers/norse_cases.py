"""Norse fixtures: LIFBoxCell (LIF), LIFCell (CubaLIF), IAFCell (IF), LIBoxCell (LI readout),
LIFRecurrentCell,
conv + flatten, a skip/merge, and non-default dt / reset_method / v_leak / v_reset.

Norse modules take (B, ...) per step and return (out, state). ``norse.torch.to_nir(module, sample, dt=...)``
(norse/torch/utils/export_nir.py) writes tau = dt / tau_inv = dt * tau_true (a bug: the file's tau is off by a
factor dt), leaves out v_reset (nir fills 0), reset_method, and returns None for modules it does not know
(LIFRecurrentCell, Flatten, pooling), which nirtorch silently drops from the graph.
"""

from __future__ import annotations

import numpy as np

from .common import Case, CaseResult, dropped_nodes, spikes, to_numpy, try_export

PEER = "norse"
T, B = 50, 2
LOST = [
    "tau written as dt*tau (export_nir.py: tau=dt / tau_mem_inv)",
    "v_reset (not written; nir fills 0)",
    "reset_method",
    "dt (not stored; user passes it)",
]


def version() -> str:
    from importlib.metadata import version as v

    ver = v("norse")
    # the PyPI sdist of 1.1.0 builds with version 0.0.0 (setuptools_scm without git metadata)
    return f"{ver} (sdist norse-1.1.0.tar.gz)" if ver == "0.0.0" else ver


def _t(x):
    import torch

    return torch.as_tensor(np.asarray(x, np.float32))


def _run(net, x: np.ndarray) -> np.ndarray:
    import torch

    state, out = None, []
    with torch.no_grad():
        for t in range(x.shape[0]):
            y, state = net(torch.from_numpy(x[t]), state)
            out.append(to_numpy(y))
    return np.stack(out)


def _export(net, sample_shape, dt):
    import norse.torch as nt
    import torch

    return try_export(lambda: nt.to_nir(net, torch.zeros((1, *sample_shape)), dt=dt))


def _lin(n_in, n_out, scale, drive=0.0):
    import torch

    fc = torch.nn.Linear(n_in, n_out)
    with torch.no_grad():
        fc.weight.mul_(scale)
        fc.bias.add_(drive)
    return fc


def _lifbox(rng, n, dt_scale=1.0, reset="value", v_leak=0.0, v_reset=0.0):
    import norse.torch as nt
    from norse.torch.functional.reset import reset_subtract, reset_value

    shape = n if isinstance(n, tuple) else (n,)
    p = nt.LIFBoxParameters(
        tau_mem_inv=_t(rng.uniform(50, 200, shape)),
        v_leak=_t(np.full(shape, v_leak)),
        v_th=_t(np.full(shape, 0.5 + 0.5 * rng.random())),
        v_reset=_t(np.full(shape, v_reset)),
        reset_method=reset_subtract if reset == "subtract" else reset_value,
    )
    return p


def case_lifbox(dt: float, reset: str, v_leak: float, v_reset: float, seed: int) -> CaseResult:
    import norse.torch as nt
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = nt.SequentialState(
        _lin(6, 10, 0.04 / dt, 0.8),
        nt.LIFBoxCell(_lifbox(rng, 10, reset=reset, v_leak=v_leak, v_reset=v_reset), dt=dt),
        _lin(10, 4, 0.04 / dt, 0.8),
        nt.LIFBoxCell(_lifbox(rng, 4, reset=reset, v_leak=v_leak, v_reset=v_reset), dt=dt),
    )
    x = spikes(rng, (T, B, 6))
    y = _run(net, x)
    graph, err = _export(net, (6,), dt)
    return CaseResult(
        input=x,
        output=y,
        dt=dt,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options={
            "cell": "LIFBoxCell",
            "dt": dt,
            "reset_method": reset,
            "v_leak": v_leak,
            "v_reset": v_reset,
        },
        ref={
            "profile": "norse",
            "options": {"tau_written_times_dt": True, "reset": reset},
            # v_reset is not in the file: a user who set it must pass it
            "node_options": {"1": {"v_reset": v_reset}, "3": {"v_reset": v_reset}},
        },
    )


def case_cuba(dt: float, seed: int) -> CaseResult:
    import norse.torch as nt
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    def p(n):
        return nt.LIFParameters(
            tau_syn_inv=_t(rng.uniform(100, 400, n)),
            tau_mem_inv=_t(rng.uniform(50, 200, n)),
            v_leak=_t(np.full(n, 0.05)),
            v_th=_t(np.full(n, 0.4)),
            v_reset=_t(np.zeros(n)),
        )

    net = nt.SequentialState(
        _lin(6, 10, 40.0), nt.LIFCell(p(10), dt=dt), _lin(10, 4, 40.0), nt.LIFCell(p(4), dt=dt)
    )
    x = spikes(rng, (T, B, 6))
    y = _run(net, x)
    graph, err = _export(net, (6,), dt)
    return CaseResult(
        input=x,
        output=y,
        dt=dt,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options={"cell": "LIFCell", "dt": dt, "v_leak": 0.05},
        ref={"profile": "norse", "options": {"tau_written_times_dt": True}},
    )


def case_iaf_li(seed: int) -> CaseResult:
    """Linear -> IAFCell -> Linear -> LIBoxCell: the output is the LI membrane."""
    import norse.torch as nt
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dt = 1e-3
    net = nt.SequentialState(
        _lin(6, 8, 2.0),
        nt.IAFCell(nt.IAFParameters(v_th=_t(np.full(8, 0.7)), v_reset=_t(np.zeros(8))), dt=dt),
        _lin(8, 3, 1.0),
        nt.LIBoxCell(
            nt.LIBoxParameters(tau_mem_inv=_t(rng.uniform(50, 200, 3)), v_leak=_t(np.full(3, 0.1))), dt=dt
        ),
    )
    x = spikes(rng, (T, B, 6))
    y = _run(net, x)
    graph, err = _export(net, (6,), dt)
    return CaseResult(
        input=x,
        output=y,
        dt=dt,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        output_kind="membrane",
        native_options={"cells": ["IAFCell", "LIBoxCell"], "dt": dt},
        ref={"profile": "norse", "options": {"tau_written_times_dt": True}},
    )


def case_recurrent(seed: int) -> CaseResult:
    """Linear -> LIFRecurrentCell -> Linear -> LIFBoxCell: the exporter has no branch for LIFRecurrentCell."""
    import norse.torch as nt
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dt = 1e-3
    rec = nt.LIFRecurrentCell(8, 8, p=nt.LIFParameters(v_th=_t(np.full(8, 0.3))), dt=dt)
    net = nt.SequentialState(_lin(6, 8, 5.0), rec, _lin(8, 4, 20.0), nt.LIFBoxCell(_lifbox(rng, 4), dt=dt))
    x = spikes(rng, (T, B, 6))
    y = _run(net, x)
    graph, err = _export(net, (6,), dt)
    err = err or dropped_nodes(graph, ["0", "1", "2", "3"])
    return CaseResult(
        input=x,
        output=y,
        dt=dt,
        graph=graph,
        export_error=err,
        lost=list(LOST) + ["LIFRecurrentCell (node)"],
        native_options={"cells": ["LIFRecurrentCell", "LIFBoxCell"], "dt": dt},
        ref={"profile": "norse", "options": {"tau_written_times_dt": True}},
    )


def case_conv(seed: int) -> CaseResult:
    """Conv2d -> LIFBoxCell -> Flatten -> Linear -> LIFBoxCell, input (2, 6, 6)."""
    import norse.torch as nt
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dt = 1e-3
    conv = torch.nn.Conv2d(2, 3, 3, padding=1)
    with torch.no_grad():
        conv.weight.mul_(30.0)
    net = nt.SequentialState(
        conv,
        nt.LIFBoxCell(_lifbox(rng, (3, 6, 6)), dt=dt),
        torch.nn.Flatten(),
        _lin(3 * 6 * 6, 4, 30.0),
        nt.LIFBoxCell(_lifbox(rng, 4), dt=dt),
    )
    x = spikes(rng, (T, B, 2, 6, 6))
    y = _run(net, x)
    graph, err = _export(net, (2, 6, 6), dt)
    err = err or dropped_nodes(graph, ["0", "1", "2", "3", "4"])
    return CaseResult(
        input=x,
        output=y,
        dt=dt,
        graph=graph,
        export_error=err,
        lost=list(LOST) + ["Flatten (node)"],
        native_options={"cells": ["Conv2d", "LIFBoxCell", "Flatten"], "dt": dt},
        ref={"profile": "norse", "options": {"tau_written_times_dt": True}},
    )


def case_skip(seed: int) -> CaseResult:
    import norse.torch as nt
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dt = 1e-3

    class Skip(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc_skip = _lin(6, 8, 20.0), _lin(8, 4, 20.0), _lin(6, 4, 20.0)
            self.lif1 = nt.LIFBoxCell(_lifbox(rng, 8), dt=dt)
            self.lif2 = nt.LIFBoxCell(_lifbox(rng, 4), dt=dt)

        def forward(self, x, state=None):
            s1, s2 = state if state is not None else (None, None)
            z1, s1 = self.lif1(self.fc1(x), s1)
            z2, s2 = self.lif2(self.fc2(z1) + self.fc_skip(x), s2)
            return z2, (s1, s2)

    net = Skip()
    x = spikes(rng, (T, B, 6))
    y = _run(net, x)
    graph, err = _export(net, (6,), dt)
    err = err or dropped_nodes(graph, ["fc1", "lif1", "fc2", "fc_skip", "lif2"])
    return CaseResult(
        input=x,
        output=y,
        dt=dt,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options={"cells": ["LIFBoxCell"], "dt": dt, "skip": True},
        ref={"profile": "norse", "options": {"tau_written_times_dt": True}},
    )


def case_defaults(seed: int) -> CaseResult:
    """LIFBoxCell() with its default (scalar) parameters: the LIF node has shape ()."""
    import norse.torch as nt
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = nt.SequentialState(_lin(6, 5, 20.0, 0.5), nt.LIFBoxCell())
    x = spikes(rng, (T, B, 6))
    y = _run(net, x)
    graph, err = _export(net, (6,), 1e-3)
    return CaseResult(
        input=x,
        output=y,
        dt=1e-3,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options={"cell": "LIFBoxCell", "p": "defaults (tau_mem_inv=100, v_th=1)", "dt": 1e-3},
        ref={"profile": "norse", "options": {"tau_written_times_dt": True}},
    )


CASES = [
    Case(
        "lifbox_default_params",
        lambda: case_defaults(9),
        "Linear-LIFBoxCell() with scalar default parameters",
    ),
    Case("lifbox_dt1e-3", lambda: case_lifbox(1e-3, "value", 0.0, 0.0, 1), "Linear-LIFBoxCell x2, defaults"),
    Case(
        "lifbox_dt5e-4_vleak_vreset",
        lambda: case_lifbox(5e-4, "value", 0.2, -0.1, 12),
        "LIFBoxCell with dt=5e-4, v_leak=0.2, v_reset=-0.1 (v_reset not exported)",
    ),
    Case(
        "lifbox_reset_subtract",
        lambda: case_lifbox(1e-3, "subtract", 0.0, 0.0, 3),
        "LIFBoxCell with reset_method=reset_subtract (not exported)",
    ),
    Case("lif_cuba_dt2e-4", lambda: case_cuba(2e-4, 4), "Linear-LIFCell x2 (current-based), dt=2e-4, v_leak"),
    Case("iaf_li_readout", lambda: case_iaf_li(5), "Linear-IAFCell-Linear-LIBoxCell (membrane readout)"),
    Case("lif_recurrent", lambda: case_recurrent(6), "Linear-LIFRecurrentCell-Linear-LIFBoxCell"),
    Case("conv_flatten", lambda: case_conv(7), "Conv2d-LIFBoxCell-Flatten-Linear-LIFBoxCell"),
    Case("skip_merge", lambda: case_skip(8), "Linear-LIFBox-Linear + skip Linear summed into LIFBox"),
]
