"""SpikingJelly 2.0 fixtures: LIFNode (decay_input true/false, hard reset to 0 and to v_reset != 0, soft reset),
IFNode, CUBALIFNode, and a Conv2d + LIF + AvgPool2d + Flatten network.

Every network runs in SpikingJelly's multi-step mode (``functional.set_step_mode(net, "m")``: the whole
``(T, B, ...)`` sequence in one call, through the CPU kernels of ``spikingjelly/_ops``) and is exported with
``nir_exchange.export_to_nir(net, example_input, dt=...)``. The exporter writes LIF(tau = tau dt,
r = 1 or tau, v_leak = v_reset), IF(r = 1/dt), CubaLIF(tau = dt/(1-decay), r = tau_mem/dt, w_in =
tau_syn/dt); it refuses soft reset (``v_reset=None``) and writes no metadata, not even dt.
"""

from __future__ import annotations

import numpy as np

from .common import Case, CaseResult, spikes, to_numpy, try_export

PEER = "spikingjelly"
T, B = 30, 3
LOST = ["dt (recoverable from IF r = 1/dt, LIF r = tau/dt or CubaLIF r = tau_mem/dt only)"]


def version() -> str:
    from importlib.metadata import version as v

    import spikingjelly.activation_based.nir_exchange  # noqa: F401 (fails without the NIR exchange)

    return v("spikingjelly")


def _lin(n_in, n_out, scale, bias=True, drive=0.3):
    """A Linear with its weights scaled and ``drive`` added to its bias (enough spikes in 30 steps)."""
    import torch
    from spikingjelly.activation_based import layer

    fc = layer.Linear(n_in, n_out, bias=bias)
    with torch.no_grad():
        fc.weight.mul_(scale)
        if bias:
            fc.bias.add_(drive)
    return fc


def _run_and_export(net, x: np.ndarray, dt: float):
    """SpikingJelly's multi-step output for ``x`` (T, B, ...), and its export (graph, error)."""
    import torch
    from spikingjelly.activation_based import functional
    from spikingjelly.activation_based.nir_exchange import export_to_nir

    functional.set_step_mode(net, "m")
    functional.reset_net(net)
    with torch.no_grad():
        y = to_numpy(net(torch.from_numpy(x)))
    functional.reset_net(net)
    graph, err = try_export(lambda: export_to_nir(net, torch.zeros((2, 1, *x.shape[2:])), dt=dt))
    return y, graph, err


def _result(x, y, graph, err, dt, native) -> CaseResult:
    return CaseResult(
        input=x,
        output=y,
        dt=dt,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options=native,
        ref={"profile": "spikingjelly", "options": {}},
    )


def case_mlp(seed, first: dict, second: str, dt: float = 1e-4, scale: float = 5.0) -> CaseResult:
    """Linear -> LIFNode(**first) -> Linear -> second ("if", "lif" with the same options, or "cubalif")."""
    import torch
    from spikingjelly.activation_based import neuron

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    out = {
        "if": lambda: neuron.IFNode(v_threshold=0.7),
        "lif": lambda: neuron.LIFNode(**{**first, "tau": first.get("tau", 2.0) + 1.5}),
    }[second]()
    net = torch.nn.Sequential(_lin(6, 10, scale), neuron.LIFNode(**first), _lin(10, 4, scale), out)
    x = spikes(rng, (T, B, 6))
    y, graph, err = _run_and_export(net, x, dt)
    return _result(x, y, graph, err, dt, {"layers": ["LIFNode", type(out).__name__], **first, "dt": dt})


def case_if(seed, dt: float) -> CaseResult:
    import torch
    from spikingjelly.activation_based import neuron

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = torch.nn.Sequential(
        _lin(6, 10, 2.0), neuron.IFNode(v_reset=-0.3), _lin(10, 4, 2.0, bias=False), neuron.IFNode(v_threshold=0.6)
    )
    x = spikes(rng, (T, B, 6))
    y, graph, err = _run_and_export(net, x, dt)
    return _result(x, y, graph, err, dt, {"layers": ["IFNode"], "v_reset": [-0.3, 0.0], "dt": dt})


