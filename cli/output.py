"""What every command prints: a :class:`spyx.tools.ToolResult` (result on stdout, notes summarised and
errors on stderr), honouring the global ``--quiet``."""

from __future__ import annotations

import sys

import click

__all__ = ["emit", "is_quiet"]


def is_quiet() -> bool:
    """Whether ``--quiet`` was given (no notes, no progress)."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    return bool(root is not None and root.obj and root.obj.get("quiet"))


def emit(result) -> None:
    """Print ``result`` and exit with its code when that is not 0."""
    code = result.emit(click.echo, quiet=is_quiet())
    if code:
        sys.exit(code)
