"""What every command prints: a :class:`spyx.tools.ToolResult` (result on stdout, notes summarised and
errors on stderr), honouring the global ``--quiet`` and naming ``-`` as ``<stdin>``/``<stdout>``."""

from __future__ import annotations

import sys

import click

__all__ = ["emit", "is_quiet", "show", "streams_of"]


def _root_obj() -> dict:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    return (root.obj or {}) if root is not None else {}


def is_quiet() -> bool:
    """Whether ``--quiet`` was given (no notes, no progress)."""
    return bool(_root_obj().get("quiet"))


def streams_of():
    """The command's :class:`spyx_cli.streams.Streams` (the files behind ``-``)."""
    return _root_obj()["streams"]


def show(text: str) -> str:
    """``text`` as the user should see it: temporary files behind ``-`` named ``<stdin>``/``<stdout>``."""
    s = _root_obj().get("streams")
    return s.show(text) if s is not None else text


def emit(result, *, stdout_is_data: bool = False, as_json: bool = False) -> None:
    """Print ``result`` and exit with its code when that is not 0. ``stdout_is_data``: standard output
    carries the command's file (``-``), so its report goes to standard error. ``as_json``: the report is
    the result's JSON object (``--format json``)."""

    def echo(line: str, err: bool = False) -> None:
        click.echo(show(line), err=err or stdout_is_data)

    code = result.emit(echo, quiet=is_quiet(), as_json=as_json)
    if code:
        sys.exit(code)
