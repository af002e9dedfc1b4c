"""``ToolResult``: what every command's library side returns, the one type the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
    warnings: list[str] = field(default_factory=list)

    def emit(self, echo) -> int:
        """Print through ``echo(line, err=...)`` (``click.echo``): warnings (stderr), lines, then errors;
        return the exit code."""
        for line in self.warnings:
            echo(line, err=True)
        for line in self.lines:
            echo(line)
        for line in self.errors:
            echo(line, err=True)
        return self.exit_code

    def wrote(self, path) -> None:
        """Record a written file and say so."""
        self.files.append(Path(path))
        self.lines.append(f"wrote {path}")
