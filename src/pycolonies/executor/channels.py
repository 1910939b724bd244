"""Channels from either end of a running process, over the public SDK.

Inside a function an executor runs, ``channel(ctx, "progress")`` (the executors' ``Context`` also
offers it as ``ctx.channel("progress")``) is the channel ``progress`` of the process being run,
signed by the executor (``ctx`` is the context the executors pass to functions that take one:
``{"process", "client", ...}``)::

    def train(epochs, ctx):
        progress = channel(ctx, "progress")
        for epoch in range(epochs):
            progress.send(f"epoch {epoch}")
        progress.end()

On the submitting side, ``Channel(client, processid, "progress")`` is the same channel signed by
the client's key; iterate it to follow the entries as they come (it stops after ``end``).
:class:`AsyncChannel` is the asyncio twin over ``AsyncColonies``.

Entries are the SDK's dicts, except that an empty payload is ``b""`` (the raw SDK keeps
upstream's ``""``): every payload is bytes, or None when none was sent.

``send`` numbers the entries itself: 1, 2, 3, ... per sender, continuing after the highest
sequence this sender already used in the channel (so a restarted executor keeps the order), and
returns the sequence it used, which the other side can answer with ``in_reply_to``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

from ..client import AsyncColonies, Colonies
from ..client.channels import DEFAULT_SEGMENT
from ..crypto import id_of
from ..errors import AccessDeniedError

__all__ = ["AsyncChannel", "Channel", "channel", "channels"]

Payload = bytes | str


def _encode(payload: Payload | Any) -> bytes | str:
    if isinstance(payload, bytes | str):
        return payload
    if isinstance(payload, bytearray | memoryview):
        return bytes(payload)
    return json.dumps(payload)  # anything else is sent as JSON text


def _processid(process: Any) -> str:
    if isinstance(process, str):
        return process
    if isinstance(process, Mapping):
        return str(process["processid"])
    return str(process.processid)


def _bytes_payload(entry: dict[str, Any]) -> dict[str, Any]:
    if entry.get("payload") == "":
        entry["payload"] = b""
    return entry


def _next_sequence(entries: list[dict[str, Any]], senderid: str) -> int:
    mine = [e.get("sequence", 0) for e in entries if e.get("senderid") == senderid]
    return max(mine, default=0) + 1


def _acknowledged(senderid: str, end_sequence: int, ack: bytes) -> Callable[[dict[str, Any]], bool]:
    """A predicate true for the other party's ``ack`` that follows our ``end`` entry."""
    ended = False

    def check(entry: dict[str, Any]) -> bool:
        nonlocal ended
        if entry.get("senderid") == senderid:
            ended = ended or (entry.get("type") == "end" and entry.get("sequence") == end_sequence)
            return False
        return ended and entry.get("payload") == ack

    return check


class _Base:
    def __init__(self, processid: str, name: str, prvkey: str | None, default_key: str | None) -> None:
        self.processid = processid
        self.name = name
        self.prvkey = prvkey
        key = prvkey or default_key
        self.senderid = id_of(key) if key else ""
        self._next: int | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.processid[:12]!r}, {self.name!r})"


class Channel(_Base):
    """One channel of a process, for its submitter or its assigned executor."""

    def __init__(
        self, client: Colonies, process: Any, name: str, prvkey: str | None = None, *, first_sequence: int | None = None
    ) -> None:
        super().__init__(_processid(process), name, prvkey, client.prvkey)
        self.client = client
        self._next = first_sequence

    def send(self, payload: Payload | Any = b"", *, in_reply_to: int = 0, type: str = "") -> int:
        """Append ``payload`` (bytes, text, or anything else as JSON text); returns its sequence."""
        if self._next is None:
            try:
                self._next = _next_sequence(self.read(), self.senderid)
            except AccessDeniedError:  # then the append is refused too, with its own text
                self._next = 1
        sequence = self._next
        self.client.channel_append(
            self.processid, self.name, sequence, _encode(payload), self.prvkey, in_reply_to, type
        )
        self._next = sequence + 1
        return sequence

    def end(self, payload: Payload = b"") -> int:
        """Append the end-of-stream marker (type ``end``): followers stop there."""
        return self.send(payload, type="end")

    def error(self, message: str) -> int:
        """Append an entry of type ``error``."""
        return self.send(message, type="error")

    def read(self, after_index: int = 0, limit: int = 0) -> list[dict[str, Any]]:
        """The entries from log index ``after_index`` on (``limit`` 0: all), payloads as bytes."""
        entries = self.client.channel_read(self.processid, self.name, after_index, limit, self.prvkey)
        return [_bytes_payload(e) for e in entries or ()]

    def follow(
        self,
        after_index: int = 0,
        *,
        timeout: float | None = None,
        until_end: bool = True,
        segment: int = DEFAULT_SEGMENT,
    ) -> Iterator[dict[str, Any]]:
        """The entries one at a time as they come (see ``Colonies.follow_channel``)."""
        stream = self.client.follow_channel(
            self.processid,
            self.name,
            self.prvkey,
            after_index=after_index,
            timeout=timeout,
            until_end=until_end,
            segment=segment,
        )
        return map(_bytes_payload, stream)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.follow()

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float, *, after_index: int = 0
    ) -> dict[str, Any] | None:
        """The first entry (from ``after_index``) that satisfies ``predicate``, waiting at most
        ``timeout`` seconds; None when none came."""
        for entry in self.follow(after_index, timeout=timeout, until_end=False):
            if predicate(entry):
                return entry
        return None

    def reply_to(self, sequence: int, timeout: float) -> dict[str, Any] | None:
        """The first entry of the other party answering ``sequence`` (its ``inreplyto``)."""
        return self.wait_for(lambda e: e.get("inreplyto") == sequence and e.get("senderid") != self.senderid, timeout)

    def finish(self, timeout: float = 30.0, ack: bytes = b"ack") -> bool:
        """The "sync channel" ending (protocol ext/10-channels.md section 10): append ``end``, then
        wait until the other party appends ``ack`` (at most ``timeout`` s), so that it has read
        everything before the process closes. True when acknowledged."""
        return self.wait_for(_acknowledged(self.senderid, self.end(), ack), timeout) is not None

    def acknowledge(self, ack: bytes = b"ack") -> int:
        """Answer a :meth:`finish` of the other party."""
        return self.send(ack)


