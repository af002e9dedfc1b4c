"""Where ``run_command`` (the library side of ``spyx-convert run``) used to live; it is
:func:`spyx.tools.run.run_command` now, which returns a :class:`spyx.tools.ToolResult`. This name keeps the old
import path and its old return value, the list of lines to print."""

from __future__ import annotations

from spyx.tools.run import random_spikes, read_inputs
from spyx.tools.run import run_command as _run_command

__all__ = ["run_command", "read_inputs", "random_spikes"]


def run_command(model, **options) -> list[str]:
    """:func:`spyx.tools.run.run_command`'s lines (its options, the same)."""
    return _run_command(model, **options).lines
