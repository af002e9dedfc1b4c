"""Sinabs fixtures: IAF (MultiSpike / SingleSpike, subtract / reset, min_v_mem), LIF (norm_input, tau_syn),
ExpLeak readout, conv + SumPool2d + Flatten, LIFRecurrent, and a Merge (skip).

Sinabs has no dt: tau is in time steps. The layers used are the ``*Squeeze`` variants with ``num_timesteps``,
which take the batch-major flattened ``(B*T, ...)`` input that ``sinabs.to_nir`` (sinabs/nir.py) expects (it
drops dim 0 of the sample). The exporter writes IF(r=1, v_threshold), LIF(tau, r=1, v_leak=0, v_threshold),
LI(tau, r=1, v_leak=0), and keeps none of spike_fn, reset_fn, min_v_mem, norm_input, tau_syn.
"""

from __future__ import annotations

import numpy as np

from .common import Case, CaseResult, dropped_nodes, spikes, to_numpy, try_export

PEER = "sinabs"
T, B = 30, 3
LOST = ["spike_fn", "reset_fn", "min_v_mem", "norm_input", "tau_syn", "dt (tau in time steps)"]


def version() -> str:
    import sinabs

    return sinabs.__version__


def _run(net, x_tb: np.ndarray) -> np.ndarray:
    """x_tb (T, B, ...) -> native output (T, B, ...); sinabs runs (B*T, ...) batch-major."""
    import sinabs
    import torch

    sinabs.reset_states(net)
    Tn, Bn = x_tb.shape[:2]
    xb = np.swapaxes(x_tb, 0, 1).reshape(Bn * Tn, *x_tb.shape[2:])
    with torch.no_grad():
        y = to_numpy(net(torch.from_numpy(np.ascontiguousarray(xb))))
    return np.swapaxes(y.reshape(Bn, Tn, *y.shape[1:]), 0, 1)


def _export(net, sample_shape):
    import sinabs
    import torch

    sinabs.reset_states(net)
    return try_export(lambda: sinabs.to_nir(net, torch.zeros((T, *sample_shape))))


def _lin(n_in, n_out, scale, seedbias=0.0):
    import torch

    fc = torch.nn.Linear(n_in, n_out)
    with torch.no_grad():
        fc.weight.mul_(scale)
        fc.bias.add_(seedbias)
    return fc


def case_iaf(seed, spike_fn="multi", reset_fn="subtract", min_v_mem=None, thr=0.8, drive=0.0) -> CaseResult:
    import sinabs.activation as sa
    import sinabs.layers as sl
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    kw = dict(
        spike_threshold=torch.tensor(thr),
        min_v_mem=min_v_mem,
        num_timesteps=T,
        spike_fn=sa.MultiSpike if spike_fn == "multi" else sa.SingleSpike,
        reset_fn=sa.MembraneSubtract() if reset_fn == "subtract" else sa.MembraneReset(),
    )
    net = torch.nn.Sequential(
        _lin(6, 10, 3.0, drive), sl.IAFSqueeze(**kw), _lin(10, 4, 3.0, drive), sl.IAFSqueeze(**kw)
    )
    x = spikes(rng, (T, B, 6))
    y = _run(net, x)
    graph, err = _export(net, (6,))
    opts = {"spike_fn": spike_fn, "reset_fn": reset_fn, "min_v_mem": min_v_mem}
    return CaseResult(
        input=x,
        output=y,
        dt=1.0,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options={"layer": "IAFSqueeze", "spike_threshold": thr, **opts},
        ref={"profile": "sinabs", "options": opts},
    )


def case_lif(seed, norm_input: bool, tau_syn=None, readout_min_v=None, thr_per_neuron=True) -> CaseResult:
    """Linear -> LIFSqueeze -> Linear -> ExpLeakSqueeze (membrane readout)."""
    import sinabs.layers as sl
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    tau = torch.from_numpy(rng.uniform(3, 20, 10).astype(np.float32))
    thr = torch.full((10,), 0.6) if thr_per_neuron else torch.tensor(0.6)  # scalar: exporter crash
    lif = sl.LIFSqueeze(
        tau_mem=tau, tau_syn=tau_syn, spike_threshold=thr, norm_input=norm_input, num_timesteps=T
    )
    ro = sl.ExpLeakSqueeze(
        tau_mem=torch.from_numpy(rng.uniform(5, 30, 4).astype(np.float32)),
        min_v_mem=readout_min_v,
        num_timesteps=T,
    )
    scale = 10.0 if norm_input else 2.0
    net = torch.nn.Sequential(_lin(6, 10, scale), lif, _lin(10, 4, 1.0, -0.3), ro)
    x = spikes(rng, (T, B, 6))
    y = _run(net, x)
    graph, err = _export(net, (6,))
    opts = {"norm_input": norm_input}
    node_opts = {"3": {"norm_input": False, "min_v_mem": readout_min_v}}  # ExpLeak defaults: norm_input False
    lost = list(LOST)
    if tau_syn is not None:
        lost.append(f"tau_syn={tau_syn} of LIF (written as a plain LIF)")
    return CaseResult(
        input=x,
        output=y,
        dt=1.0,
        graph=graph,
        export_error=err,
        lost=lost,
        output_kind="membrane",
        native_options={
            "layers": ["LIFSqueeze", "ExpLeakSqueeze"],
            "norm_input": norm_input,
            "tau_syn": tau_syn,
            "readout_min_v_mem": readout_min_v,
        },
        ref={"profile": "sinabs", "options": {**opts, "tau_syn": tau_syn}, "node_options": node_opts},
        notes="tau_syn is not in the file: the ref passes it as an option" if tau_syn else "",
    )


