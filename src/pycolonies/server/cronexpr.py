"""Cron expressions exactly as upstream parses them (protocol ext/30-crons-generators.md 4.1).

Six fields, seconds first: ``<second> <minute> <hour> <day-of-month> <month> <day-of-week>``.
Each field is a comma-separated list of ``*``, ``?``, ``N``, ``N-M`` (month and weekday names
allowed), each optionally followed by ``/S``; ``N/S`` means "from N to the field's maximum". An
optional ``TZ=<zone> `` or ``CRON_TZ=<zone> `` prefix picks the time zone (default: the server's
local one), and ``@yearly``, ``@annually``, ``@monthly``, ``@weekly``, ``@daily``, ``@midnight``,
``@hourly`` and ``@every <Go duration>`` replace the whole expression. There is no ``L``, ``W`` or
``#``. ``parse`` raises :class:`CronError` with upstream's texts; ``Schedule.next`` gives the next
run, as upstream computes it, after a time in Unix nanoseconds (0 when none within five years).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["CronError", "EverySchedule", "Schedule", "SpecSchedule", "parse", "parse_go_duration"]

NS = 1_000_000_000
STAR = 1 << 63  # set in a field's bits when it contains a star item without a step > 1
_INT = re.compile(r"[+-]?[0-9]+")
_DIGITS = re.compile(r"[0-9]*")


class CronError(ValueError):
    """An expression upstream would reject; the message is upstream's."""


@dataclass(frozen=True, slots=True)
class _Bounds:
    min: int
    max: int
    names: dict[str, int] | None = None


_SECONDS = _Bounds(0, 59)
_MINUTES = _Bounds(0, 59)
_HOURS = _Bounds(0, 23)
_DOM = _Bounds(1, 31)
_MONTHS = _Bounds(
    1,
    12,
    {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
)
_DOW = _Bounds(0, 6, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())})


def _bits(start: int, end: int, step: int) -> int:
    bits = 0
    for i in range(start, end + 1, step):
        bits |= 1 << i
    return bits


def _all(b: _Bounds) -> int:
    return _bits(b.min, b.max, 1) | STAR


def _quote(text: str) -> str:
    """Go's ``strconv.Quote`` closely enough for error texts."""
    return json.dumps(text, ensure_ascii=False)


# -- schedules ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpecSchedule:
    """Bit sets per field; ``tz`` None means the server's local time zone."""

    second: int
    minute: int
    hour: int
    dom: int
    month: int
    dow: int
    tz: ZoneInfo | None = None

    def next(self, now_ns: int) -> int:
        """The earliest matching whole second from the upcoming second on, in Unix ns; 0 if none
        within five years."""
        if not self._can_match():
            return 0
        after = now_ns // NS  # the result must be a later second than this one
        start = self._wall(after + 1)
        for _ in range(4):  # a wall time repeated by a DST fall-back may map before ``after``
            found = self._search(start)
            if found is None:
                return 0
            instant = self._instant(found)
            if instant > after:
                return instant * NS
            start = found + timedelta(seconds=1)
        return 0

    def _can_match(self) -> bool:
        """False when a field (from a list like ``,``) matches nothing: the search would only spin."""
        for bits in (self.second, self.minute, self.hour, self.month):
            if not bits & ~STAR:
                return False
        dom, dow = self.dom & ~STAR, self.dow & ~STAR
        if (self.dom | self.dow) & STAR:
            return bool(dom and dow)
        return bool(dom or dow)

    def _wall(self, sec: int) -> datetime:
        if self.tz is None:
            return datetime.fromtimestamp(sec)
        return datetime.fromtimestamp(sec, self.tz).replace(tzinfo=None)

    def _instant(self, wall: datetime) -> int:
        if self.tz is None:
            return int(wall.timestamp())
        return int(wall.replace(tzinfo=self.tz).timestamp())

    def _day_matches(self, t: datetime) -> bool:
        dom_match = bool((1 << t.day) & self.dom)
        dow_match = bool((1 << ((t.weekday() + 1) % 7)) & self.dow)  # Sunday is 0
        if (self.dom | self.dow) & STAR:
            return dom_match and dow_match
        return dom_match or dow_match

    def _search(self, t: datetime) -> datetime | None:
        """Upstream's field-by-field search (robfig/cron's ``SpecSchedule.Next``) on wall-clock
        time: bump the first field that does not match, zero the ones below it, and start over
        from the month whenever a field wraps."""
        added = False
        year_limit = t.year + 5
        while True:
            if t.year > year_limit:
                return None
            wrapped = False
            while not (1 << t.month) & self.month:
                if not added:
                    added = True
                    t = t.replace(day=1, hour=0, minute=0, second=0)
                t = t.replace(year=t.year + 1, month=1) if t.month == 12 else t.replace(month=t.month + 1)
                if t.month == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not self._day_matches(t):
                if not added:
                    added = True
                    t = t.replace(hour=0, minute=0, second=0)
                t += timedelta(days=1)
                if t.day == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << t.hour) & self.hour:
                if not added:
                    added = True
                    t = t.replace(minute=0, second=0)
                t += timedelta(hours=1)
                if t.hour == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << t.minute) & self.minute:
                if not added:
                    added = True
                    t = t.replace(second=0)
                t += timedelta(minutes=1)
                if t.minute == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << t.second) & self.second:
                added = True
                t += timedelta(seconds=1)
                if t.second == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            return t


