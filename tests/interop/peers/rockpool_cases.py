"""Rockpool fixtures (torch backend): LIFTorch (CubaLIF), LIFNeuronTorch (LIF), ExpSynTorch (LI readout),
LIFTorch(has_rec=True), bias, non-default dt and max_spikes_per_dt.

Rockpool modules take (B, T, N). ``rockpool.nn.modules.torch.nir.to_nir`` writes LIFTorch as
CubaLIF(tau_syn, tau_mem, r = tau_mem*exp(-dt/tau_mem)/dt, v_leak = 0, v_threshold) (w_in default 1),
ExpSynTorch
as LI(tau, r = tau*exp(-dt/tau)/dt, v_leak = 0); the bias, the recurrent weights and max_spikes_per_dt
are lost.
"""

from __future__ import annotations

import numpy as np

from .common import Case, CaseResult, spikes, to_numpy, try_export

PEER = "rockpool"
T, B = 40, 2
LOST = ["bias (v_leak written as 0)", "max_spikes_per_dt", "dt (recoverable from r and tau)"]


def version() -> str:
    import rockpool

    return rockpool.__version__


def _run(net, x_tb):
    import torch

    with torch.no_grad():
        y, _, _ = net(torch.from_numpy(np.ascontiguousarray(np.swapaxes(x_tb, 0, 1))))
    return np.swapaxes(to_numpy(y), 0, 1)


def _export(net, n_in):
    import torch
    from rockpool.nn.modules.torch.nir import to_nir

    return try_export(lambda: to_nir(net, torch.zeros((1, n_in))))


def _names(graph):
    return [] if graph is None else list(graph.nodes)


def case_lif(
    seed, dt=1e-3, bias=0.0, max_spikes=2.0**16, has_rec=False, neuron="LIFTorch", readout=False, wscale=0.5
):
    import torch
    from rockpool.nn.combinators import Sequential
    from rockpool.nn.modules import ExpSynTorch, LIFNeuronTorch, LIFTorch, LinearTorch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    def lif(n):
        kw = dict(
            tau_mem=torch.from_numpy(rng.uniform(5 * dt, 40 * dt, n).astype(np.float32)),
            threshold=torch.full((n,), 0.8),
            bias=torch.full((n,), float(bias)),
            dt=dt,
            max_spikes_per_dt=torch.tensor(float(max_spikes)),
        )
        if neuron == "LIFNeuronTorch":
            return LIFNeuronTorch(n, **{k: v for k, v in kw.items() if k != "max_spikes_per_dt"})
        return LIFTorch(
            n,
            tau_syn=torch.from_numpy(rng.uniform(2 * dt, 20 * dt, n).astype(np.float32)),
            has_rec=has_rec,
            **kw,
        )

    last = (
        ExpSynTorch(4, tau=torch.from_numpy(rng.uniform(5 * dt, 30 * dt, 4).astype(np.float32)), dt=dt)
        if readout
        else lif(4)
    )
    net = Sequential(
        LinearTorch((6, 10), has_bias=False), lif(10), LinearTorch((10, 4), has_bias=False), last
    )
    with torch.no_grad():
        for m in (net[0], net[2]):
            m.weight.mul_(wscale)
    x = spikes(rng, (T, B, 6))
    y = _run(net, x)
    graph, err = _export(net, 6)
    notes = ""
    if readout and err is None:
        # ExpSynTorch is exported with tau=module.tau (not detached): nir.write then raises "Can't call
        # numpy()
        # on Tensor that requires grad". Workaround a user can apply: freeze the parameters before exporting.
        import nir

        _, werr = try_export(lambda: nir.write("/dev/null", graph))
        for prm in torch.nn.Module.parameters(net):
            prm.requires_grad_(False)
        graph, err = _export(net, 6)
        notes = f"nir.write of the plain export fails ({werr}); exported again with requires_grad=False"
    if has_rec and err is None:
        err = "exporter silently dropped the recurrent weights (w_rec) of LIFTorch(has_rec=True)"
    lost = list(LOST) + (["w_rec (has_rec=True): recurrent weights not written"] if has_rec else [])
    neuron_nodes = [k for k in _names(graph) if k not in ("input", "output")][1::2]
    node_opts = {k: {"bias": bias} for k in neuron_nodes} if bias else {}
    return CaseResult(
        input=x,
        output=y,
        dt=dt,
        graph=graph,
        export_error=err,
        lost=lost,
        output_kind="membrane" if readout else "spikes",
        native_options={
            "neuron": neuron,
            "dt": dt,
            "bias": bias,
            "max_spikes_per_dt": max_spikes,
            "has_rec": has_rec,
            "readout": "ExpSynTorch" if readout else None,
        },
        ref={
            "profile": "rockpool",
            "options": {"max_spikes_per_dt": int(max_spikes)},
            "node_options": node_opts,
        },
        notes=notes + ("the bias is not in the file: the ref passes it as an option" if bias else ""),
    )


CASES = [
    Case("lif_cuba", lambda: case_lif(1), "Linear-LIFTorch x2 (CubaLIF), dt=1e-3"),
    Case(
        "lif_cuba_dt5e-4_maxspikes2",
        lambda: case_lif(2, dt=5e-4, max_spikes=2, wscale=3.0),
        "LIFTorch with dt=5e-4 and max_spikes_per_dt=2",
    ),
    Case("lif_cuba_bias", lambda: case_lif(3, bias=0.05), "LIFTorch with bias=0.05 (lost by the exporter)"),
    Case(
        "lif_neuron",
        lambda: case_lif(4, neuron="LIFNeuronTorch", wscale=4.0),
        "Linear-LIFNeuronTorch x2 (LIF)",
    ),
    Case(
        "expsyn_readout", lambda: case_lif(5, readout=True), "Linear-LIFTorch-Linear-ExpSynTorch (membrane)"
    ),
    Case(
        "lif_has_rec",
        lambda: case_lif(6, has_rec=True, wscale=0.3),
        "LIFTorch(has_rec=True): recurrent weights dropped",
    ),
]
