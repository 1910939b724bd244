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
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STALE", "WOKEN_ALL", "WOKEN_ONE", "EventHub", "ProcessEvent"]


# Why a waiter woke: it was picked for one event, or everyone was woken, or it was already stale.
WOKEN_ONE, WOKEN_ALL, STALE = "one", "all", "stale"


@dataclass(slots=True)
class _Waiter:
    location: str
    future: asyncio.Future[str]


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
        self._resume: dict[str, asyncio.Event] = {}
        self.closing = False

    def close(self) -> None:
        """The server is shutting down: release every long-poll now instead of at its timeout."""
        self.closing = True
        for waiters in self._waiters.values():
            for w in waiters:
                if not w.future.done():
                    w.future.set_result(WOKEN_ALL)
        for event in self._resume.values():
            event.set()

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
        self, colonyname: str, executortype: str, locationname: str, generation: int, timeout: float
    ) -> str | None:
        """Wait for an event newer than ``generation``; returns why it woke (None: timed out)."""
        key = (colonyname, executortype)
        if self._generation[key] != generation or self.closing:
            return STALE
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(locationname.lower(), future)
        self._waiters[key].append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            if not future.done():
                future.cancel()
            queue = self._waiters.get(key)
            if queue is not None:
                try:
                    queue.remove(waiter)
                except ValueError:
                    pass
                if not queue:
                    del self._waiters[key]

    # -- pause / resume -------------------------------------------------------------------

    def resumed(self, colonyname: str) -> asyncio.Event:
        event = self._resume.get(colonyname)
        if event is None:
            event = self._resume[colonyname] = asyncio.Event()
        return event

    def notify_resumed(self, colonyname: str) -> None:
        event = self._resume.pop(colonyname, None)
        if event is not None:
            event.set()

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
