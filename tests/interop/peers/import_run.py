"""Run a NIR file in a peer framework through that framework's own NIR *importer* (the reverse direction).

Usage (with a Python that has the peers)::

    python -m tests.interop.peers.import_run PEER model.nir input.npy output.npy [--dt DT]

``input.npy`` is time-major (T, B, *shape); the peer's module is stepped T times (state carried) and the
outputs are stacked to (T, B, *out). Prints one JSON line with what was built.
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np


def _step_all(module, x, call):
    import torch

    outs, state = [], None
    with torch.no_grad():
        for t in range(x.shape[0]):
            y, state = call(module, torch.as_tensor(x[t]), state)
            outs.append(np.asarray(y.detach().numpy(), np.float32))
    return np.stack(outs)


def run_snntorch(graph, x, dt):
    from snntorch.import_nir import import_from_nir

    net = import_from_nir(graph)

    def call(m, xt, state):
        out = m(xt, state) if state is not None else m(xt)
        y, state = out if isinstance(out, tuple) else (out, None)
        if isinstance(y, tuple):  # (spk, mem) of the last layer
            y = y[0]
        return y, state

    return net, _step_all(net, x, call)


def run_norse(graph, x, dt):
    import norse.torch as norse

    net = norse.from_nir(graph, dt=dt)

    def call(m, xt, state):
        y, state = m(xt, state)
        return y, state

    return net, _step_all(net, x, call)


def run_sinabs(graph, x, dt):
    import torch
    from sinabs import from_nir

    b = x.shape[1]
    net = from_nir(graph, batch_size=b)
    with torch.no_grad():  # Squeeze layers take (B*T, ...) batch-major
        xb = torch.as_tensor(np.swapaxes(x, 0, 1).reshape(b * x.shape[0], *x.shape[2:]))
        y = net(xb)
        y = y[0] if isinstance(y, tuple) else y
    y = np.asarray(y.numpy(), np.float32).reshape(b, x.shape[0], *y.shape[1:])
    return net, np.swapaxes(y, 0, 1)


def run_rockpool(graph, x, dt):
    import torch
    from rockpool.nn.modules.torch.nir import from_nir

    net = from_nir(graph)  # the importer reads dt from the file (tau_mem / (1 + r))
    with torch.no_grad():  # Rockpool modules take (B, T, N) and return (output, state)
        y = net(torch.from_numpy(np.swapaxes(x, 0, 1).copy()))
        y = y[0] if isinstance(y, tuple) else y
    return net, np.swapaxes(np.asarray(y.numpy(), np.float32), 0, 1)


def run_spikingjelly(graph, x, dt):
    from spikingjelly.activation_based.nir_exchange import import_from_nir

    net = import_from_nir(graph, dt=dt)  # forward returns (output, state); state=None starts afresh

    def call(m, xt, state):
        return m(xt, state)

    return net, _step_all(net, x, call)


RUNNERS = {
    "snntorch": run_snntorch,
    "norse": run_norse,
    "sinabs": run_sinabs,
    "rockpool": run_rockpool,
    "spikingjelly": run_spikingjelly,
}


def main(argv=None) -> int:
    import nir
    import torch

    torch.set_num_threads(1)
    ap = argparse.ArgumentParser()
    ap.add_argument("peer", choices=sorted(RUNNERS))
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--dt", type=float, default=1e-3)
    a = ap.parse_args(argv)
    graph = nir.read(a.model)
    x = np.load(a.input).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net, y = RUNNERS[a.peer](graph, x, a.dt)
    np.save(a.output, y)
    print(json.dumps({"peer": a.peer, "modules": [type(m).__name__ for m in net.modules()][:20]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
