"""``from_torch``: a live PyTorch SNN (snnTorch, Norse, Sinabs, Rockpool) straight to a spyx :class:`Program`.

The framework's own NIR exporter writes the graph; the options the file cannot carry (snnTorch's reset
mechanism, Sinabs's norm_input and clamp, Norse's dt and reset, Rockpool's bias and spike cap) are read from
the live modules and passed to that framework's profile, so the program computes what the module computes.
torch, nirtorch and the framework are imported here only (``pip install 'spyx[torch]'``).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from spyx.errors import OptionError, UnsupportedError

__all__ = ["from_torch", "detect_framework"]

FRAMEWORKS = ("snntorch", "norse", "sinabs", "rockpool")


def _need(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"spyx.interop.from_torch needs {module.split('.')[0]} ({e}); install it with "
            "pip install 'spyx[torch]' and the framework itself (snntorch, norse, sinabs, rockpool)"
        ) from e


def _named(module):
    """torch's own named_modules (Rockpool's modules override ``modules()`` with another meaning)."""
    import torch

    return torch.nn.Module.named_modules(module)


def _modules(module):
    return [m for _, m in _named(module)]


def detect_framework(module) -> str:
    """The framework whose neuron classes ``module`` uses (by the classes' top-level package)."""
    found = {c.__module__.split(".")[0] for m in _modules(module) for c in type(m).__mro__} & set(FRAMEWORKS)
    if len(found) != 1:
        raise OptionError(
            f"cannot tell the framework of {type(module).__name__}: it uses modules of "
            f"{', '.join(sorted(found)) or 'none of ' + ', '.join(FRAMEWORKS)}; pass framework="
        )
    return found.pop()


def _scalar(v) -> Any:
    a = np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)
    return float(a.reshape(-1)[0]) if a.size and np.all(a == a.reshape(-1)[0]) else a.astype(np.float32)


def _options_snntorch(module) -> dict[str, dict[str, Any]]:
    snn = _need("snntorch")
    out = {}
    for name, m in _named(module):
        if isinstance(m, snn.SpikingNeuron):
            out[name] = {"reset": m.reset_mechanism, "reset_delay": bool(m.reset_delay)}
    return out


def _options_sinabs(module) -> dict[str, dict[str, Any]]:
    _need("sinabs")
    from sinabs.activation import MembraneReset, SingleSpike

    out = {}
    for name, m in _named(module):
        if hasattr(m, "spike_threshold") or type(m).__name__.startswith("ExpLeak"):
            o: dict[str, Any] = {}
            if hasattr(m, "norm_input"):
                o["norm_input"] = bool(m.norm_input)
            if getattr(m, "min_v_mem", None) is not None:
                o["min_v_mem"] = _scalar(m.min_v_mem)
            if getattr(m, "spike_fn", None) is not None:
                o["spike_fn"] = (
                    "single" if isinstance(m.spike_fn, SingleSpike) or m.spike_fn is SingleSpike else "multi"
                )
            if getattr(m, "reset_fn", None) is not None:
                o["reset_fn"] = "zero" if isinstance(m.reset_fn, MembraneReset) else "subtract"
            if getattr(m, "tau_syn", None) is not None:
                o["tau_syn"] = _scalar(m.tau_syn)
            out[name] = o
    return out


def _options_norse(module) -> dict[str, dict[str, Any]]:
    _need("norse")
    out = {}
    for name, m in _named(module):
        p = getattr(m, "p", None)
        if p is not None and hasattr(m, "dt"):
            o: dict[str, Any] = {"dt": float(m.dt)}
            if hasattr(p, "v_reset"):
                o["v_reset"] = _scalar(p.v_reset)
            fn = getattr(p, "reset_method", None)
            if fn is not None:
                o["reset_method"] = "subtract" if "subtract" in getattr(fn, "__name__", "") else "value"
            out[name] = o
    return out


def _options_rockpool(module) -> dict[str, dict[str, Any]]:
    _need("rockpool")
    out = {}
    for name, m in _named(module):
        if hasattr(m, "max_spikes_per_dt") and hasattr(m, "dt"):
            o: dict[str, Any] = {"dt": float(m.dt), "max_spikes_per_dt": int(_scalar(m.max_spikes_per_dt))}
            if getattr(m, "bias", None) is not None:
                o["bias"] = _scalar(m.bias)
            out[name] = o
    return out


