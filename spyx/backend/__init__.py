"""spyx.backend: compile a NIR graph into a JAX :class:`Program` (jit, vmap, grad) and run it."""

from spyx.backend import adaptive as _adaptive  # noqa: F401  (registers the spyx.AdaptiveNeuron kernel)
from spyx.backend.compile import compile, lower, resolve_surrogate
from spyx.backend.kernels import KERNELS, Kernel, kernel_for, register_kernel
from spyx.backend.population import perturb_params, run_population, stack_params
from spyx.backend.program import Program
from spyx.backend.run import RunResult, run_file
from spyx.backend.schedule import SCHEDULES

__all__ = [
    "KERNELS",
    "Kernel",
    "Program",
    "RunResult",
    "SCHEDULES",
    "compile",
    "kernel_for",
    "lower",
    "perturb_params",
    "register_kernel",
    "resolve_surrogate",
    "run_file",
    "run_population",
    "stack_params",
]
