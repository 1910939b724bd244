"""WebSocket subscriptions (``GET /pubsub``): one signed envelope out, reply envelopes back.

A subscription is opened eagerly (so the server registers it before the caller goes on) and then
read as an iterator of converted pushes. It ends when the server closes the socket (its timeout),
when an end marker arrives (``[]`` for channels), or when our own deadline of the subscription's
lifetime plus a margin passes. Error frames raise the typed error.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

from websockets.asyncio.client import ClientConnection as AsyncConnection
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as sync_connect

from ..errors import TransportError
from .core import decode_frame
from .tls import certificate_hint

__all__ = ["AsyncSubscription", "Subscription", "open_async", "open_sync"]

T = TypeVar("T")

MAX_FRAME = 64 * 1024 * 1024
"""Largest accepted push (a channel catch-up frame can hold many entries)."""


def _never_ends(payload: Any) -> bool:
    return False


class _Base(Generic[T]):
    def __init__(self, parse: Callable[[Any], T], lifetime: float, is_end: Callable[[Any], bool] | None) -> None:
        self._parse = parse
        self._deadline = time.monotonic() + lifetime
        self._is_end = is_end or _never_ends
        self.closed = False

    def _remaining(self) -> float:
        return self._deadline - time.monotonic()


class Subscription(_Base[T]):
    """Pushes of one subscription; iterate it, and ``close()`` it or use it in ``with``."""

    def __init__(
        self,
        ws: ClientConnection,
        parse: Callable[[Any], T],
        lifetime: float,
        is_end: Callable[[Any], bool] | None = None,
    ) -> None:
        super().__init__(parse, lifetime, is_end)
        self._ws = ws

    def __iter__(self) -> Subscription[T]:
        return self

    def __next__(self) -> T:
        if self.closed:
            raise StopIteration
        remaining = self._remaining()
        try:
            if remaining <= 0:
                raise TimeoutError
            frame = self._ws.recv(timeout=remaining)
        except (ConnectionClosed, TimeoutError, OSError):
            self.close()
            raise StopIteration from None
        try:
            payload = decode_frame(frame)
        except BaseException:
            self.close()
            raise
        if self._is_end(payload):
            self.close()
            raise StopIteration
        return self._parse(payload)

    def close(self) -> None:
        """Close the WebSocket (idempotent)."""
        if not self.closed:
            self.closed = True
            self._ws.close()

    def __enter__(self) -> Subscription[T]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncSubscription(_Base[T]):
    """Pushes of one subscription; ``async for`` it, and ``aclose()`` it or use ``async with``."""

    def __init__(
        self,
        ws: AsyncConnection,
        parse: Callable[[Any], T],
        lifetime: float,
        is_end: Callable[[Any], bool] | None = None,
    ) -> None:
        super().__init__(parse, lifetime, is_end)
        self._ws = ws

    def __aiter__(self) -> AsyncSubscription[T]:
        return self

    async def __anext__(self) -> T:
        if self.closed:
            raise StopAsyncIteration
        remaining = self._remaining()
        try:
            if remaining <= 0:
                raise TimeoutError
            async with asyncio.timeout(remaining):
                frame = await self._ws.recv()
        except (ConnectionClosed, TimeoutError, OSError):
            await self.aclose()
            raise StopAsyncIteration from None
        try:
            payload = decode_frame(frame)
        except BaseException:
            await self.aclose()
            raise
        if self._is_end(payload):
            await self.aclose()
            raise StopAsyncIteration
        return self._parse(payload)

    async def aclose(self) -> None:
        """Close the WebSocket (idempotent)."""
        if not self.closed:
            self.closed = True
            await self._ws.close()

    async def __aenter__(self) -> AsyncSubscription[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _cannot_open(url: str, exc: BaseException) -> str:
    return f"Cannot open {url}: {exc or type(exc).__name__}{certificate_hint(exc)}"


def open_sync(
    url: str,
    envelope: bytes,
    parse: Callable[[Any], T],
    lifetime: float,
    *,
    is_end: Callable[[Any], bool] | None = None,
    open_timeout: float | None = 30.0,
    ssl_context: ssl.SSLContext | None = None,
) -> Subscription[T]:
    """Connect, send ``envelope`` as one text frame, and return the subscription. ``ssl_context``
    (for a ``wss://`` URL) verifies the server's certificate as the client's ``verify`` says."""
    try:
        # Entering the context gives the plain connection on every websockets version, without
        # 17.x's warning about direct use; the Subscription closes it.
        ws = sync_connect(url, open_timeout=open_timeout, max_size=MAX_FRAME, ssl=ssl_context).__enter__()
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise TransportError(_cannot_open(url, exc)) from exc
    try:
        ws.send(envelope.decode("utf-8"))
    except (OSError, WebSocketException) as exc:
        ws.close()
        raise TransportError(f"Cannot send the subscription to {url}: {exc}") from exc
    return Subscription(ws, parse, lifetime, is_end)


async def open_async(
    url: str,
    envelope: bytes,
    parse: Callable[[Any], T],
    lifetime: float,
    *,
    is_end: Callable[[Any], bool] | None = None,
    open_timeout: float | None = 30.0,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncSubscription[T]:
    """The asynchronous twin of :func:`open_sync`."""
    try:
        ws = await async_connect(url, open_timeout=open_timeout, max_size=MAX_FRAME, ssl=ssl_context)
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise TransportError(_cannot_open(url, exc)) from exc
    try:
        await ws.send(envelope.decode("utf-8"))
    except (OSError, WebSocketException) as exc:
        await ws.close()
        raise TransportError(f"Cannot send the subscription to {url}: {exc}") from exc
    return AsyncSubscription(ws, parse, lifetime, is_end)
