"""A cheap look at an HDF5 file's bytes, in pure Python, before the HDF5 library reads it.

The HDF5 C library (1.14) can loop for ever on some damage, and nothing above it can interrupt it. Two
such structures are checked here the way the library walks them:

* **global heap collections** (``GCOL``, where variable-length strings such as ``edges`` and ``type``
  live): the library walks a collection's objects by their sizes; an object of size 0 makes that walk stand
  still, and one that claims more bytes than its collection has sends it past the end (or round). Bytes
  past the end of the file read as zeros, as the library's default driver returns them;
* **local heaps** (``HEAP``, a group's link names): their free list must not run in a circle.

Either is a :class:`~spyx.errors.ReadError` at once ("damaged"). :func:`looks_damaged` also says when a file
merely looks damaged (a damaged superblock, or more bytes than the superblock records: bytes were inserted
or appended; a shorter file the library refuses at once as truncated); such files are read in a separate
process with a time limit (:mod:`spyx.io.isolate`), so that any other loop in the library is bounded too.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

from spyx.errors import ReadError

__all__ = ["looks_damaged", "SIGNATURE"]

SIGNATURE = b"\x89HDF\r\n\x1a\n"
_GCOL_HEADER = 8  # "GCOL", version, 3 reserved bytes; then the collection size (sizeof_lengths bytes)


def _uint(buf, at: int, size: int) -> int:
    """A little-endian unsigned integer of ``size`` bytes at ``at``; bytes past the end read as zero."""
    chunk = bytes(buf[at : at + size]) if at < len(buf) else b""
    return int.from_bytes(chunk.ljust(size, b"\0"), "little")


def _superblock(buf) -> tuple[int, int, int, int] | None:
    """(offset of the superblock, sizeof_offsets, sizeof_lengths, recorded end of file) or None."""
    at = 0
    while at + 8 <= len(buf):
        if bytes(buf[at : at + 8]) == SIGNATURE:
            version = buf[at + 8]
            if version in (0, 1):
                so, sl = buf[at + 13], buf[at + 14]
                base_at = at + (24 if version == 0 else 28)
            elif version in (2, 3):
                so, sl = buf[at + 9], buf[at + 10]
                base_at = at + 12
            else:
                return at, 0, 0, -1
            if so not in (2, 4, 8, 16) or sl not in (2, 4, 8, 16):
                return at, so, sl, -1
            base = _uint(buf, base_at, so)
            eof = _uint(buf, base_at + 2 * so, so)
            return at, so, sl, base + eof
        at = 512 if at == 0 else at * 2
    return None


def _check_gcol(buf, at: int, so: int, sl: int, source: str) -> None:
    if buf[at + 4] != 1 or bytes(buf[at + 5 : at + 8]) != b"\0\0\0":
        return  # not a collection the library would accept (it checks the version): no walk
    size = _uint(buf, at + _GCOL_HEADER, sl)
    objhdr = 2 + 2 + 4 + sl
    end = at + size
    p = at + _GCOL_HEADER + sl
    steps = 0
    while p < end:
        if p + objhdr > end:
            break  # the rest is free space too small for an object header
        idx = _uint(buf, p, 2)
        length = _uint(buf, p + 8, sl)
        need = objhdr + ((length + 7) & ~7) if idx > 0 else length
        if need == 0:
            raise ReadError(
                f"{source}: damaged global heap (the strings) at byte {at}: object {idx} at byte {p} has size "
                "0; the HDF5 library would loop for ever reading it, so the file is not read"
            )
        if need > end - p:
            raise ReadError(
                f"{source}: damaged global heap (the strings) at byte {at}: object {idx} at byte {p} claims "
                f"{length} bytes, past the end of its collection; the file is not read"
            )
        p += need
        steps += 1
        if steps > 1 << 20:
            raise ReadError(f"{source}: damaged global heap at byte {at}: more than 2^20 objects; not read")


def _check_heap(buf, at: int, so: int, sl: int, source: str) -> None:
    if buf[at + 4] != 0 or bytes(buf[at + 5 : at + 8]) != b"\0\0\0":
        return
    data_size = _uint(buf, at + 8, sl)
    free = _uint(buf, at + 8 + sl, sl)
    data_at = _uint(buf, at + 8 + 2 * sl, so)
    seen: set[int] = set()
    undefined = (1 << (8 * sl)) - 1
    while free not in (1, undefined) and free < data_size:  # 1 is the library's "no free block"
        if free in seen:
            raise ReadError(
                f"{source}: damaged local heap (a group's names) at byte {at}: its free list runs in a circle "
                f"(block {free} again); the HDF5 library would loop for ever reading it, so the file is not read"
            )
        seen.add(free)
        nxt = _uint(buf, data_at + free, sl)
        if nxt == 0:
            return  # the library stops with an error here
        free = nxt


def looks_damaged(path: Path, source: str) -> str | None:
    """Raise :class:`ReadError` for damage the HDF5 library would loop on; else why the file looks damaged
    (it is then read in a separate process with a time limit), or None."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            if size == 0:
                return None  # empty: the library says "not an HDF5 file" at once
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                sb = _superblock(buf)
                if sb is None:
                    return None  # no signature anywhere: the library rejects it without reading on
                at, so, sl, eof = sb
                if eof < 0:
                    return f"its superblock at byte {at} is damaged"
                for magic, check in ((b"GCOL", _check_gcol), (b"HEAP", _check_heap)):
                    i = buf.find(magic)
                    while i >= 0:
                        check(buf, i, so, sl, source)
                        i = buf.find(magic, i + 1)
                if eof < size:  # (a shorter file is refused by the library at once: "truncated file")
                    return f"the file has {size} bytes, its superblock says {eof}: bytes were inserted or appended"
    except (OSError, ValueError, struct.error, IndexError):
        return "its bytes cannot be examined"
    return None
