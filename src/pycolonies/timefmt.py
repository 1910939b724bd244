"""Time on the wire: RFC 3339 in UTC with up to nanosecond precision, trailing zeros trimmed,
and Go's zero time for "never". Internally times are integers of Unix nanoseconds (0 = never)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["ZERO_TIME", "format_ns", "now_ns", "parse_ns"]

ZERO_TIME = "0001-01-01T00:00:00Z"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_ns() -> int:
    return time.time_ns()


def format_ns(ns: int) -> str:
    """Unix nanoseconds to RFC 3339 (``0`` is the zero time)."""
    if not ns:
        return ZERO_TIME
    sec, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    if frac:
        return f"{base}.{frac:09d}".rstrip("0") + "Z"
    return base + "Z"


def parse_ns(text: str) -> int:
    """RFC 3339 (any offset, up to 9 fraction digits) to Unix nanoseconds; the zero time gives 0."""
    if not text or text.startswith("0001-01-01T00:00:00"):
        return 0
    s = text.strip()
    frac_ns = 0
    if "." in s:
        head, rest = s.split(".", 1)
        digits = ""
        for i, ch in enumerate(rest):
            if not ch.isdigit():
                tz = rest[i:]
                break
            digits += ch
        else:
            tz = ""
        frac_ns = int((digits + "000000000")[:9]) if digits else 0
        s = head + tz
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    whole = int((dt - _EPOCH).total_seconds())
    return whole * 1_000_000_000 + frac_ns
