"""snnTorch fixtures: Leaky, Synaptic, RLeaky, RSynaptic, conv + AvgPool2d + Flatten, and a skip/merge.

snnTorch runs one step per call with (B, ...) tensors; we loop over time. ``export_to_nir`` hard-codes
dt = 1e-4 (tau = dt/(1-beta), r = tau/dt, w_in = tau_syn/dt) and records neither ``reset_mechanism`` nor
``reset_delay`` (v_reset is always 0). It needs per-neuron ``beta``/``threshold`` tensors: with scalars the
LIF node gets shape () and ``nir_graph.infer_types()`` raises (see ``scalar_beta_export_crash``).
"""

from __future__ import annotations

import numpy as np

from .common import Case, CaseResult, dropped_nodes, spikes, to_numpy, try_export

PEER = "snntorch"
DT = 1e-4  # what export_to_nir writes implicitly (export_nir.py, dt = 1e-4 in each branch)
T, B = 40, 3
LOST = ["reset_mechanism", "reset_delay (v_reset written as 0)", "dt (implicit 1e-4)"]


def version() -> str:
    import snntorch

    return snntorch.__version__


def _full(n, v):
    import torch

    return torch.full(n if isinstance(n, tuple) else (n,), float(v))


def _run(net, x: np.ndarray, reset_state=True) -> np.ndarray:
    import snntorch.utils
    import torch

    if reset_state:
        snntorch.utils.reset(net)
    out = []
    with torch.no_grad():
        for t in range(x.shape[0]):
            y = net(torch.from_numpy(x[t]))
            if isinstance(y, tuple):
                y = y[0]
            out.append(to_numpy(y))
    return np.stack(out)


def _export(net, sample_shape):
    import torch
    from snntorch.export_nir import export_to_nir

    return try_export(lambda: export_to_nir(net, torch.zeros((1, *sample_shape)), ignore_dims=[0]))


def _mlp(
    kind: str, reset: str, delay: bool, seed: int, n_in=6, n_hid=10, n_out=4, wscale=1.0, drive=0.0
) -> CaseResult:
    import snntorch as snn
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    def neuron(n):
        thr = _full(n, 0.5 + 0.5 * rng.random())
        kw = dict(threshold=thr, reset_mechanism=reset, reset_delay=delay, init_hidden=True)
        beta = torch.from_numpy(rng.uniform(0.6, 0.95, n).astype(np.float32))
        if kind == "leaky":
            return snn.Leaky(beta=beta, **kw)
        if kind == "synaptic":
            alpha = torch.from_numpy(rng.uniform(0.3, 0.9, n).astype(np.float32))
            return snn.Synaptic(alpha=alpha, beta=beta, **kw)
        if kind == "rleaky":
            return snn.RLeaky(beta=beta, linear_features=n, **kw)
        if kind == "rleaky_1to1":  # all_to_all=False: recurrent weight V per neuron, exported as diag(V)
            return snn.RLeaky(
                beta=beta,
                all_to_all=False,
                V=torch.from_numpy(rng.uniform(-1, 1, n).astype(np.float32)),
                **kw,
            )
        if kind == "rsynaptic":
            alpha = torch.from_numpy(rng.uniform(0.3, 0.9, n).astype(np.float32))
            return snn.RSynaptic(alpha=alpha, beta=beta, linear_features=n, **kw)
        raise ValueError(kind)

    fc1, fc2 = torch.nn.Linear(n_in, n_hid), torch.nn.Linear(n_hid, n_out)
    with torch.no_grad():
        fc1.weight.mul_(wscale * 2.0)
        fc2.weight.mul_(wscale * 2.0)
        fc1.bias.add_(drive)
        fc2.bias.add_(drive)
    net = torch.nn.Sequential(fc1, neuron(n_hid), fc2, neuron(n_out))
    x = spikes(rng, (T, B, n_in))
    y = _run(net, x)
    graph, err = _export(net, (n_in,))
    return CaseResult(
        input=x,
        output=y,
        dt=DT,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options={"layer": kind, "reset_mechanism": reset, "reset_delay": delay},
        ref={"profile": "snntorch", "options": {"reset": reset, "reset_delay": delay}},
    )


def _conv() -> CaseResult:
    """Conv2d -> Leaky -> AvgPool2d -> Flatten -> Linear -> Leaky, input (2, 8, 8)."""
    import snntorch as snn
    import torch

    torch.manual_seed(11)
    rng = np.random.default_rng(11)
    conv = torch.nn.Conv2d(2, 4, 3, padding=1)
    with torch.no_grad():
        conv.weight.mul_(3.0)
    lif1 = snn.Leaky(
        beta=_full((4, 8, 8), 0.85),
        threshold=_full((4, 8, 8), 0.6),
        init_hidden=True,
        reset_mechanism="subtract",
        reset_delay=False,
    )
    fc = torch.nn.Linear(4 * 4 * 4, 5)
    with torch.no_grad():
        fc.weight.mul_(3.0)
    lif2 = snn.Leaky(
        beta=_full(5, 0.9),
        threshold=_full(5, 0.8),
        init_hidden=True,
        reset_mechanism="subtract",
        reset_delay=False,
    )
    net = torch.nn.Sequential(conv, lif1, torch.nn.AvgPool2d(2), torch.nn.Flatten(), fc, lif2)
    x = spikes(rng, (T, B, 2, 8, 8))
    y = _run(net, x)
    graph, err = _export(net, (2, 8, 8))
    return CaseResult(
        input=x,
        output=y,
        dt=DT,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options={"layer": "leaky", "reset_mechanism": "subtract", "reset_delay": False},
        ref={"profile": "snntorch", "options": {"reset": "subtract", "reset_delay": False}},
    )


