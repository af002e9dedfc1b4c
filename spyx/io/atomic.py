"""Atomic file writes: a writer never leaves a partial file behind.

Every file spyx writes (NIR graphs, ``.npy``/``.npz`` arrays, JSON reports) goes through :func:`atomic_write`:
the content is written to a temporary file in the target's folder (same file system, so the final rename is
atomic), flushed and fsynced, then moved over the target with :func:`os.replace`. If anything fails, the
temporary file is removed and an existing target is left exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

__all__ = ["atomic_path", "atomic_write"]

T = TypeVar("T")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on normal exit it replaces ``path``, on error it is removed.

    Example::

        with atomic_path("out.npy") as tmp:
            np.save(tmp, x)          # np.save keeps the name as given when it ends in .npy
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    # Keep the suffix so that libraries which append one (np.save, np.savez) keep the name we chose.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write(path: str | os.PathLike[str], writer_fn: Callable[[Path], T]) -> T:
    """Call ``writer_fn(tmp_path)`` to write the content, then move it to ``path`` atomically.

    ``writer_fn`` receives the temporary path (a file that exists and is empty) and may open it in any mode.
    Its return value is returned. On any exception the temporary file is removed and ``path`` is untouched.
    """
    with atomic_path(path) as tmp:
        return writer_fn(tmp)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    # A directory fsync makes the rename itself durable; not every platform allows opening a directory.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
