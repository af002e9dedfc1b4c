"""spyx: spiking neural networks in JAX, with a model compiler and interchange toolchain for NIR."""

from spyx import axn, draw, io, ir, profiles, quant, sharding, targets, tools  # draw: Graph._repr_svg_
from spyx.backend import Program, run_population
from spyx.errors import *  # noqa: F401,F403  (the exception tree is public API)
from spyx.errors import __all__ as _errors_all
from spyx.ir import Graph, to_text, verify
from spyx.tools import compile, load, run_file, save

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("spyx")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "unknown"

# Submodules that pull in flax, optax or jax are loaded on first use, so that `import spyx` (and the CLI) stay
# quick; `import spyx; spyx.nn.LIF` works as it does in Spyx 1.0, which imported them all eagerly.
_LAZY_MODULES = ("nn", "fn", "data", "optimize", "nir", "bench", "experimental", "ssm", "phasor")


def __getattr__(name: str):
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f"spyx.{name}")
    if name == "lower":
        return importlib.import_module("spyx.nn").lower
    if name == "jax":
        return importlib.import_module("jax")
    if name == "jnp":
        return importlib.import_module("jax.numpy")
    raise AttributeError(f"module 'spyx' has no attribute {name!r}")


__all__ = [
    "jax",
    "jnp",
    "bench",
    "data",
    "draw",
    "experimental",
    "fn",
    "nir",
    "optimize",
    "phasor",
    "ssm",
    "Graph",
    "Program",
    "axn",
    "compile",
    "io",
    "ir",
    "quant",
    "sharding",
    "targets",
    "tools",
    "load",
    "lower",
    "nn",
    "profiles",
    "run_file",
    "run_population",
    "save",
    "to_text",
    "verify",
    "__version__",
    *_errors_all,
]
