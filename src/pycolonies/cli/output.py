"""How ``colonies`` prints: tables (rounded boxes, or ASCII with COLONIES_CLI_ASCII=true) and
JSON on stdout; messages, warnings, errors and spinners on stderr. Times are shown in local time
as ``YYYY-MM-DD HH:MM:SS``, as upstream does."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..timefmt import parse_ns

__all__ = [
    "EXECUTOR_STATES",
    "PROCESS_STATES",
    "Output",
    "ascii_mode",
    "clip",
    "human_duration",
    "human_time",
    "jsonable",
    "state_text",
    "time_ns",
]

PROCESS_STATES = {0: "waiting", 1: "running", 2: "successful", 3: "failed", 4: "cancelled"}
EXECUTOR_STATES = {0: "pending", 1: "approved", 2: "rejected", 3: "unregistered"}
_STATE_STYLES = {"running": "blue", "successful": "green", "failed": "red", "cancelled": "yellow"}
_WIDE = 100_000
"""Console width when stdout is not a terminal: never wrap or cut what goes to a pipe or file."""


def ascii_mode() -> bool:
    return os.environ.get("COLONIES_CLI_ASCII", "").strip().lower() in ("true", "1", "yes", "on")


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    tty = _isatty(stream)
    return Console(
        stderr=stderr,
        highlight=False,
        markup=False,
        emoji=False,
        width=None if tty else _WIDE,
        soft_wrap=not tty,
    )


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def jsonable(value: Any) -> Any:
    """Models as their wire dicts, recursively."""
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, mode="json")
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def time_ns(value: Any) -> int:
    """A wire time (RFC 3339 text, datetime or Unix ns) as Unix ns; 0 for never/unknown."""
    if value is None or value == "":
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        if value.year <= 1:
            return 0
        return int(value.timestamp()) * 1_000_000_000 + value.microsecond * 1000
    try:
        return parse_ns(str(value))
    except ValueError:
        return 0


def human_time(value: Any) -> str:
    """Local ``YYYY-MM-DD HH:MM:SS``; ``-`` for the zero time."""
    ns = time_ns(value)
    if ns <= 0:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ns / 1e9))


def human_duration(seconds: float) -> str:
    """``0.25 s``, ``42 s``, ``3 min 4 s``, ``2 h 5 min``."""
    if seconds < 0:
        return "-"
    if seconds < 10:
        return f"{seconds:.3f} s".replace(".000 s", " s")
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, then ``...`` (upstream cuts args and kwargs this way)."""
    return text if len(text) <= limit else text[:limit] + "..."


def _cell(value: Any) -> Text:
    if isinstance(value, Text):
        return value
    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text("True" if value else "False")
    if isinstance(value, list | dict):
        return Text(json.dumps(value, ensure_ascii=False))
    return Text(str(value))


def state_text(state: int, names: dict[int, str] = PROCESS_STATES) -> Text:
    """A state's name, coloured on terminals."""
    name = names.get(state, str(state))
    return Text(name, style=_STATE_STYLES.get(name, ""))


class Output:
    """Printing for one command run."""

    def __init__(self, json_mode: bool) -> None:
        self.json = json_mode
        self.ascii = ascii_mode()
        self.out = _console(stderr=False)
        self.err = _console(stderr=True)

    @property
    def box(self) -> box.Box:
        return box.ASCII2 if self.ascii else box.ROUNDED

    # stdout -------------------------------------------------------------------------------------

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
        """A table with upper-cased headers (as go-pretty prints upstream's)."""
        table = Table(box=self.box, header_style="bold", title=title, title_justify="left")
        for header in headers:
            table.add_column(header.upper(), overflow="fold")
        for row in rows:
            table.add_row(*(_cell(v) for v in row))
        self.out.print(table)

    def kv(self, rows: Iterable[tuple[str, Any]], title: str | None = None) -> None:
        """A two-column label/value table without a header row."""
        table = Table(box=self.box, show_header=False, title=title, title_justify="left", title_style="bold")
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for label, value in rows:
            table.add_row(label, _cell(value))
        self.out.print(table)

    def emit_json(self, data: Any) -> None:
        """Indented JSON and nothing else on stdout."""
        sys.stdout.write(json.dumps(jsonable(data), indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def emit_json_line(self, data: Any) -> None:
        sys.stdout.write(json.dumps(jsonable(data), ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def line(self, text: str = "") -> None:
        """Plain text on stdout (never interpreted as markup)."""
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    # stderr -------------------------------------------------------------------------------------

    def info(self, message: str) -> None:
        """A confirmation ("Colony added ...") on stderr, so stdout stays data only."""
        self.err.print(message, style="green")

    def warn(self, message: str) -> None:
        self.err.print(f"Warning: {message}", style="yellow")

    def error(self, message: str) -> None:
        self.err.print(Text(f"Error: {' '.join(message.split())}", style="red"), soft_wrap=True)

    def waiting(self, message: str) -> Any:
        """A spinner on stderr while the block runs, only when stdout and stderr are terminals."""
        if _isatty(sys.stdout) and _isatty(sys.stderr):
            return self.err.status(message)
        return nullcontext()