@dataclass(frozen=True, slots=True)
class EverySchedule:
    """``@every <duration>``: a fixed delay in whole seconds (at least one)."""

    seconds: int

    def next(self, now_ns: int) -> int:
        return now_ns - now_ns % NS + self.seconds * NS


Schedule = SpecSchedule | EverySchedule


# -- parsing --------------------------------------------------------------------------------


def parse(expr: str) -> Schedule:
    """Parse a cron expression; raises CronError with upstream's message."""
    if not expr:
        raise CronError("empty cron expression string")
    tz: ZoneInfo | None = None
    if expr.startswith(("TZ=", "CRON_TZ=")):
        space = expr.find(" ")
        name = expr[expr.index("=") + 1 : space if space >= 0 else len(expr)]
        tz = _location(name)
        expr = expr[space:].strip() if space >= 0 else ""
    if expr.startswith("@"):
        return _descriptor(expr, tz)
    fields = expr.split()
    if len(fields) != 6:
        raise CronError(f"expected exactly 6 fields, found {len(fields)}: [{' '.join(fields)}]")
    return SpecSchedule(
        second=_field(fields[0], _SECONDS),
        minute=_field(fields[1], _MINUTES),
        hour=_field(fields[2], _HOURS),
        dom=_field(fields[3], _DOM),
        month=_field(fields[4], _MONTHS),
        dow=_field(fields[5], _DOW),
        tz=tz,
    )


