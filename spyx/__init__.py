"""spyx: spiking neural networks in JAX, with a model compiler and interchange toolchain for NIR.

Everything but the exception tree is loaded on first use (PEP 562 ``__getattr__``): ``import spyx`` costs a
few milliseconds, so that ``spyx-convert --version``, ``inspect``, ``validate`` and ``convert`` start without
JAX (they never need it). The names are those of Spyx 1.0, which imported every submodule eagerly:
``import spyx; spyx.nn.LIF``, ``from spyx import nn, axn, fn`` and ``spyx.compile`` work unchanged, and
``dir(spyx)`` lists them all.
"""

from spyx.errors import *  # noqa: F401,F403  (the exception tree is public API; spyx.errors imports nothing)
from spyx.errors import __all__ as _errors_all

# Submodules, imported on first attribute access (``from spyx import nn`` asks ``__getattr__`` too).
_LAZY_MODULES = frozenset({
    "axn", "bench", "data", "draw", "experimental", "fn", "io", "ir", "nir", "nn", "optimize", "phasor",
    "profiles", "quant", "sharding", "ssm", "targets", "tools",
})

# Re-exported objects: name -> (module, attribute in it).
_LAZY_NAMES = {
    "Graph": ("spyx.ir", "Graph"),
    "to_text": ("spyx.ir", "to_text"),
    "verify": ("spyx.ir", "verify"),
    "Program": ("spyx.backend", "Program"),
    "run_population": ("spyx.backend", "run_population"),
    "compile": ("spyx.tools.compile", "compile"),
    "load": ("spyx.tools.files", "load"),
    "run_file": ("spyx.tools.run", "run_file"),
    "save": ("spyx.tools.files", "save"),
    "lower": ("spyx.nn", "lower"),
    # Spyx 1.0 exposed its own imports of jax as spyx.jax and spyx.jnp; code written for it still uses them
    "jax": ("jax", None),
    "jnp": ("jax.numpy", None),
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("spyx")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def __getattr__(name: str):
    import importlib
    import importlib.util

    if name in _LAZY_MODULES:
        return importlib.import_module(f"spyx.{name}")
    if name in _LAZY_NAMES:
        module, attr = _LAZY_NAMES[name]
        value = importlib.import_module(module)
        value = value if attr is None else getattr(value, attr)
    elif name == "__version__":
        value = _version()
    elif not name.startswith("_") and importlib.util.find_spec(f"spyx.{name}") is not None:
        # any other submodule (spyx.passes, spyx.backend, ...): the eager package used to import them all
        return importlib.import_module(f"spyx.{name}")
    else:
        raise AttributeError(f"module 'spyx' has no attribute {name!r}")
    globals()[name] = value  # looked up once; later accesses do not come back here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