def case_conv(seed) -> CaseResult:
    """Conv2d -> IAFSqueeze -> SumPool2d -> Conv2d -> IAFSqueeze -> Flatten -> Linear -> IAFSqueeze, (2,
    8, 8)."""
    import sinabs.layers as sl
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    c1, c2 = torch.nn.Conv2d(2, 4, 3, padding=1, bias=False), torch.nn.Conv2d(4, 4, 3, stride=2, padding=1)
    with torch.no_grad():
        c1.weight.mul_(3.0)
        c2.weight.mul_(2.0)
    iaf = lambda: sl.IAFSqueeze(num_timesteps=T, min_v_mem=-1.0)  # noqa: E731
    net = torch.nn.Sequential(
        c1, iaf(), sl.SumPool2d(2), c2, iaf(), torch.nn.Flatten(), _lin(16, 5, 2.0), iaf()
    )
    x = spikes(rng, (T, B, 2, 8, 8))
    y = _run(net, x)
    graph, err = _export(net, (2, 8, 8))
    notes = ""
    if graph is not None:  # Conv2d/Flatten come out with input_type None and nir.write raises on them
        _, terr = try_export(graph.infer_types)
        notes = (
            "sinabs.to_nir leaves Conv2d/Flatten input_type None; nir.write raises 'One of data, shape or "
            "dtype must be specified' unless graph.infer_types() is called first (done here)"
        )
        if terr:
            err = f"infer_types failed: {terr}"
    return CaseResult(
        input=x,
        output=y,
        dt=1.0,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        notes=notes,
        native_options={"layers": ["Conv2d", "IAFSqueeze", "SumPool2d", "Flatten"], "min_v_mem": -1.0},
        ref={"profile": "sinabs", "options": {"min_v_mem": -1.0}},
    )


def case_recurrent(seed) -> CaseResult:
    import sinabs.layers as sl
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    rec = _lin(8, 8, 1.0)
    net = torch.nn.Sequential(_lin(6, 8, 3.0), sl.IAFRecurrent(rec_connect=rec), _lin(8, 4, 3.0), sl.IAF())
    x = spikes(rng, (T, B, 6))
    import sinabs

    sinabs.reset_states(net)
    with torch.no_grad():
        y = np.swapaxes(to_numpy(net(torch.from_numpy(np.ascontiguousarray(np.swapaxes(x, 0, 1))))), 0, 1)
    graph, err = try_export(lambda: sinabs.to_nir(net, torch.zeros((1, T, 6))))
    return CaseResult(
        input=x,
        output=y,
        dt=1.0,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options={"layers": ["IAFRecurrent", "IAF"]},
        ref={"profile": "sinabs", "options": {}},
    )


def case_merge(seed) -> CaseResult:
    import sinabs.layers as sl
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    class Skip(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc_skip = _lin(6, 8, 3.0), _lin(8, 4, 3.0), _lin(6, 4, 3.0)
            self.iaf1, self.iaf2 = sl.IAFSqueeze(num_timesteps=T), sl.IAFSqueeze(num_timesteps=T)
            self.merge = sl.Merge()

        def forward(self, x):
            return self.iaf2(self.merge(self.fc2(self.iaf1(self.fc1(x))), self.fc_skip(x)))

    net = Skip()
    x = spikes(rng, (T, B, 6))
    y = _run(net, x)
    graph, err = _export(net, (6,))
    err = err or dropped_nodes(graph, ["fc1", "iaf1", "fc2", "fc_skip", "iaf2"])
    return CaseResult(
        input=x,
        output=y,
        dt=1.0,
        graph=graph,
        export_error=err,
        lost=list(LOST),
        native_options={"layers": ["IAFSqueeze", "Merge"]},
        ref={"profile": "sinabs", "options": {}},
    )


CASES = [
    Case("iaf_multispike_subtract", lambda: case_iaf(1), "Linear-IAF x2, defaults (MultiSpike, subtract)"),
    Case(
        "iaf_min_v_mem",
        lambda: case_iaf(2, min_v_mem=-0.5, thr=1.2, drive=0.4),
        "IAF with min_v_mem=-0.5, threshold 1.2",
    ),
    Case(
        "iaf_singlespike_reset",
        lambda: case_iaf(3, spike_fn="single", reset_fn="zero"),
        "IAF with SingleSpike and MembraneReset",
    ),
    Case(
        "lif_norm_input_expleak", lambda: case_lif(4, True), "LIF(norm_input=True, default) + ExpLeak readout"
    ),
    Case(
        "lif_no_norm_expleak_minv",
        lambda: case_lif(5, False, readout_min_v=-0.2),
        "LIF(norm_input=False) + ExpLeak(min_v_mem=-0.2) readout",
    ),
    Case("lif_tau_syn", lambda: case_lif(6, False, tau_syn=5.0), "LIF with tau_syn=5 (synaptic state)"),
    Case(
        "lif_scalar_threshold_crash",
        lambda: case_lif(10, True, thr_per_neuron=False),
        "LIF(tau_mem per neuron, spike_threshold scalar): nir.LIF shape assertion in the exporter",
    ),
    Case("conv_sumpool_flatten", lambda: case_conv(7), "Conv-IAF-SumPool-Conv-IAF-Flatten-Linear-IAF"),
    Case("iaf_recurrent", lambda: case_recurrent(8), "Linear-IAFRecurrent-Linear-IAF"),
    Case("merge_skip", lambda: case_merge(9), "Linear-IAF-Linear + skip Linear, Merge into IAF"),
]
