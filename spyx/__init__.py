"""spyx: spiking neural networks in JAX, with a model compiler and interchange toolchain for NIR."""

from spyx import axn, io, ir, quant, targets
from spyx.backend import Program, compile, run_file
from spyx.errors import *  # noqa: F401,F403  (the exception tree is public API)
from spyx.errors import __all__ as _errors_all
from spyx.io import load, save
from spyx.ir import Graph, to_text, verify

__version__ = "2.0.0.dev0"

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
    "run_file",
    "save",
    "to_text",
    "verify",
    "__version__",
    *_errors_all,
]