def _location(name: str) -> ZoneInfo | None:
    """Go's ``time.LoadLocation``: "" and "UTC" are UTC, "Local" the server's zone."""
    if name in ("", "UTC"):
        return ZoneInfo("UTC")
    if name == "Local":
        return None
    if ".." in name or name.startswith(("/", "\\")):
        raise CronError(f"provided bad location {name}: time: invalid location name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CronError(f"provided bad location {name}: unknown time zone {name}") from None


def _descriptor(expr: str, tz: ZoneInfo | None) -> Schedule:
    first = 1  # bit of each field's minimum: second 0, minute 0, hour 0
    day1, jan, sunday = 1 << _DOM.min, 1 << _MONTHS.min, 1 << _DOW.min
    fixed = {
        "@yearly": (day1, jan, _all(_DOW)),
        "@annually": (day1, jan, _all(_DOW)),
        "@monthly": (day1, _all(_MONTHS), _all(_DOW)),
        "@weekly": (_all(_DOM), _all(_MONTHS), sunday),
        "@daily": (_all(_DOM), _all(_MONTHS), _all(_DOW)),
        "@midnight": (_all(_DOM), _all(_MONTHS), _all(_DOW)),
    }
    if expr in fixed:
        dom, month, dow = fixed[expr]
        return SpecSchedule(first, first, first, dom, month, dow, tz)
    if expr == "@hourly":
        return SpecSchedule(first, first, _all(_HOURS), _all(_DOM), _all(_MONTHS), _all(_DOW), tz)
    if expr.startswith("@every "):
        try:
            delay = parse_go_duration(expr[len("@every ") :])
        except ValueError as exc:
            raise CronError(f"failed to parse duration {expr}: {exc}") from None
        return EverySchedule(max(delay, NS) // NS)
    raise CronError(f"unrecognized descriptor: {expr}")


def _field(field: str, b: _Bounds) -> int:
    bits = 0
    for item in field.split(","):
        if item:  # Go's FieldsFunc drops empty items
            bits |= _range(item, b)
    return bits


def _range(expr: str, b: _Bounds) -> int:
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    extra = 0
    if low_high[0] in ("*", "?"):
        start, end, extra = b.min, b.max, STAR
    else:
        start = _int_or_name(low_high[0], b)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _int_or_name(low_high[1], b)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _must_int(range_and_step[1])
        if len(low_high) == 1:  # "N/S" means "N-max/S"
            end = b.max
        if step > 1:
            extra = 0
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < b.min:
        raise CronError(f"beginning of range ({start}) below minimum ({b.min}): {expr}")
    if end > b.max:
        raise CronError(f"end of range ({end}) above maximum ({b.max}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    return _bits(start, end, step) | extra


def _int_or_name(expr: str, b: _Bounds) -> int:
    if b.names is not None and expr.lower() in b.names:
        return b.names[expr.lower()]
    return _must_int(expr)


def _must_int(expr: str) -> int:
    """Go's ``strconv.Atoi`` (an optional sign, decimal digits, 64 bits), then non-negative."""
    if not _INT.fullmatch(expr):
        raise CronError(f"failed to parse int from {expr}: strconv.Atoi: parsing {_quote(expr)}: invalid syntax")
    num = int(expr)
    if not -(1 << 63) <= num < 1 << 63:
        raise CronError(f"failed to parse int from {expr}: strconv.Atoi: parsing {_quote(expr)}: value out of range")
    if num < 0:
        raise CronError(f"negative number ({num}) not allowed: {expr}")
    return num


_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu
    "ms": 1_000_000,
    "s": NS,
    "m": 60 * NS,
    "h": 3600 * NS,
}


def parse_go_duration(text: str) -> int:
    """Go's ``time.ParseDuration`` in nanoseconds (``1h30m``, ``45s``, ``1.5h``, ``-2m``), with its
    error texts; raises ValueError."""
    invalid = ValueError(f"time: invalid duration {_quote(text)}")
    s = text
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise invalid
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise invalid
        whole = _DIGITS.match(s).group()  # type: ignore[union-attr]
        s = s[len(whole) :]
        frac = ""
        if s.startswith("."):
            s = s[1:]
            frac = _DIGITS.match(s).group()  # type: ignore[union-attr]
            s = s[len(frac) :]
        if not whole and not frac:
            raise invalid
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            raise ValueError(f"time: missing unit in duration {_quote(text)}")
        unit, s = s[:i], s[i:]
        if unit not in _UNITS:
            raise ValueError(f"time: unknown unit {_quote(unit)} in duration {_quote(text)}")
        scale = _UNITS[unit]
        value = int(whole or "0")
        if value > (1 << 63) // scale:
            raise invalid
        value *= scale
        if frac:
            value += int(Fraction(int(frac), 10 ** len(frac)) * scale)
        total += value
        if total > 1 << 63:
            raise invalid
    if neg:
        return -total
    if total > (1 << 63) - 1:
        raise invalid
    return total
