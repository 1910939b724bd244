"""What replicas on one PostgreSQL database share besides the tables: a NOTIFY channel for hints
and an advisory lock that names one leader. Three dedicated connections, outside the pool:

* a listener (``LISTEN``) that hands each incoming message to a callback, and counts the other
  replicas listening on the database (nothing is sent while there are none);
* a sender that batches outgoing messages into as few ``pg_notify`` calls as possible: messages
  queue while a send is in flight and leave together in the next one;
* the leader connection (application name ``pycolonies-leader-<pid>``): a replica that takes
  ``pg_try_advisory_lock(LEADER_LOCK)`` is the leader for as long as that connection lives. When
  the leader's process dies, PostgreSQL drops its session and the lock with it, and another
  replica takes it at its next attempt (every ``interval`` seconds).

Notifications are hints. A message may be lost (a dropped connection, a full queue): when the
listener reconnects, ``on_reset`` tells the server to look at the store again. Messages are
single-line texts: the server's (``server/bridge.py``) are handed to ``on_message``; the store's
own (``!<kinds>``: records of those kinds changed, for its cache) to ``on_store_message``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections import deque
from collections.abc import Callable
from typing import Any

import asyncpg

__all__ = ["CHANNEL", "LEADER_LOCK", "MAX_MESSAGE", "ReplicaLink"]

log = logging.getLogger("pycolonies.store.replicas")

CHANNEL = "pycolonies_events"
LEADER_LOCK = 0x636F6C6F6E6C6472  # "colonldr": the advisory lock key the leader holds
LISTENER_NAME = "pycolonies-listen"
MAX_PAYLOAD = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more
MAX_MESSAGE = MAX_PAYLOAD - 64
MAX_QUEUED = 20_000  # messages kept while the database cannot be reached; older ones are dropped
_LOST = (OSError, TimeoutError, AssertionError, asyncpg.PostgresError, asyncpg.InterfaceError)


class ReplicaLink:
    """The listener, the batching sender and the leader lock of one replica."""

    def __init__(self, dsn: str, *, interval: float = 1.0) -> None:
        self.dsn = dsn
        self.interval = interval
        self.node = secrets.token_hex(6)  # tags this replica's messages so that it skips its own
        self.is_leader = False
        self.peers = 0  # other replicas listening on the database
        self._listener: asyncpg.Connection | None = None
        self._sender: asyncpg.Connection | None = None
        self._leader: asyncpg.Connection | None = None
        self._outbox: deque[str] = deque(maxlen=MAX_QUEUED)
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._on_message: Callable[[str], None] = lambda text: None
        self._on_reset: Callable[[], None] = lambda: None
        # the store's own messages and resets, for its cache
        self.on_store_message: Callable[[str], None] = lambda kinds: None
        self.on_store_reset: Callable[[], None] = lambda: None
        self._closing = False

    async def start(self, on_message: Callable[[str], None], on_reset: Callable[[], None]) -> None:
        """Listen (before returning, so that no message sent after start is missed), then keep the
        connections and the leader lock up in the background."""
        self._on_message, self._on_reset = on_message, on_reset
        await self._listen()
        await self._count_peers()
        await self._hello()
        await self._try_lead()
        self._tasks = [
            asyncio.create_task(self._send_loop(), name="replica-sender"),
            asyncio.create_task(self._watch_loop(), name="replica-watch"),
        ]

    async def stop(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._flush()
        for conn in (self._listener, self._sender, self._leader):
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 5)
        self._listener = self._sender = self._leader = None
        self.is_leader = False

    # -- sending ----------------------------------------------------------------------------

    def send(self, message: str) -> None:
        """Queue a single-line message for the other replicas (dropped while there are none)."""
        if self.peers <= 0:
            return
        if len(message) > MAX_MESSAGE:
            log.warning("replica message of %d bytes dropped (limit %d)", len(message), MAX_MESSAGE)
            return
        self._outbox.append(message)
        self._wake.set()

    def send_store_message(self, kinds: str) -> None:
        self.send("!" + kinds)

    def _payloads(self) -> list[str]:
        """The queued messages as NOTIFY payloads: ``<node>\\n<message>\\n<message>...``."""
        payloads, current, size = [], [self.node], len(self.node)
        while self._outbox:
            message = self._outbox.popleft()
            length = 1 + len(message.encode())
            if size + length > MAX_PAYLOAD and len(current) > 1:
                payloads.append("\n".join(current))
                current, size = [self.node], len(self.node)
            current.append(message)
            size += length
        if len(current) > 1:
            payloads.append("\n".join(current))
        return payloads

    async def _flush(self) -> None:
        payloads = self._payloads()
        if not payloads:
            return
        try:
            for payload in payloads:
                await self._notify(payload)
        except _LOST as exc:
            log.warning("could not notify the other replicas (%s); they will see the change when they look", exc)
            await self._drop("_sender")

    async def _hello(self) -> None:
        """Tell the replicas already listening that there is one more (a payload of the node
        alone): they count it at once instead of at their next look."""
        try:
            await self._notify(self.node)
        except _LOST as exc:
            log.warning("could not greet the other replicas (%s)", exc)
            await self._drop("_sender")

    async def _notify(self, payload: str) -> None:
        if self._sender is None or self._sender.is_closed():
            self._sender = await asyncpg.connect(self.dsn, server_settings={"application_name": "pycolonies-notify"})
        await self._sender.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)

    async def _send_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()

    # -- listening --------------------------------------------------------------------------

    async def _listen(self) -> None:
        conn = await asyncpg.connect(self.dsn, server_settings={"application_name": LISTENER_NAME})
        await conn.add_listener(CHANNEL, self._received)
        self._listener = conn

    def _received(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        node, _, body = payload.partition("\n")
        if node == self.node:
            return
        self.peers = max(self.peers, 1)  # someone else is there (a hello has no body)
        if not body:
            return
        for message in body.split("\n"):
            try:
                if message.startswith("!"):
                    self.on_store_message(message[1:])
                else:
                    self._on_message(message)
            except Exception:
                log.exception("replica message not handled: %.200s", message)

    async def _count_peers(self) -> None:
        """How many other replicas listen on the database (also the listener's liveness check)."""
        try:
            assert self._listener is not None
            listening = await self._listener.fetchval(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
                LISTENER_NAME,
                timeout=max(self.interval * 3, 3),
            )
            self.peers = int(listening) - 1
        except _LOST:
            await self._drop("_listener")

    # -- leader -----------------------------------------------------------------------------

    async def _try_lead(self) -> None:
        try:
            if self._leader is None or self._leader.is_closed():
                self._leader = await asyncpg.connect(
                    self.dsn, server_settings={"application_name": f"pycolonies-leader-{os.getpid()}"}
                )
            if await self._leader.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK, timeout=10):
                self.is_leader = True
                log.info("this replica is the leader")
        except _LOST as exc:
            log.warning("leader election: %s", exc)
            await self._drop("_leader")

    async def _still_leader(self) -> None:
        try:
            assert self._leader is not None
            await self._leader.fetchval("SELECT 1", timeout=max(self.interval * 3, 3))
        except _LOST:
            log.warning("lost the leader connection; no longer the leader")
            self.is_leader = False
            await self._drop("_leader")

    # -- keeping it up ------------------------------------------------------------------------

    async def _drop(self, attribute: str) -> None:
        conn = getattr(self, attribute)
        setattr(self, attribute, None)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.terminate()

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self._closing:
                return
            if self.is_leader:
                await self._still_leader()
            else:
                await self._try_lead()
            if self._listener is not None and not self._listener.is_closed():
                await self._count_peers()
            if self._listener is None or self._listener.is_closed():
                try:
                    await self._listen()
                except _LOST as exc:
                    log.warning("replica listener: cannot reconnect yet (%s)", exc)
                    continue
                log.info("replica listener reconnected; looking at the store again")
                await self._count_peers()
                self.on_store_reset()
                self._on_reset()