class AsyncChannel(_Base):
    """The asyncio twin of :class:`Channel`, over ``AsyncColonies``."""

    def __init__(
        self,
        client: AsyncColonies,
        process: Any,
        name: str,
        prvkey: str | None = None,
        *,
        first_sequence: int | None = None,
    ) -> None:
        super().__init__(_processid(process), name, prvkey, client.prvkey)
        self.client = client
        self._next = first_sequence

    async def send(self, payload: Payload | Any = b"", *, in_reply_to: int = 0, type: str = "") -> int:
        if self._next is None:
            try:
                self._next = _next_sequence(await self.read(), self.senderid)
            except AccessDeniedError:
                self._next = 1
        sequence = self._next
        await self.client.channel_append(
            self.processid, self.name, sequence, _encode(payload), self.prvkey, in_reply_to, type
        )
        self._next = sequence + 1
        return sequence

    async def end(self, payload: Payload = b"") -> int:
        return await self.send(payload, type="end")

    async def error(self, message: str) -> int:
        return await self.send(message, type="error")

    async def read(self, after_index: int = 0, limit: int = 0) -> list[dict[str, Any]]:
        entries = await self.client.channel_read(self.processid, self.name, after_index, limit, self.prvkey)
        return [_bytes_payload(e) for e in entries or ()]

    def follow(
        self,
        after_index: int = 0,
        *,
        timeout: float | None = None,
        until_end: bool = True,
        segment: int = DEFAULT_SEGMENT,
    ) -> AsyncIterator[dict[str, Any]]:
        stream = self.client.follow_channel(
            self.processid,
            self.name,
            self.prvkey,
            after_index=after_index,
            timeout=timeout,
            until_end=until_end,
            segment=segment,
        )
        return _amap(stream)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self.follow()

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float, *, after_index: int = 0
    ) -> dict[str, Any] | None:
        async for entry in self.follow(after_index, timeout=timeout, until_end=False):
            if predicate(entry):
                return entry
        return None

    async def reply_to(self, sequence: int, timeout: float) -> dict[str, Any] | None:
        return await self.wait_for(
            lambda e: e.get("inreplyto") == sequence and e.get("senderid") != self.senderid, timeout
        )

    async def finish(self, timeout: float = 30.0, ack: bytes = b"ack") -> bool:
        return await self.wait_for(_acknowledged(self.senderid, await self.end(), ack), timeout) is not None

    async def acknowledge(self, ack: bytes = b"ack") -> int:
        return await self.send(ack)


async def _amap(stream: AsyncIterator[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    async for entry in stream:
        yield _bytes_payload(entry)


def channel(ctx: Mapping[str, Any], name: str) -> Channel:
    """The channel ``name`` of the process an executor is running, from the function's ``ctx``."""
    return Channel(ctx["client"], ctx["process"], name, ctx.get("executor_prvkey"))


def channels(ctx: Mapping[str, Any]) -> dict[str, Channel]:
    """Every channel the running process declares (``spec.channels``), by name."""
    process = ctx["process"]
    spec = process["spec"] if isinstance(process, Mapping) else process.spec
    names = (spec.get("channels") if isinstance(spec, Mapping) else spec.channels) or []
    return {n: channel(ctx, n) for n in dict.fromkeys(names)}
