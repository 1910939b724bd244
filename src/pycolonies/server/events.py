"""In-process wake-ups and subscriptions.

Assign long-polls wait here for WAITING events of their (colony, executor type); a submit wakes
one of them. A per-key generation counter closes the window between "the claim found nothing" and
"the waiter is registered": a waiter that registers with a stale generation returns at once.
Process subscriptions (``/pubsub``) receive every state change of their process; general
subscriptions receive the state changes of their executor type.

Events are hints: the store is the source of truth, so a lost or spurious wake-up only changes
when an assigner looks again, never what it gets. A replica bridge (PostgreSQL LISTEN/NOTIFY)
feeds remote events into ``publish``/``notify_waiting`` the same way.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["DEPARTURE", "GONE", "STALE", "WOKEN_ALL", "WOKEN_ONE", "Departure", "EventHub", "ProcessEvent"]


# Why a wait ended: picked for one event, everyone woken, already stale, or the client left.
WOKEN_ONE, WOKEN_ALL, STALE, GONE = "one", "all", "stale", "gone"


class Departure(Protocol):
    """The client of a long-poll, as far as a wait needs to know: has it gone away?"""

    gone: bool

    def on_gone(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when the client goes away; returns a function that unregisters it."""
        ...


# Set by the HTTP layer for each request. A long-poll whose client left must not claim a process:
# nobody would receive it and it would stay RUNNING (upstream abandons the wait too).
DEPARTURE: ContextVar[Departure | None] = ContextVar("departure", default=None)


def _settle(future: asyncio.Future[str | None], value: str | None) -> None:
    if not future.done():
        future.set_result(value)


@dataclass(slots=True)
class _Waiter:
    location: str
    future: asyncio.Future[str | None]


@dataclass(slots=True)
class ProcessEvent:
    """Process ``processid`` is now in ``state``; ``process`` is its wire form."""

    processid: str
    colonyname: str
    executortype: str
    locationname: str
    state: int
    process: dict[str, Any] = field(repr=False)


class EventHub:
    def __init__(self) -> None:
        self._waiters: dict[tuple[str, str], deque[_Waiter]] = defaultdict(deque)
        self._generation: dict[tuple[str, str], int] = defaultdict(int)
        self._process_subs: dict[str, set[Callable[[ProcessEvent], None]]] = defaultdict(set)
        self._type_subs: dict[tuple[str, int], set[Callable[[ProcessEvent], None]]] = defaultdict(set)
        self._resume: dict[str, list[asyncio.Future[str | None]]] = defaultdict(list)
        self.closing = False

    def close(self) -> None:
        """The server is shutting down: release every long-poll now instead of at its timeout."""
        self.closing = True
        for waiters in self._waiters.values():
            for w in waiters:
                _settle(w.future, WOKEN_ALL)
        for futures in self._resume.values():
            for future in futures:
                _settle(future, WOKEN_ALL)

    async def _wait(
        self, future: asyncio.Future[str | None], timeout: float, departure: Departure | None
    ) -> str | None:
        """Await ``future`` for at most ``timeout`` seconds (None then), or until the client leaves."""
        timer = asyncio.get_running_loop().call_later(timeout, _settle, future, None)
        unhook = departure.on_gone(lambda: _settle(future, GONE)) if departure is not None else None
        try:
            return await future
        finally:
            timer.cancel()
            if unhook is not None:
                unhook()

    # -- assign long-polls ----------------------------------------------------------------

    def generation(self, colonyname: str, executortype: str) -> int:
        return self._generation[(colonyname, executortype)]

    def notify_waiting(
        self, colonyname: str, executortype: str, locationname: str = "", *, wake_all: bool = False
    ) -> None:
        """A process became assignable: wake one matching assigner (all with ``wake_all``)."""
        key = (colonyname, executortype)
        self._generation[key] += 1
        waiters = self._waiters.get(key)
        if not waiters:
            return
        location = locationname.lower()
        for w in list(waiters):
            if w.future.done():
                waiters.remove(w)
                continue
            if location and w.location and w.location != location:
                continue
            waiters.remove(w)
            w.future.set_result(WOKEN_ALL if wake_all else WOKEN_ONE)
            if not wake_all:
                return

    async def wait_for_work(
        self,
        colonyname: str,
        executortype: str,
        locationname: str,
        generation: int,
        timeout: float,
        departure: Departure | None = None,
    ) -> str | None:
        """Wait for an event newer than ``generation``; returns why it woke (None: timed out)."""
        key = (colonyname, executortype)
        if self._generation[key] != generation or self.closing:
            return STALE
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(locationname.lower(), future)
        self._waiters[key].append(waiter)
        try:
            return await self._wait(future, timeout, departure)
        finally:
            queue = self._waiters.get(key)
            if queue is not None:
                try:
                    queue.remove(waiter)
                except ValueError:
                    pass
                if not queue:
                    del self._waiters[key]

    # -- pause / resume -------------------------------------------------------------------

    async def wait_resumed(self, colonyname: str, timeout: float, departure: Departure | None = None) -> str | None:
        """Wait until the colony's assignments resume; None when ``timeout`` passes first."""
        if self.closing:
            return STALE
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._resume[colonyname].append(future)
        try:
            return await self._wait(future, timeout, departure)
        finally:
            futures = self._resume.get(colonyname)
            if futures is not None:
                if future in futures:
                    futures.remove(future)
                if not futures:
                    del self._resume[colonyname]

    def notify_resumed(self, colonyname: str) -> None:
        for future in self._resume.pop(colonyname, []):
            _settle(future, WOKEN_ALL)

    # -- subscriptions --------------------------------------------------------------------

    def publish(self, event: ProcessEvent) -> None:
        for callback in list(self._process_subs.get(event.processid, ())):
            callback(event)
        for callback in list(self._type_subs.get((event.executortype, event.state), ())):
            callback(event)

    def subscribe_process(self, processid: str, callback: Callable[[ProcessEvent], None]) -> Callable[[], None]:
        self._process_subs[processid].add(callback)

        def unsubscribe() -> None:
            subs = self._process_subs.get(processid)
            if subs is not None:
                subs.discard(callback)
                if not subs:
                    del self._process_subs[processid]

        return unsubscribe

    def subscribe_type(
        self, executortype: str, state: int, callback: Callable[[ProcessEvent], None]
    ) -> Callable[[], None]:
        key = (executortype, state)
        self._type_subs[key].add(callback)

        def unsubscribe() -> None:
            subs = self._type_subs.get(key)
            if subs is not None:
                subs.discard(callback)
                if not subs:
                    del self._type_subs[key]

        return unsubscribe

    def has_process_subscribers(self, processid: str) -> bool:
        return processid in self._process_subs or bool(self._type_subs)
