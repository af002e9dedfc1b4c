"""What a graph uses of a target's resources, as a table: one row per (layer or core, resource).

:meth:`spyx.targets.base.Target.resources` returns a :class:`ResourceTable`; ``spyx-convert validate FILE
--target T`` prints :meth:`ResourceTable.format_table` after the rule results, and ``--format json`` puts
:meth:`ResourceTable.to_dict` in its one JSON object. The rules (:meth:`Target.check`) decide validity; the
table says how close to each limit the graph is, including the limits that are met.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["ResourceRow", "ResourceTable"]


@dataclass(frozen=True)
class ResourceRow:
    """``used`` of resource ``what`` at ``where`` (a layer, core or the whole chip) against ``limit``.

    ``limit`` is None when the sources do not give one (the row is informative; ``fits`` is None).
    ``note`` says where the limit comes from when it is not obvious (``core 5``, ``largest core``).
    """

    where: str
    what: str
    used: int
    limit: int | None
    note: str = ""

    @property
    def fits(self) -> bool | None:
        return None if self.limit is None else self.used <= self.limit

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "what": self.what,
            "used": int(self.used),
            "limit": None if self.limit is None else int(self.limit),
            "fits": self.fits,
            "note": self.note,
        }


@dataclass(frozen=True)
class ResourceTable:
    """Rows for one target and graph, plus ``notes``: sentences the rows cannot say (a placement found,
    a layer that fits nowhere and why)."""

    target: str
    rows: tuple[ResourceRow, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def fits(self) -> bool:
        """No row over its limit (rows without a limit do not count)."""
        return all(r.fits is not False for r in self.rows)

    def row(self, where: str, what: str) -> ResourceRow:
        """The row for (``where``, ``what``); KeyError naming both when there is none."""
        for r in self.rows:
            if r.where == where and r.what == what:
                return r
        raise KeyError(f"no resource row ({where!r}, {what!r}) for target {self.target}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "fits": self.fits,
            "rows": [r.to_dict() for r in self.rows],
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def format_table(self) -> str:
        """A plain-text table (columns aligned, ``-`` for an unknown limit), then the notes."""
        head = ("where", "resource", "used", "limit", "fits", "note")
        body = [
            (
                r.where,
                r.what,
                str(r.used),
                "-" if r.limit is None else str(r.limit),
                {True: "yes", False: "NO", None: "-"}[r.fits],
                r.note,
            )
            for r in self.rows
        ]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        lines = [f"resources on {self.target}:"]
        if not body:
            lines.append("  (no resource model for this target)")
        for row in [head, *body]:
            pairs = enumerate(zip(row, widths, strict=True))
            cells = [c.rjust(w) if i in (2, 3) else c.ljust(w) for i, (c, w) in pairs]
            lines.append("  " + "  ".join(cells).rstrip())
        lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines)
