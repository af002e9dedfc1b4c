"""``spyx.interop.from_torch``: a live model -> spyx program in one call, with the options the NIR file cannot
carry read from the modules. Each model uses non-default options so that reading them matters; the program
must give the module's own outputs."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.interop

torch = pytest.importorskip(
    "torch", reason="from_torch needs torch in this Python (scripts/test.sh installs it)"
)

T, B = 30, 2


def _native(step, x):
    with torch.no_grad():
        return np.stack([np.asarray(step(torch.from_numpy(x[t])).numpy(), np.float32) for t in range(len(x))])


def _spikes(rng, shape, p=0.3):
    return (rng.random(shape) < p).astype(np.float32)


def _run(program, x):
    return np.asarray(program.run(program.params, x)[0])


def test_snntorch_zero_reset_no_delay():
    snn = pytest.importorskip("snntorch")
    from spyx.interop import detect_framework, from_torch

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    kw = dict(reset_mechanism="zero", reset_delay=False, init_hidden=True)
    net = torch.nn.Sequential(
        torch.nn.Linear(6, 10),
        snn.Leaky(beta=torch.full((10,), 0.8), threshold=torch.full((10,), 0.5), **kw),
        torch.nn.Linear(10, 4),
        snn.Leaky(beta=torch.full((4,), 0.9), threshold=torch.full((4,), 0.5), **kw),
    )
    with torch.no_grad():
        for m in net:
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(2.0)
    assert detect_framework(net) == "snntorch"
    x = _spikes(rng, (T, B, 6))

    def step(xt):
        y = net(xt)
        return y[0] if isinstance(y, tuple) else y

    want = _native(step, x)
    for m in net.modules():  # the exporter reads the parameters; start the native state afresh
        if hasattr(m, "reset_hidden"):
            m.reset_hidden()
    program, graph = from_torch(net, torch.zeros(1, 6), return_graph=True)
    assert (
        "reset=zero" in graph.metadata["spyx.profile"]
        and "reset_delay=false" in graph.metadata["spyx.profile"]
    )
    assert want.sum() > 5
    np.testing.assert_array_equal(_run(program, x), want)


def test_sinabs_single_spike_reset_and_clamp():
    pytest.importorskip("sinabs")
    import sinabs.layers as sl
    from sinabs.activation import MembraneReset, SingleSpike

    from spyx.interop import from_torch

    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    kw = dict(spike_fn=SingleSpike, reset_fn=MembraneReset(), min_v_mem=-0.5, num_timesteps=T)
    net = torch.nn.Sequential(
        torch.nn.Linear(6, 10), sl.IAFSqueeze(**kw), torch.nn.Linear(10, 4), sl.IAFSqueeze(**kw)
    )
    x = _spikes(rng, (T, B, 6))
    with torch.no_grad():  # Squeeze layers: (B*T, ...) batch-major
        y = net(torch.from_numpy(np.swapaxes(x, 0, 1).reshape(B * T, 6)))
    want = np.swapaxes(np.asarray(y.numpy()).reshape(B, T, 4), 0, 1)
    for m in net.modules():
        if hasattr(m, "reset_states"):
            m.reset_states()
    program = from_torch(net, torch.zeros(T, 6))
    assert want.sum() > 5
    np.testing.assert_array_equal(_run(program, x), want)


def test_norse_dt_v_reset_and_subtract():
    pytest.importorskip("norse")
    import norse.torch as nt
    from norse.torch.functional.reset import reset_subtract

    from spyx.interop import from_torch

    torch.manual_seed(2)
    rng = np.random.default_rng(2)
    dt = 5e-4

    def cell(n):
        p = nt.LIFBoxParameters(
            tau_mem_inv=torch.full((n,), 500.0),
            v_th=torch.full((n,), 0.3),
            v_reset=torch.full((n,), -0.1),
            v_leak=torch.zeros(n),
            reset_method=reset_subtract,
        )
        return nt.LIFBoxCell(p, dt=dt)

    net = nt.SequentialState(torch.nn.Linear(6, 10), cell(10), torch.nn.Linear(10, 4), cell(4))
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Linear):
                m.weight.uniform_(-0.5, 1.0)
    x = _spikes(rng, (T, B, 6))
    state = [None]

    def step(xt):
        y, state[0] = net(xt, state[0])
        return y

    want = _native(step, x)
    program = from_torch(net, torch.zeros(1, 6))
    assert want.sum() > 5
    np.testing.assert_array_equal(_run(program, x), want)


def test_rockpool_bias_and_spike_cap():
    pytest.importorskip("rockpool")
    from rockpool.nn.combinators import Sequential
    from rockpool.nn.modules import LIFTorch, LinearTorch

    from spyx.interop import from_torch

    torch.manual_seed(3)
    rng = np.random.default_rng(3)
    kw = dict(dt=1e-3, bias=0.05, max_spikes_per_dt=2, threshold=0.5)
    net = Sequential(LinearTorch((6, 10)), LIFTorch(10, **kw), LinearTorch((10, 4)), LIFTorch(4, **kw))
    x = _spikes(rng, (T, B, 6))
    with torch.no_grad():
        y, _, _ = net(torch.from_numpy(np.swapaxes(x, 0, 1).copy()))  # (B, T, N)
    want = np.swapaxes(np.asarray(y.numpy(), np.float32), 0, 1)
    net.reset_state()
    program = from_torch(net, torch.zeros(1, 6))
    assert want.sum() > 5
    np.testing.assert_array_equal(_run(program, x), want)


def test_unknown_framework_is_an_option_error():
    from spyx.errors import OptionError
    from spyx.interop import detect_framework

    with pytest.raises(OptionError, match="pass framework="):
        detect_framework(torch.nn.Sequential(torch.nn.Linear(2, 2)))