def _export(framework: str, module, sample):
    if framework == "snntorch":
        from snntorch.export_nir import export_to_nir

        return export_to_nir(module, sample, ignore_dims=[0])
    if framework == "norse":
        import norse.torch as nt

        dts = {o["dt"] for o in _options_norse(module).values()}
        return nt.to_nir(module, sample, dt=dts.pop() if len(dts) == 1 else 0.001)
    if framework == "sinabs":
        import sinabs

        graph = sinabs.to_nir(module, sample)
        graph.infer_types()  # sinabs leaves Conv2d/Flatten input types None, which nir.write rejects
        return graph
    import torch
    from rockpool.nn.modules.torch.nir import to_nir

    for p in torch.nn.Module.parameters(
        module
    ):  # ExpSynTorch exports tau without detaching it (nir.write fails otherwise)
        p.requires_grad_(False)
    return to_nir(module, sample)


def _fold(per_module: dict[str, dict[str, Any]], node_names: set[str]) -> tuple[dict, dict]:
    """Options shared by every module become global; the rest per node (module names are node names)."""
    if not per_module:
        return {}, {}
    keys = set().union(*per_module.values())
    glob, per_node = {}, {}
    for k in keys:
        vals = [o.get(k) for o in per_module.values()]
        if all(_same(v, vals[0]) for v in vals):
            if vals[0] is not None:
                glob[k] = vals[0]
            continue
        for name, o in per_module.items():
            if k in o:
                if not any(n == name or n.startswith(name + ".") for n in node_names):
                    raise UnsupportedError(
                        f"option {k} differs between layers and layer {name!r} is not a node "
                        f"of the exported graph; pass the options per node yourself"
                    )
                per_node.setdefault(name, {})[k] = o[k]
    return glob, per_node


def _same(a, b) -> bool:
    return (
        np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
        if a is not None
        else b is None
    )


def from_torch(
    module,
    sample_input,
    *,
    framework: str | None = None,
    dt: float | None = None,
    return_graph: bool = False,
    **profile_options: Any,
):
    """Export ``module`` with its framework's own NIR exporter and compile it with that framework's profile.

    Args:
        module: a torch.nn.Module built from snnTorch, Norse, Sinabs or Rockpool layers.
        sample_input: a torch tensor the exporter traces with (one time step, batch 1, as the framework's
            exporter expects: snnTorch/Norse/Rockpool ``(1, *shape)``, Sinabs ``(T, *shape)`` (Squeeze
            layers).
        framework: ``"snntorch"``, ``"norse"``, ``"sinabs"``, ``"rockpool"``, or None to detect it from the
            module's classes.
        dt: the time step (default: the profile's, which for Norse and Rockpool is read from the modules).
        return_graph: also return the loaded spyx Graph (with its profile recorded).
        **profile_options: override the options read from the modules (see docs/interop.md).

    Returns:
        the :class:`spyx.Program` (or ``(program, graph)`` with ``return_graph``).
    """
    torch = _need("torch")
    _need("nir")
    import nir

    import spyx
    from spyx.profiles import get_profile

    framework = framework or detect_framework(module)
    if framework not in FRAMEWORKS:
        raise OptionError(f"framework must be one of {', '.join(FRAMEWORKS)}, got {framework!r}")
    opts = {
        "snntorch": _options_snntorch,
        "norse": _options_norse,
        "sinabs": _options_sinabs,
        "rockpool": _options_rockpool,
    }[framework](module)
    module = module.eval()
    with torch.no_grad():
        graph_nir = _export(framework, module, sample_input)
    fd, tmp = tempfile.mkstemp(suffix=".nir")
    os.close(fd)
    try:
        nir.write(tmp, graph_nir)
        plain = spyx.io.read_nir(tmp).graph
        glob, per_node = _fold(opts, {n for n, _ in plain.walk()})
        glob.update(profile_options)
        profile = get_profile(framework)
        import dataclasses

        profile = dataclasses.replace(profile, **glob, node_options=per_node)
        graph = spyx.load(tmp, profile=profile.spec() if not _has_arrays(profile) else framework)
    finally:
        os.unlink(tmp)
    program = spyx.compile(graph, dt=dt, profile=profile)
    return (program, graph) if return_graph else program


def _has_arrays(profile) -> bool:
    import dataclasses

    vals = [getattr(profile, f.name) for f in dataclasses.fields(profile) if f.name != "node_options"]
    vals += [v for o in profile.node_options.values() for v in o.values()]
    return any(isinstance(v, np.ndarray) for v in vals)
