"""``-`` for standard input and output.

HDF5 (a NIR file) and NumPy's ``.npz`` need a seekable file, so ``-`` is spooled: standard input is copied
to a private temporary folder first (at most :data:`spyx.limits.MAX_BYTES`), and an output named ``-`` is
written there (atomically, as every output) and then copied to standard output. Messages name ``<stdin>``
and ``<stdout>``, never the temporary file; the folder is removed when the command ends, whatever happens.

Where ``-`` works: ``inspect -``, ``validate -``, ``lower -``, ``convert - OUT``, ``convert IN -`` (NIR bytes
on stdout; the command's report goes to stderr), ``run - ...``, ``run --input -`` (a ``.npy`` or ``.npz``
on stdin) and ``run --output -`` (one output, as ``.npy``, on stdout; the summary goes to stderr).
Binary data is not written to a terminal: redirect standard output or name a file.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click

from spyx.errors import ReadError
from spyx.limits import MAX_BYTES

__all__ = ["STDIN", "STDOUT", "Streams", "is_dash"]

STDIN = "<stdin>"
STDOUT = "<stdout>"
_CHUNK = 1 << 20


def _binary(stream):
    # the byte stream under a text one (click's CliRunner replaces sys.stdin/stdout with such wrappers too)
    return getattr(stream, "buffer", stream)


def is_dash(path: Path | str | None) -> bool:
    return path is not None and str(path) == "-"


class Streams:
    """The temporary files behind ``-`` for one command, and the names to show instead of theirs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.aliases: dict[str, str] = {}
        self._outputs: list[Path] = []

    def stdin(self, suffix: str | None = None) -> Path:
        """Standard input, copied to a file; ``suffix`` None: ``.npy`` or ``.npz`` from the first bytes."""
        stream = _binary(sys.stdin)
        head = stream.read(8)
        if suffix is None:
            suffix = ".npz" if head.startswith(b"PK") else ".npy"
        path = self.folder / f"stdin{suffix}"
        size = len(head)
        with open(path, "wb") as f:
            f.write(head)
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise ReadError(f"{STDIN}: more than {MAX_BYTES} bytes; write it to a file instead")
                f.write(chunk)
        if size == 0:
            raise ReadError(f"{STDIN}: nothing on standard input (pipe a file into the command, or name it)")
        self.aliases[str(path)] = STDIN
        return path

    def stdout(self, suffix: str) -> Path:
        """A file to write instead of standard output; :meth:`flush` copies it there."""
        if _binary(sys.stdout).isatty():
            raise click.UsageError("standard output is a terminal: redirect it (> file, | program) or name a file "
                                   "instead of '-'")
        path = self.folder / f"stdout{suffix}"
        self.aliases[str(path)] = STDOUT
        self._outputs.append(path)
        return path

    def flush(self) -> None:
        """Copy what was written for standard output there (nothing, if the command wrote nothing)."""
        out = _binary(sys.stdout)
        for path in self._outputs:
            if path.exists():
                with open(path, "rb") as f:
                    shutil.copyfileobj(f, out, _CHUNK)
        out.flush()

    def show(self, text: str) -> str:
        """``text`` with the temporary files' names replaced by ``<stdin>``/``<stdout>``."""
        for tmp, name in self.aliases.items():
            text = text.replace(tmp, name)
        return text


@contextlib.contextmanager
def streams() -> Iterator[Streams]:
    """A :class:`Streams` whose temporary folder is removed at the end."""
    folder = Path(tempfile.mkdtemp(prefix="spyx-convert-"))
    try:
        yield Streams(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
