"""spyx.tools: the top layer of the library. The functions that compose the layers below (``compile``,
``load``, ``save``, ``run_file``) and the library side of every ``spyx-convert`` command, each returning one
:class:`ToolResult` (lines, error lines, exit code, files written); ``cli/main.py`` only parses and prints.

Layers, each importing only those before it (``tests/packaging/test_layers.py``): errors -> ir -> io, passes
-> profiles, quant, targets -> backend -> nn -> tools -> cli (``docs/architecture.md``).
"""

from spyx.tools.compile import compile, lower, lowered
from spyx.tools.convert import convert_command, lower_command, passes_command
from spyx.tools.examples import demo, demo_command, recurrent_snn
from spyx.tools.files import load, save
from spyx.tools.inspect import describe, describe_text, inspect_command, to_dot, validate_command, validate_file
from spyx.tools.quantize import quantize_command
from spyx.tools.result import ToolResult
from spyx.tools.run import RunResult, random_spikes, read_inputs, run_command, run_file

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
