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
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["atomic_path", "atomic_save_npy", "atomic_save_npz", "atomic_write", "atomic_write_json"]

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


def atomic_save_npy(path: str | os.PathLike[str], array: Any) -> None:
    """``np.save`` to ``path`` atomically (the array keeps its dtype)."""
    import numpy as np

    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, np.asarray(array), allow_pickle=False)


def atomic_save_npz(
    path: str | os.PathLike[str], arrays: Mapping[str, Any], *, compressed: bool = False
) -> None:
    """``np.savez`` (or ``savez_compressed``) of ``arrays`` to ``path`` atomically."""
    import numpy as np

    save = np.savez_compressed if compressed else np.savez
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        save(f, **{k: np.asarray(v) for k, v in arrays.items()})


def atomic_write_json(path: str | os.PathLike[str], data: Any, *, indent: int | None = 2) -> None:
    """``json.dump`` of ``data`` to ``path`` atomically (UTF-8, trailing newline)."""
    import json

    text = json.dumps(data, indent=indent, sort_keys=False) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf8"))


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
