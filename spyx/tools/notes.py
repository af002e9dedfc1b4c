"""Notes, summarised: one line per distinct message instead of one per node.

A file written before nir 1.0.6 lacks ``v_reset`` on every LIF, and the reader fills it in and says so for
each one (``lif3: v_reset missing (...), filled with zeros like v_threshold``). A graph of 40 neurons would
print 40 such lines; :func:`summarise` groups the notes whose message (after ``"<node>: "``) is the same:
``note: 40 nodes (lif0, lif1, lif2, ...): v_reset missing (...), filled with zeros like v_threshold``.
Notes keep their first-seen order; a note with no ``"<node>: "`` prefix, or one that no other note shares,
is printed as it was.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["NOTE", "summarise"]

NOTE = "note: "
"""The prefix of a note in a :class:`~spyx.tools.ToolResult`'s lines (``spyx-convert`` prints notes on stderr)."""

_SHOWN = 3  # node names listed before "..."


def summarise(notes: Iterable[str]) -> list[str]:
    """``notes`` (each ``"<where>: <message>"``, without the ``note:`` prefix) grouped by message; a note
    repeated word for word is printed once."""
    groups: dict[str, list[str]] = {}  # message (or the whole note) -> the nodes it was said of
    for note in notes:
        where, sep, message = note.partition(": ")
        if not (sep and where) or " " in where:  # not "<node>: ...": a node path has no spaces
            groups.setdefault(note, [])
            continue
        names = groups.setdefault(message, [])
        if where not in names:
            names.append(where)
    out = []
    for message, names in groups.items():
        if len(names) <= 1:
            out.append(f"{names[0]}: {message}" if names else message)
            continue
        shown = ", ".join(names[:_SHOWN]) + (", ..." if len(names) > _SHOWN else "")
        out.append(f"{len(names)} nodes ({shown}): {message}")
    return out
