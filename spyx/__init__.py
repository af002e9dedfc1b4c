"""spyx: spiking neural networks in JAX, with a model compiler and interchange toolchain for NIR."""

from spyx import axn, io, ir, profiles, quant, targets
from spyx.backend import Program, compile, run_file
from spyx.errors import *  # noqa: F401,F403  (the exception tree is public API)
from spyx.errors import __all__ as _errors_all
from spyx.io import load, save
from spyx.ir import Graph, to_text, verify

__version__ = "2.0.0.dev0"


def __getattr__(name: str):
    # spyx.nn pulls in flax; load it on first use so that `import spyx` (and the CLI) stay quick.
    if name in ("nn", "lower"):
        import importlib

        nn = importlib.import_module("spyx.nn")
        return nn if name == "nn" else nn.lower
    raise AttributeError(f"module 'spyx' has no attribute {name!r}")

__all__ = [
    "Graph",
    "Program",
    "axn",
    "compile",
    "io",
    "ir",
    "quant",
    "targets",
    "load",
    "lower",
    "nn",
    "profiles",
    "run_file",
    "save",
    "to_text",
    "verify",
    "__version__",
    *_errors_all,
]
