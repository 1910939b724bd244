"""The cron expression parser against protocol ext/30-crons-generators.md section 4.1: grammar,
day matching, time zones, descriptors, next-time rule and upstream's error texts."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from pycolonies.server.cronexpr import CronError, EverySchedule, parse, parse_go_duration
from pycolonies.timefmt import format_ns, parse_ns

NS = 1_000_000_000


@pytest.fixture(autouse=True)
def local_utc() -> Iterator[None]:
    """Expressions without a prefix use the server's local zone: make it UTC for these tests."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def nxt(expr: str, now: str) -> str:
    return format_ns(parse(expr).next(parse_ns(now)))


def runs(expr: str, now: str, n: int) -> list[str]:
    schedule, t, out = parse(expr), parse_ns(now), []
    for _ in range(n):
        t = schedule.next(t)
        out.append(format_ns(t))
    return out


NOW = "2026-02-10T09:15:02.5Z"  # a Tuesday


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # the spec's examples
        ("0/1 * * * * *", "2026-02-10T09:15:03Z"),
        ("0/5 * * * * *", "2026-02-10T09:15:05Z"),
        ("30 * * * * *", "2026-02-10T09:15:30Z"),
        ("59 3 15 * * MON", "2026-02-16T15:03:59Z"),
        ("0 0 15 24 12 *", "2026-12-24T15:00:00Z"),
        # ranges, steps, lists, names, ?
        ("*/1 * * * * *", "2026-02-10T09:15:03Z"),
        ("10-20/5 * * * * *", "2026-02-10T09:15:10Z"),
        ("0 16-18 * * * *", "2026-02-10T09:16:00Z"),
        ("0 0 0 1 jan,Jul *", "2026-07-01T00:00:00Z"),
        ("0 0 0 ? * sun", "2026-02-15T00:00:00Z"),
        ("0 0 12 * * mon-wed", "2026-02-10T12:00:00Z"),
        ("0 0 0 29 2 *", "2028-02-29T00:00:00Z"),
        ("1,2,3 * * * * *", "2026-02-10T09:15:03Z"),
        ("1,2 * * * * *", "2026-02-10T09:16:01Z"),
        ("0 0 10 * * *", "2026-02-10T10:00:00Z"),
        ("0 0 9 * * *", "2026-02-11T09:00:00Z"),
        ("0 0 0 1 1 *", "2027-01-01T00:00:00Z"),
        # descriptors
        ("@yearly", "2027-01-01T00:00:00Z"),
        ("@annually", "2027-01-01T00:00:00Z"),
        ("@monthly", "2026-03-01T00:00:00Z"),
        ("@weekly", "2026-02-15T00:00:00Z"),
        ("@daily", "2026-02-11T00:00:00Z"),
        ("@midnight", "2026-02-11T00:00:00Z"),
        ("@hourly", "2026-02-10T10:00:00Z"),
        # time zones
        ("TZ=Europe/Stockholm 0 0 12 * * *", "2026-02-10T11:00:00Z"),
        ("CRON_TZ=America/New_York 0 0 12 * * *", "2026-02-10T17:00:00Z"),
        ("TZ=UTC @daily", "2026-02-11T00:00:00Z"),
        # nothing within five years: the zero time
        ("0 0 0 30 2 *", "0001-01-01T00:00:00Z"),
        (", * * * * *", "0001-01-01T00:00:00Z"),
    ],
)
def test_next_run(expr: str, expected: str) -> None:
    assert nxt(expr, NOW) == expected


def test_next_is_strictly_after_now_even_on_a_whole_second() -> None:
    assert nxt("* * * * * *", "2026-02-10T09:15:02Z") == "2026-02-10T09:15:03Z"
    assert nxt("2 15 9 * * *", "2026-02-10T09:15:02Z") == "2026-02-11T09:15:02Z"
    assert nxt("2 15 9 * * *", "2026-02-10T09:15:01.999Z") == "2026-02-10T09:15:02Z"


def test_successive_runs() -> None:
    assert runs("0/20 * * * * *", NOW, 4) == [
        "2026-02-10T09:15:20Z",
        "2026-02-10T09:15:40Z",
        "2026-02-10T09:16:00Z",
        "2026-02-10T09:16:20Z",
    ]
    assert runs("0 0 0 31 * *", NOW, 3) == ["2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"]