def case_cubalif(seed) -> CaseResult:
    import torch
    from spikingjelly.activation_based import neuron

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = torch.nn.Sequential(
        _lin(6, 10, 1.5),
        neuron.CUBALIFNode(c_decay=0.5, v_decay=0.75, v_threshold=0.5),
        _lin(10, 4, 2.0),
        neuron.IFNode(),
    )
    x = spikes(rng, (T, B, 6))
    y, graph, err = _run_and_export(net, x, 1e-4)
    return _result(x, y, graph, err, 1e-4, {"layers": ["CUBALIFNode", "IFNode"], "c_decay": 0.5, "v_decay": 0.75})


def case_conv(seed) -> CaseResult:
    """Conv2d -> LIFNode -> AvgPool2d -> Flatten -> Linear -> IFNode on (2, 8, 8)."""
    import torch
    from spikingjelly.activation_based import layer, neuron

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    conv = layer.Conv2d(2, 4, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.mul_(6.0)
    net = torch.nn.Sequential(
        conv,
        neuron.LIFNode(tau=2.0),
        layer.AvgPool2d(2),
        layer.Flatten(),
        _lin(64, 5, 4.0),
        neuron.IFNode(v_threshold=0.5),
    )
    x = spikes(rng, (T, B, 2, 8, 8))
    y, graph, err = _run_and_export(net, x, 1e-4)
    return _result(x, y, graph, err, 1e-4, {"layers": ["Conv2d", "LIFNode", "AvgPool2d", "Flatten", "IFNode"]})


PULSES = ((2, 5, 9, 14, 20, 27), (0, 3, 4, 11, 18, 29))  # steps of the pulses of sample 0 and sample 1


def case_pulse() -> CaseResult:
    """One LIF neuron, pulses far above threshold: SpikingJelly's spike comes in the pulse's own step
    (``dynamic_before_transition``; tests/interop/test_peer_profiles.py checks it against the profile)."""
    import torch
    from spikingjelly.activation_based import neuron

    fc = _lin(1, 1, 1.0, bias=False)
    with torch.no_grad():
        fc.weight.fill_(1.0)
    net = torch.nn.Sequential(fc, neuron.LIFNode(tau=2.0))
    x = np.zeros((T, len(PULSES), 1), np.float32)
    for b, steps in enumerate(PULSES):
        x[list(steps), b, 0] = 10.0
    y, graph, err = _run_and_export(net, x, 1e-4)
    return _result(x, y, graph, err, 1e-4, {"layers": ["LIFNode"], "pulses": PULSES})


CASES = [
    Case("lif_if_mlp", lambda: case_mlp(1, {"tau": 2.0}, "if"), "Linear-LIF(tau=2, decay_input)-Linear-IF"),
    Case(
        "lif_no_decay_input_vreset",
        lambda: case_mlp(2, {"tau": 3.0, "decay_input": False, "v_reset": -0.2, "v_threshold": 0.4}, "lif"),
        "LIF(decay_input=False, v_reset=-0.2) x2",
    ),
    Case(
        "lif_decay_input_only",
        lambda: case_mlp(3, {"tau": 2.0}, "lif"),
        "LIF(tau=2) x2, v_reset 0: the parameters of a Norse export (r = 1, tau < 1)",
    ),
    Case(
        "lif_soft_reset",
        lambda: case_mlp(4, {"tau": 2.0, "v_reset": None}, "if"),
        "LIF(v_reset=None): export_to_nir refuses soft reset",
    ),
    Case("if_mlp_dt_1e-3", lambda: case_if(5, 1e-3), "IF x2 (v_reset -0.3 and 0) exported at dt = 1e-3"),
    Case("cubalif_if", lambda: case_cubalif(6), "Linear-CUBALIF(c_decay 0.5, v_decay 0.75)-Linear-IF"),
    Case("conv_lif_pool", lambda: case_conv(7), "Conv2d-LIF-AvgPool2d-Flatten-Linear-IF, (2, 8, 8)"),
    Case("lif_pulse", case_pulse, "one LIF(tau=2), pulses of 10: the spike timing"),
]
