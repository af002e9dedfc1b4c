"""``ToolResult``: what every command's library side returns, the one type the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from pathlib import Path
from typing import Any

from spyx.tools.notes import NOTE, summarise

__all__ = ["ToolResult", "text_lines"]


def text_lines(text: str) -> list[str]:
    """``text`` as lines, split at ``\n`` only (a node name may hold any other control character)."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


@dataclass
class ToolResult:
    """The outcome of one command: ``lines`` for standard output, ``errors`` for standard error (one
    diagnostic each), the ``exit_code`` (0: done; 1: invalid input, e.g. a file that does not validate or a
    target rule still violated), and the ``files`` written (nothing is written when the command fails).
    ``warnings``: ``note:``/``warning:`` lines about what the result rests on (an option ``--profile auto``
    assumed, a guessed dt, a silent output), printed on standard error before everything else."""

    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    exit_code: int = 0
    files: list[Path] = field(default_factory=list)
    data: dict[str, Any] | None = None  # the outcome as one JSON object (``--format json``), where a command has one
    warnings: list[str] = field(default_factory=list)  # printed first, on standard error, even with --quiet

    def emit(self, echo, *, quiet: bool = False, as_json: bool = False) -> int:
        """Print through ``echo(line, err=...)`` (``click.echo``): warnings, lines, then errors; return the exit
        code. Warnings go to standard error first, whatever ``quiet`` says.

        Lines that are notes (``note: ...``) go to standard error, before the errors, summarised (one line per
        distinct message, :func:`spyx.tools.notes.summarise`), so that standard output holds only the result;
        ``quiet`` leaves them out. ``as_json``: standard output is :attr:`data` as one JSON object instead of
        the lines (notes and errors are printed as before)."""
        for line in self.warnings:
            echo(line, err=True)
        notes = [line.removeprefix(NOTE) for line in self.lines if line.startswith(NOTE)]
        if as_json:
            echo(json.dumps(self.data, indent=2, default=_plain))
        for line in ([] if as_json else self.lines):
            if not line.startswith(NOTE):
                echo(line)
        if not quiet:
            for line in summarise(notes):
                echo(NOTE + line, err=True)
        for line in self.errors:
            echo(line, err=True)
        return self.exit_code

    def wrote(self, path) -> None:
        """Record a written file and say so."""
        self.files.append(Path(path))
        self.lines.append(f"wrote {path}")


def _plain(value: Any) -> Any:
    """What ``json`` cannot write itself: NumPy scalars and arrays (as numbers and lists), paths (as text)."""
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
