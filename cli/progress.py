"""A spinner with the elapsed time on stderr while a long command works (compiling, running).

Shown only when stderr is a terminal and ``--quiet`` was not given: a pipe, a log file or a CI job gets
nothing (no control characters in logs). It starts after :data:`DELAY` seconds, so quick commands print
nothing, redraws one line in place from a background thread, and erases it when the work ends, before the
command prints its result.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

__all__ = ["DELAY", "progress"]

DELAY = 0.5
"""Seconds of work before the spinner appears."""

_FRAMES = "|/-\\"


@contextlib.contextmanager
def progress(label: str, *, quiet: bool = False, stream: TextIO | None = None,
             interval: float = 0.1) -> Iterator[None]:
    """Show ``<frame> <label> <seconds> s`` on ``stream`` (stderr) while the block runs, if it is a TTY."""
    stream = sys.stderr if stream is None else stream
    if quiet or not _is_tty(stream):
        yield
        return
    done = threading.Event()
    start = time.monotonic()
    drawn = threading.Event()

    def spin() -> None:
        if done.wait(DELAY):
            return
        k = 0
        while not done.is_set():
            stream.write(f"\r{_FRAMES[k % len(_FRAMES)]} {label} {time.monotonic() - start:.1f} s")
            stream.flush()
            drawn.set()
            k += 1
            done.wait(interval)

    thread = threading.Thread(target=spin, name="spyx-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if drawn.is_set():
            stream.write("\r\033[K")  # erase the line: the result is printed where the spinner was
            stream.flush()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or foreign stream
        return False