def test_day_of_month_and_weekday() -> None:
    # Both restricted: either matches (the 13th, or any Friday).
    assert runs("0 0 0 13 * FRI", "2026-03-01T00:00:00Z", 3) == [
        "2026-03-06T00:00:00Z",
        "2026-03-13T00:00:00Z",
        "2026-03-20T00:00:00Z",
    ]
    # One field is a star: both must match (Friday the 13th).
    assert nxt("0 0 0 13 * FRI", "2026-03-01T00:00:00Z") != nxt("0 0 0 13 * 5,?", "2026-03-01T00:00:00Z")
    assert nxt("0 0 0 13 * 5,?", "2026-03-01T00:00:00Z") == "2026-03-13T00:00:00Z"
    assert nxt("0 0 0 ?,13 * FRI", "2026-03-01T00:00:00Z") == "2026-03-06T00:00:00Z"
    # A star with a step > 1 is not a star: either matches.
    assert nxt("0 0 0 */10 * SUN", "2026-02-02T00:00:00Z") == "2026-02-08T00:00:00Z"
    # A star with step 1 still is: both must match.
    assert nxt("0 0 0 */1 * SUN", "2026-02-02T00:00:00Z") == "2026-02-08T00:00:00Z"
    assert nxt("0 0 0 1/10 * SUN", "2026-02-02T00:00:00Z") == "2026-02-08T00:00:00Z"
    assert nxt("0 0 0 1/10 * *", "2026-02-02T00:00:00Z") == "2026-02-11T00:00:00Z"


def test_every() -> None:
    assert nxt("@every 1h30m", NOW) == "2026-02-10T10:45:02Z"
    assert nxt("@every 45s", NOW) == "2026-02-10T09:15:47Z"
    assert nxt("@every 500ms", NOW) == "2026-02-10T09:15:03Z"  # raised to 1 s
    assert nxt("@every 2.7s", NOW) == "2026-02-10T09:15:04Z"  # truncated to whole seconds
    assert parse("@every -5m") == EverySchedule(1)


def test_local_time_zone_is_used_without_a_prefix() -> None:
    os.environ["TZ"] = "Europe/Stockholm"
    time.tzset()
    assert nxt("0 0 12 * * *", NOW) == "2026-02-10T11:00:00Z"
    assert nxt("0 0 12 * * *", "2026-07-10T09:00:00Z") == "2026-07-10T10:00:00Z"  # summer time
    # The day clocks go forward, 02:30 does not exist; the day they go back, it exists twice.
    assert nxt("0 30 2 * * *", "2026-03-29T00:00:00Z") == "2026-03-29T01:30:00Z"
    assert nxt("0 30 2 * * *", "2026-10-25T00:00:00Z") == "2026-10-25T00:30:00Z"


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("", "empty cron expression string"),
        ("* * * * *", "expected exactly 6 fields, found 5: [* * * * *]"),
        ("* * * * * * *", "expected exactly 6 fields, found 7: [* * * * * * *]"),
        ("   ", "expected exactly 6 fields, found 0: []"),
        ("a * * * * *", 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax'),
        ("-5 * * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'),
        ("1/-5 * * * * *", "negative number (-5) not allowed: -5"),
        ("* * * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("* * * * 0 *", "beginning of range (0) below minimum (1): 0"),
        ("61 * * * * *", "end of range (61) above maximum (59): 61"),
        ("* * 24 * * *", "end of range (24) above maximum (23): 24"),
        ("* * * * * 7", "end of range (7) above maximum (6): 7"),
        ("5-3 * * * * *", "beginning of range (5) beyond end of range (3): 5-3"),
        ("*/0 * * * * *", "step of range should be a positive number: */0"),
        ("1-2-3 * * * * *", "too many hyphens: 1-2-3"),
        ("1/2/3 * * * * *", "too many slashes: 1/2/3"),
        ("* * * * foo *", 'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax'),
        ("0 0 0 L * *", 'failed to parse int from L: strconv.Atoi: parsing "L": invalid syntax'),
        ("0 0 0 ? * 5#3", 'failed to parse int from 5#3: strconv.Atoi: parsing "5#3": invalid syntax'),
        ("@foo", "unrecognized descriptor: @foo"),
        ("@every x", 'failed to parse duration @every x: time: invalid duration "x"'),
        ("@every 1", 'failed to parse duration @every 1: time: missing unit in duration "1"'),
        ("@every 1x", 'failed to parse duration @every 1x: time: unknown unit "x" in duration "1x"'),
        ("TZ=Foo/Bar * * * * * *", "provided bad location Foo/Bar: unknown time zone Foo/Bar"),
        ("TZ=../etc 0 * * * * *", "provided bad location ../etc: time: invalid location name"),
    ],
)
def test_errors(expr: str, message: str) -> None:
    with pytest.raises(CronError) as info:
        parse(expr)
    assert str(info.value) == message


def test_go_durations() -> None:
    assert parse_go_duration("1h30m") == 5400 * NS
    assert parse_go_duration("1.5h") == 5400 * NS
    assert parse_go_duration("-2m") == -120 * NS
    assert parse_go_duration("+3s") == 3 * NS
    assert parse_go_duration("0") == 0
    assert parse_go_duration("300ms") == 300_000_000
    assert parse_go_duration("2us") == parse_go_duration("2µs") == 2000
    assert parse_go_duration(".5s") == NS // 2
    for bad, message in [
        ("", 'time: invalid duration ""'),
        ("s", 'time: invalid duration "s"'),
        (".s", 'time: invalid duration ".s"'),
        ("1", 'time: missing unit in duration "1"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("9999999999999h", 'time: invalid duration "9999999999999h"'),
    ]:
        with pytest.raises(ValueError) as info:
            parse_go_duration(bad)
        assert str(info.value) == message
