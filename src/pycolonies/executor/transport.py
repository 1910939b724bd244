"""A lean asyncio transport for the executor's own requests (assign, close, fail, add_log).

``AsyncColonies`` sends through httpx, whose asyncio stack (httpcore over anyio) costs about
3-4 ms of CPU per process on the executor's side (assign + close); a request written straight
to a kept-alive asyncio stream costs a fifth of that, which is most of what separates a Python
executor from the raw protocol in throughput (docs/benchmarks.md). :class:`LeanAsyncColonies` is
``AsyncColonies`` with only ``_send`` replaced: the same methods, messages, signatures and
typed errors; WebSocket subscriptions are unchanged.

It speaks the one exchange the API needs: ``POST /api`` with a JSON body over HTTP/1.1 (TLS
when the client has ``tls``, verified as its ``verify`` says), keep-alive connections, replies
with ``Content-Length`` or chunked. It does not use proxies: :func:`lean_client` falls back to
``AsyncColonies`` when a proxy variable is set.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from ..client import AsyncColonies
from ..client.core import Call, parse_http_reply
from ..client.tls import Verify, certificate_hint
from ..errors import TransportError

__all__ = ["LeanAsyncColonies", "lean_client"]

MAX_IDLE = 32
"""Idle connections kept per client."""
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


class _Reset(Exception):
    """A kept-alive connection was closed by the server before it answered (safe to retry)."""


class LeanAsyncColonies(AsyncColonies):
    """``AsyncColonies`` over plain asyncio streams (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._head = b"POST /api HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n" % (
            self.host.encode("idna"),
            self.port,
        )

    async def _send(self, call: Call[Any]) -> Any:
        body = self._encode(call)
        timeout = self._read_timeout(call)
        for attempt in (1, 2):
            reused = bool(self._idle)
            try:
                async with asyncio.timeout(timeout):
                    status, data = await self._exchange(body)
            except _Reset as exc:
                if reused and attempt == 1:
                    continue
                raise TransportError(f"Cannot reach {self.url}: the connection was closed") from exc
            except TimeoutError:
                raise TransportError(f"Cannot reach {self.url}: no reply within {timeout:g} s") from None
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                reason = f"{exc or type(exc).__name__}{certificate_hint(exc)}"
                raise TransportError(f"Cannot reach {self.url}: {reason}") from exc
            return parse_http_reply(status, data)
        raise AssertionError("unreachable")

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self._idle:
            reader, writer = self._idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        context = self.ssl_context if self.tls else None
        return await asyncio.open_connection(self.host, self.port, ssl=context, limit=1 << 20)

    async def _exchange(self, body: bytes) -> tuple[int, bytes]:
        reader, writer = await self._connect()
        keep = False
        try:
            writer.write(self._head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                if not exc.partial:
                    raise _Reset() from exc
                raise
            lines = head[:-4].split(b"\r\n")
            parts = lines[0].split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
                raise ValueError(f"not an HTTP reply: {lines[0][:80]!r}")
            status = int(parts[1])
            length, chunked, close = -1, False, parts[0] == b"HTTP/1.0"
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value.lower()
                elif name == b"connection":
                    close = b"close" in value.lower()
            if chunked:
                data = await _read_chunked(reader)
            elif length >= 0:
                data = await reader.readexactly(length)
            else:
                data, close = await reader.read(), True
            keep = not close
            return status, data
        finally:
            if keep and len(self._idle) < MAX_IDLE:
                self._idle.append((reader, writer))
            else:
                writer.close()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()
        await super().aclose()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    data = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers are sent
            return bytes(data)
        data += await reader.readexactly(size)
        await reader.readexactly(2)


def lean_client(
    host: str, port: int, tls: bool, *, prvkey: str, timeout: float | None, verify: Verify = True
) -> AsyncColonies:
    """A :class:`LeanAsyncColonies`, or a plain ``AsyncColonies`` when a proxy is configured."""
    cls = AsyncColonies if any(os.environ.get(name) for name in _PROXY_VARIABLES) else LeanAsyncColonies
    return cls(host, port, tls, prvkey=prvkey, timeout=timeout, verify=verify)
