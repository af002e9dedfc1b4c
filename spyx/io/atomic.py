"""Atomic file writes: a writer never leaves a partial file behind.

Every file spyx writes (NIR graphs, ``.npy``/``.npz`` arrays, JSON reports) goes through :func:`atomic_write`:
the content is written to a temporary file in the target's folder (same file system, so the final rename is
atomic), flushed and fsynced, then moved over the target with :func:`os.replace`. If anything fails, the
temporary file is removed and an existing target is left exactly as it was.

Temporary files are named ``.<target>.spyx-<host>-<pid>-<random>.tmp<suffix>`` (``<host>``: 8 hex digits of
the host name's hash). A process killed mid-write (``kill -9``, power loss) leaves its temporary file; the
next write into that folder removes such leftovers of ours: those of a process on this host that no longer
runs, and any older than :data:`STALE_SECONDS` (also the older spelling ``.<target>.<random>.tmp<suffix>``).
Only regular files owned by the current user whose names match exactly are touched.

The file gets the permissions any other program's new file would: ``0o666`` less the process's umask (a
temporary file is created ``0o600``; it is widened before the rename), or, when it replaces an existing
file, that file's permissions. A missing output folder is a :class:`~spyx.errors.WriteError` naming the
folder, raised before anything is created.

Ctrl-C (SIGINT) during a write aborts it: the temporary file is removed, the target is left as it was, and
:class:`KeyboardInterrupt` propagates (``spyx-convert`` exits with 130), even when the HDF5 library swallowed
the interrupt inside its own code.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from spyx.errors import WriteError

__all__ = [
    "atomic_path",
    "atomic_save_npy",
    "atomic_save_npz",
    "atomic_write",
    "atomic_write_json",
    "remove_stale_temporaries",
    "STALE_SECONDS",
]

T = TypeVar("T")

STALE_SECONDS = 3600.0
"""A temporary file of ours older than this (by modification time) is a leftover, whoever wrote it."""

_TEMP = re.compile(
    r"^\.(?P<target>.+)\.spyx-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[A-Za-z0-9_]{8}\.tmp(?P<suffix>\.[^./]*)?$"
)
_OLD_TEMP = re.compile(r"^\.(?P<target>.+)\.[A-Za-z0-9_]{8}\.tmp(?P<suffix>\.[^./]*)?$")


def _host() -> str:
    return hashlib.sha1(socket.gethostname().encode("utf8", "replace")).hexdigest()[:8]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or cannot tell: keep its file
    return True


def remove_stale_temporaries(folder: str | os.PathLike[str], *, now: float | None = None) -> list[Path]:
    """Remove leftover temporary files of ours in ``folder`` (see the module docstring); the ones removed."""
    folder = Path(folder)
    now = time.time() if now is None else now
    host, uid = _host(), os.getuid() if hasattr(os, "getuid") else None
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and ".tmp" in name):
            continue
        m = _TEMP.match(name)
        old = None if m else _OLD_TEMP.match(name)
        if m is None and old is None:
            continue
        suffix = (m or old).group("suffix") or ""
        if suffix != Path((m or old).group("target")).suffix:
            continue  # not a name we make: ours keep the target's suffix
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not entry.is_file(follow_symlinks=False) or (uid is not None and st.st_uid != uid):
            continue
        dead = m is not None and m.group("host") == host and not _running(int(m.group("pid")))
        if dead or now - st.st_mtime > STALE_SECONDS:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


class _Interrupts:
    """Records SIGINT during a write (main thread only), so that an interrupt the HDF5 library swallowed
    still aborts the write. The handler raises :class:`KeyboardInterrupt`, as Python's default does, except
    while ``defer`` is set (creating the temporary file and renaming it: those finish first)."""

    def __init__(self) -> None:
        self.seen = False
        self.defer = False
        self.previous: Any = None

    def __enter__(self):
        # only where Python's own Ctrl-C handling is in place (an application's handler is left alone)
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    self.previous = signal.signal(signal.SIGINT, self._handle)
            except (ValueError, OSError):
                self.previous = None
        return self

    def _handle(self, signum, frame):
        self.seen = True
        if not self.defer:
            raise KeyboardInterrupt

    def check(self) -> None:
        if self.seen:
            raise KeyboardInterrupt

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on normal exit it replaces ``path``, on error it is removed.

    Leftover temporary files of ours in that folder are removed first (:func:`remove_stale_temporaries`).
    Ctrl-C at any point before the rename removes the temporary file and raises :class:`KeyboardInterrupt`.

    Example::

        with atomic_path("out.npy") as tmp:
            np.save(tmp, x)          # np.save keeps the name as given when it ends in .npy
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    _check_folder(folder, target)
    remove_stale_temporaries(folder)
    tmp: Path | None = None
    with _Interrupts() as interrupts:
        try:
            interrupts.defer = True  # the temporary file exists only once we hold its name
            # Keep the suffix so that libraries which append one (np.save, np.savez) keep the name we chose.
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{target.name}.spyx-{_host()}-{os.getpid()}-", suffix=f".tmp{target.suffix}", dir=folder
            )
            os.close(fd)
            tmp = Path(tmp_name)
            interrupts.defer = False
            interrupts.check()
            yield tmp
            interrupts.check()  # the writer's library may have swallowed it: still abort
            os.chmod(tmp, _mode_for(target))
            _fsync(tmp)
            interrupts.check()
            interrupts.defer = True  # a rename is atomic: once begun, it completes
            os.replace(tmp, target)
            tmp = None
        except BaseException as e:
            if tmp is not None:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            if interrupts.seen and not isinstance(e, KeyboardInterrupt):
                # h5py turns an interrupt inside its C callbacks into another error ("Operation not defined
                # for data type class"): it was Ctrl-C all the same
                raise KeyboardInterrupt from e
            raise
        finally:
            interrupts.defer = False
    _fsync_dir(folder)
    if interrupts.seen:
        raise KeyboardInterrupt  # Ctrl-C during the rename: the file is complete, the program still stops


def _check_folder(folder: Path, target: Path) -> None:
    # said before a temporary file is made, so that the message names the user's folder, not our temp name
    if not folder.exists():
        raise WriteError(f"cannot write {target}: folder {folder} does not exist (create it first)")
    if not folder.is_dir():
        raise WriteError(f"cannot write {target}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WriteError(f"cannot write {target}: folder {folder} is not writable")


def _umask() -> int:
    """The process's umask. Linux shows it in /proc (reading it leaves it alone); elsewhere it is set and
    restored at once (``os.umask`` is the only portable way to read it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(target: Path) -> int:
    """Permissions for the new file: those of the file it replaces, else ``0o666`` less the umask (what
    ``open(path, "w")`` would give; ``mkstemp`` makes ``0o600`` to keep the half-written file private)."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


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
