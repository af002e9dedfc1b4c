"""spyx.tools: the top layer of the library. The functions that compose the layers below (``compile``,
``load``, ``save``, ``run_file``) and the library side of every ``spyx-convert`` command, each returning one
:class:`ToolResult` (lines, error lines, exit code, files written); ``cli/main.py`` only parses and prints.

Layers, each importing only those before it (``tests/packaging/test_layers.py``): errors -> ir -> io, passes
-> profiles, quant, targets -> backend -> nn -> tools -> cli (``docs/architecture.md``).

The names are loaded on first use (PEP 562 ``__getattr__``), each from its own module: ``compile`` and
``run_file`` need JAX; ``inspect_command``, ``validate_command`` and ``convert_command`` do not, and the CLI
does not pay for JAX to inspect a file.
"""

import importlib
import sys
import types

# name -> the module that defines it
_LAZY = {
    "compile": "spyx.tools.compile",
    "lower": "spyx.tools.compile",
    "lowered": "spyx.tools.compile",
    "convert_command": "spyx.tools.convert",
    "lower_command": "spyx.tools.convert",
    "passes_command": "spyx.tools.convert",
    "demo": "spyx.tools.examples",
    "demo_command": "spyx.tools.examples",
    "recurrent_snn": "spyx.tools.examples",
    "load": "spyx.tools.files",
    "save": "spyx.tools.files",
    "describe": "spyx.tools.inspect",
    "describe_text": "spyx.tools.inspect",
    "inspect_command": "spyx.tools.inspect",
    "to_dot": "spyx.tools.inspect",
    "validate_command": "spyx.tools.inspect",
    "validate_file": "spyx.tools.inspect",
    "quantize_command": "spyx.tools.quantize",
    "ToolResult": "spyx.tools.result",
    "RunResult": "spyx.tools.run",
    "random_spikes": "spyx.tools.run",
    "read_inputs": "spyx.tools.run",
    "run_command": "spyx.tools.run",
    "run_file": "spyx.tools.run",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'spyx.tools' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Tools(types.ModuleType):
    """Importing the submodule ``spyx.tools.compile`` binds it here under its name, over the function of the
    same name (an eager ``from spyx.tools.compile import compile`` used to rebind it afterwards); the public
    ``spyx.tools.compile`` stays the function."""

    def __setattr__(self, name, value):
        if name == "compile" and isinstance(value, types.ModuleType):
            value = value.compile
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Tools


__all__ = [
    "RunResult",
    "ToolResult",
    "compile",
    "convert_command",
    "demo",
    "demo_command",
    "describe",
    "describe_text",
    "inspect_command",
    "load",
    "lower",
    "lower_command",
    "lowered",
    "passes_command",
    "quantize_command",
    "random_spikes",
    "read_inputs",
    "recurrent_snn",
    "run_command",
    "run_file",
    "save",
    "to_dot",
    "validate_command",
    "validate_file",
]
