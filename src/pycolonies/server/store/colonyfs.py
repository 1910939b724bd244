"""ColonyFS helpers shared by the store backends (tables of migration 0007): the row mapping of
files and snapshots, and label matching as literal prefixes turned into index ranges.

Labels compare in code point order on both backends (SQLite's BINARY collation on UTF-8 text,
PostgreSQL's ``COLLATE "C"`` columns), so "every label starting with P" is exactly the range
``P <= label < successor(P)``: an index seek, with no LIKE and hence no wildcards."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["FILE_COLUMNS", "SNAPSHOT_COLUMNS", "LabelMatch", "file_from_row", "snapshot_from_row"]

FILE_COLUMNS = "fileid, colonyname, label, name, size, sequencenr, checksum, checksumalg, ref, added"
SNAPSHOT_COLUMNS = "snapshotid, colonyname, label, name, fileids, added"

_MAX_CHAR = 0x10FFFF


def file_from_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "fileid": row[0],
        "colonyname": row[1],
        "label": row[2],
        "name": row[3],
        "size": row[4],
        "sequencenr": row[5],
        "checksum": row[6],
        "checksumalg": row[7],
        "ref": orjson.loads(row[8]),
        "added": row[9],
    }


def snapshot_from_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "snapshotid": row[0],
        "colonyname": row[1],
        "label": row[2],
        "name": row[3],
        "fileids": orjson.loads(row[4]),
        "added": row[5],
    }


def _successor(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (None: there is none)."""
    chars = prefix
    while chars:
        last = ord(chars[-1])
        chars = chars[:-1]
        if last < _MAX_CHAR:
            last += 1
            if 0xD800 <= last <= 0xDFFF:  # no text holds a lone surrogate
                last = 0xE000
            return chars + chr(last)
    return None


@dataclass(frozen=True, slots=True)
class LabelMatch:
    """The labels ``equal`` (when not None) and every label in ``[lo, hi)`` (``hi`` None: no upper
    bound)."""

    equal: str | None
    lo: str
    hi: str | None

    @classmethod
    def prefix(cls, prefix: str) -> LabelMatch:
        """Every label that starts with ``prefix``, as a plain string prefix (``/a`` matches ``/ab``)."""
        return cls(None, prefix, _successor(prefix))

    @classmethod
    def tree(cls, label: str) -> LabelMatch:
        """``label`` itself and every label below it (starting with ``label + "/"``)."""
        below = cls.prefix(label + "/")
        return cls(label, below.lo, below.hi)

    def sql(self, placeholder: Callable[[int], str]) -> tuple[str, list[str]]:
        """The condition on column ``label`` and its arguments, in the order their markers appear;
        ``placeholder(i)`` renders the marker of the i-th one (0-based)."""
        args: list[str] = []

        def arg(value: str) -> str:
            args.append(value)
            return placeholder(len(args) - 1)

        equal = f"label = {arg(self.equal)} OR " if self.equal is not None else ""
        lower = f"label >= {arg(self.lo)}"
        upper = f" AND label < {arg(self.hi)}" if self.hi is not None else ""
        return f"({equal}({lower}{upper}))", args
