"""Following a channel: its entries one at a time, as an iterator (``Colonies.follow_channel``) or
an async iterator (``AsyncColonies.follow_channel``).

A stream replays the log from ``after_index`` (a log index, as ``channel_read`` counts), then
yields entries as they are appended. It subscribes in short segments and resumes each one at the
index it reached, so it outlives any one subscription's timeout; it ends after an entry of type
``end`` (with ``until_end``), when ``timeout`` seconds passed, or when the channel is gone after
the first segment (the process closed: that is how a stream normally ends; a channel that cannot
be opened at all raises NotFoundError). An entry a server repeats (upstream's delivery is
at-least-once) is yielded once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import NotFoundError
from . import core

if TYPE_CHECKING:
    from .aio import AsyncColonies
    from .sync import Colonies

__all__ = ["DEFAULT_SEGMENT", "follow_async", "follow_sync"]

DEFAULT_SEGMENT = 10
"""Seconds one subscription of a stream lasts before the stream renews it."""
_MARGIN = 3.0
"""Extra seconds a segment's socket is read after its lifetime (a silent end: the channel closed)."""


class _Cursor:
    """Where a stream is: the next log index, the entries seen (to drop repeats) and its deadline."""

    def __init__(self, after_index: int, timeout: float | None, until_end: bool) -> None:
        self.index = max(after_index, 0)
        self.deadline = time.monotonic() + timeout if timeout is not None else float("inf")
        self.until_end = until_end
        self.seen: set[tuple[Any, ...]] = set()
        self.done = False
        self.opened = False  # a segment ran without an error

    def segment(self, length: int) -> int:
        """The next subscription's timeout (s); 0 when the stream's own timeout has passed."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return 0
        return length if remaining >= length else max(1, int(remaining + 0.999))

    def fresh(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries not seen before, advancing the index; marks the end after an ``end`` entry."""
        out = []
        for entry in entries:
            key = (entry.get("senderid"), entry.get("sequence"), entry.get("timestamp"))
            if key in self.seen:
                continue
            self.seen.add(key)
            self.index += 1
            out.append(entry)
            if self.until_end and entry.get("type") == "end":
                self.done = True
                break
        return out


def follow_sync(
    client: Colonies,
    processid: str,
    channel_name: str,
    prvkey: str | None,
    after_index: int,
    timeout: float | None,
    until_end: bool,
    segment: int,
) -> Iterator[dict[str, Any]]:
    cursor = _Cursor(after_index, timeout, until_end)
    while not cursor.done:
        seconds = cursor.segment(segment)
        if seconds == 0:
            return
        msg = core.subscribe_channel_msg(processid, channel_name, cursor.index, seconds)
        try:
            sub = client._subscribe(msg, prvkey, core.decode_entries, seconds + _MARGIN, is_end=lambda p: not p)
            with sub:
                for entries in sub:
                    yield from cursor.fresh(entries)
                    if cursor.done:
                        return
        except NotFoundError:
            if not cursor.opened:
                raise
            return  # the channel is gone: the process closed
        cursor.opened = True


async def follow_async(
    client: AsyncColonies,
    processid: str,
    channel_name: str,
    prvkey: str | None,
    after_index: int,
    timeout: float | None,
    until_end: bool,
    segment: int,
) -> AsyncIterator[dict[str, Any]]:
    cursor = _Cursor(after_index, timeout, until_end)
    while not cursor.done:
        seconds = cursor.segment(segment)
        if seconds == 0:
            return
        msg = core.subscribe_channel_msg(processid, channel_name, cursor.index, seconds)
        try:
            sub = await client._subscribe(msg, prvkey, core.decode_entries, seconds + _MARGIN, is_end=lambda p: not p)
            async with sub:
                async for entries in sub:
                    for entry in cursor.fresh(entries):
                        yield entry
                    if cursor.done:
                        return
        except NotFoundError:
            if not cursor.opened:
                raise
            return
        cursor.opened = True
