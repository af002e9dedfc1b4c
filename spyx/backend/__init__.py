"""spyx.backend: generate a JAX :class:`Program` (jit, vmap, grad) from a lowered graph.

The backend reads no files and runs no passes or profiles: :func:`generate` takes the flat, discrete graph
the lowering pipeline produced. ``spyx.compile`` (= ``spyx.tools.compile``) is the pipeline plus
:func:`generate`. ``spyx.backend.compile``, ``lower``, ``run_file`` and ``RunResult`` are kept as aliases of
their new homes in :mod:`spyx.tools`, resolved on first use (the backend does not import the layers above it).
"""

from spyx.backend import adaptive as _adaptive  # noqa: F401  (registers the spyx.AdaptiveNeuron kernel)
from spyx.backend import refractory as _refractory  # noqa: F401  (registers the spyx.RefractoryLIF kernel)
from spyx.backend import loihi as _loihi  # noqa: F401  (registers the spyx.LavaLIF kernel)
from spyx.backend.codegen import check_options, generate, resolve_surrogate
from spyx.backend.kernels import KERNELS, Kernel, kernel_for, register_kernel
from spyx.backend.population import perturb_params, run_population, stack_params
from spyx.backend.program import Program
from spyx.backend.schedule import SCHEDULES

_MOVED = {"compile": "spyx.tools.compile", "lower": "spyx.tools.compile", "run_file": "spyx.tools.run",
          "RunResult": "spyx.tools.run"}


def __getattr__(name: str):
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'spyx.backend' has no attribute {name!r}")


__all__ = [
    "KERNELS",
    "Kernel",
    "Program",
    "RunResult",
    "SCHEDULES",
    "check_options",
    "compile",
    "generate",
    "kernel_for",
    "lower",
    "perturb_params",
    "register_kernel",
    "resolve_surrogate",
    "run_file",
    "run_population",
    "stack_params",
]