def _skip() -> CaseResult:
    """x -> fc1 -> lif1 -> fc2 -+-> lif2 ; x -> fc_skip -+ (two Linear outputs summed into one Leaky)."""
    import snntorch as snn
    import torch

    torch.manual_seed(12)
    rng = np.random.default_rng(12)

    class Skip(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(6, 8)
            self.lif1 = snn.Leaky(
                beta=_full(8, 0.8),
                threshold=_full(8, 0.5),
                init_hidden=True,
                reset_mechanism="zero",
                reset_delay=True,
            )
            self.fc2 = torch.nn.Linear(8, 4)
            self.fc_skip = torch.nn.Linear(6, 4)
            self.lif2 = snn.Leaky(
                beta=_full(4, 0.9),
                threshold=_full(4, 0.5),
                init_hidden=True,
                reset_mechanism="zero",
                reset_delay=True,
            )

        def forward(self, x):
            return self.lif2(self.fc2(self.lif1(self.fc1(x))) + self.fc_skip(x))

    net = Skip()
    x = spikes(rng, (T, B, 6))
    y = _run(net, x)
    graph, err = _export(net, (6,))
    err = err or dropped_nodes(graph, ["fc1", "lif1", "fc2", "fc_skip", "lif2"])
    return CaseResult(
        input=x,
        output=y,
        dt=DT,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options={"layer": "leaky", "reset_mechanism": "zero", "reset_delay": True},
        ref={"profile": "snntorch", "options": {"reset": "zero", "reset_delay": True}},
    )


def _scalar_beta() -> CaseResult:
    """The documented usage (scalar beta) exports a LIF of shape () and infer_types() raises."""
    import snntorch as snn
    import torch

    torch.manual_seed(13)
    rng = np.random.default_rng(13)
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), snn.Leaky(beta=0.9, init_hidden=True))
    x = spikes(rng, (T, 2, 5))
    y = _run(net, x)
    graph, err = _export(net, (5,))
    return CaseResult(
        input=x,
        output=y,
        dt=DT,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options={"layer": "leaky", "beta": 0.9, "reset_mechanism": "subtract", "reset_delay": True},
        ref={"profile": "snntorch", "options": {"reset": "subtract", "reset_delay": True}},
    )


def _mk(name, kind, reset, delay, seed, **kw):
    return Case(
        name,
        lambda: _mlp(kind, reset, delay, seed, **kw),
        f"Linear-{kind}-Linear-{kind}, reset_mechanism={reset}, reset_delay={delay}",
    )


CASES = [
    _mk("leaky_subtract_delay", "leaky", "subtract", True, 1),
    _mk("leaky_subtract_nodelay", "leaky", "subtract", False, 2, wscale=2.0, drive=1.5),
    _mk("leaky_zero_delay", "leaky", "zero", True, 3),
    _mk("leaky_zero_nodelay", "leaky", "zero", False, 4),
    _mk("leaky_none", "leaky", "none", True, 15, drive=0.2),
    _mk("synaptic_subtract_delay", "synaptic", "subtract", True, 5),
    _mk("synaptic_subtract_nodelay", "synaptic", "subtract", False, 14, drive=1.0),
    _mk("synaptic_zero_delay", "synaptic", "zero", True, 6),
    _mk("synaptic_zero_nodelay", "synaptic", "zero", False, 7),
    _mk("rleaky_subtract_delay", "rleaky", "subtract", True, 8, drive=0.7),
    _mk("rleaky_zero_nodelay", "rleaky", "zero", False, 9),
    _mk("rleaky_one_to_one_zero_delay", "rleaky_1to1", "zero", True, 16, drive=0.3),
    _mk("rsynaptic_zero_delay", "rsynaptic", "zero", True, 10),
    Case(
        "conv_avgpool_flatten",
        _conv,
        "Conv2d-Leaky-AvgPool2d-Flatten-Linear-Leaky, subtract, reset_delay=False",
    ),
    Case(
        "skip_merge",
        _skip,
        "Linear-Leaky-Linear + skip Linear summed into Leaky, zero reset, reset_delay=True",
    ),
    Case("scalar_beta_export_crash", _scalar_beta, "Leaky(beta=0.9) with scalar beta: exporter crash"),
]
