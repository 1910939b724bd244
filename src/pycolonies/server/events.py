"""In-process wake-ups and subscriptions.

Assign long-polls wait here for WAITING events of their (colony, executor type); a submit wakes
one of them. A per-key generation counter closes the window between "the claim found nothing" and
"the waiter is registered": a waiter that registers with a stale generation returns at once.
Process subscriptions (``/pubsub``) receive every state change of their process; general
subscriptions receive the state changes of their executor type.

Channel subscriptions (``subscribechannelmsg``) hold a :class:`ChannelWatch`; an append wakes the
channel's watches (``notify_channel``) and the subscriber reads the new entries from the store.

Events are hints: the store is the source of truth, so a lost or spurious wake-up only changes
when an assigner looks again, never what it gets. A replica bridge (PostgreSQL LISTEN/NOTIFY)
feeds remote events into ``publish``/``notify_waiting``/``notify_channel`` the same way.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict, deque
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "DEPARTURE",
    "GONE",
    "STALE",
    "WOKEN_ALL",
    "WOKEN_ONE",
    "ChannelWatch",
    "Departure",
    "EventHub",
    "ProcessEvent",
    "Relay",
]


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


class ChannelWatch:
    """One subscriber's view of a channel: woken by every append (a hint to read the store), and
    ended when the channel is cleaned up. A wake-up that comes while the subscriber is busy is
    remembered, so none is lost between "read found nothing" and "wait"."""

    __slots__ = ("_future", "_woken", "ended")

    def __init__(self) -> None:
        self._woken = False
        self._future: asyncio.Future[str | None] | None = None
        self.ended = False

    def wake(self) -> None:
        self._woken = True
        if self._future is not None:
            _settle(self._future, WOKEN_ONE)

    def end(self) -> None:
        self.ended = True
        self.wake()

    async def wait(self, timeout: float) -> bool:
        """Wait for a wake-up (at most ``timeout`` s); True when there was one."""
        if not self._woken and not self.ended and timeout > 0:
            self._future = asyncio.get_running_loop().create_future()
            timer = asyncio.get_running_loop().call_later(timeout, _settle, self._future, None)
            try:
                await self._future
            finally:
                timer.cancel()
                self._future = None
        woken, self._woken = self._woken, False
        return woken


class Relay(Protocol):
    """Carries this server's events to the other replicas on the same database (server/bridge.py);
    their events come back in through the same EventHub methods with ``remote=True``."""

    @property
    def listening(self) -> bool:
        """Whether other replicas listen (nothing is relayed while there are none)."""
        ...

    def waiting(self, colonyname: str, executortype: str, locationname: str, wake_all: bool, woke: bool) -> None:
        """``woke``: an assigner of this server was woken for it (the others need not be)."""
        ...

    def published(self, event: ProcessEvent) -> None: ...

    def resumed(self, colonyname: str) -> None: ...

    def channel(self, processid: str, name: str) -> None: ...

    def channels_ended(self, processid: str) -> None: ...


class EventHub:
    def __init__(self) -> None:
        self._waiters: dict[tuple[str, str], deque[_Waiter]] = defaultdict(deque)
        self._generation: dict[tuple[str, str], int] = defaultdict(int)
        self._process_subs: dict[str, set[Callable[[ProcessEvent], None]]] = defaultdict(set)
        self._type_subs: dict[tuple[str, int], set[Callable[[ProcessEvent], None]]] = defaultdict(set)
        self._resume: dict[str, list[asyncio.Future[str | None]]] = defaultdict(list)
        self._channel_watches: dict[str, dict[str, set[ChannelWatch]]] = {}  # processid -> name -> watches
        self.closing = False
        # Set by the replica bridge: local events are relayed, and an assign long-poll looks at the
        # store again every ``recheck`` seconds in case a relayed hint was lost.
        self.relay: Relay | None = None
        self.recheck = math.inf

    def close(self) -> None:
        """The server is shutting down: release every long-poll now instead of at its timeout."""
        self.closing = True
        for waiters in self._waiters.values():
            for w in waiters:
                _settle(w.future, WOKEN_ALL)
        for futures in self._resume.values():
            for future in futures:
                _settle(future, WOKEN_ALL)
        for by_name in self._channel_watches.values():
            for watches in by_name.values():
                for watch in watches:
                    watch.end()

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
        self,
        colonyname: str,
        executortype: str,
        locationname: str = "",
        *,
        wake_all: bool = False,
        remote: bool = False,
        wake: bool = True,
    ) -> None:
        """A process became assignable: wake one matching assigner (all with ``wake_all``; none
        without ``wake``: an assigner on another replica was woken for it, those here only look
        again if they were about to wait)."""
        key = (colonyname, executortype)
        self._generation[key] += 1
        woke = False
        waiters = self._waiters.get(key)
        if waiters and (wake or wake_all):
            location = locationname.lower()
            for w in list(waiters):
                if w.future.done():
                    waiters.remove(w)
                    continue
                if location and w.location and w.location != location:
                    continue
                waiters.remove(w)
                w.future.set_result(WOKEN_ALL if wake_all else WOKEN_ONE)
                woke = True
                if not wake_all:
                    break
        if self.relay is not None and not remote:
            self.relay.waiting(colonyname, executortype, locationname, wake_all, woke)

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
            return await self._wait(future, min(timeout, self.recheck), departure)
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
        """Wait until the colony's assignments resume; None when ``timeout`` passes first (STALE
        after ``recheck`` seconds, so that the caller looks at the store again)."""
        if self.closing:
            return STALE
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._resume[colonyname].append(future)
        try:
            if timeout > self.recheck:
                return await self._wait(future, self.recheck, departure) or STALE
            return await self._wait(future, timeout, departure)
        finally:
            futures = self._resume.get(colonyname)
            if futures is not None:
                if future in futures:
                    futures.remove(future)
                if not futures:
                    del self._resume[colonyname]

    def notify_resumed(self, colonyname: str, *, remote: bool = False) -> None:
        if self.relay is not None and not remote:
            self.relay.resumed(colonyname)
        for future in self._resume.pop(colonyname, []):
            _settle(future, WOKEN_ALL)

    # -- subscriptions --------------------------------------------------------------------

    def publish(self, event: ProcessEvent, *, remote: bool = False) -> None:
        if self.relay is not None and not remote:
            self.relay.published(event)
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
        """Whether a state change of the process must be published (always, with replicas: their
        subscribers are not known here)."""
        return (
            processid in self._process_subs
            or bool(self._type_subs)
            or (self.relay is not None and self.relay.listening)
        )

    def wants(self, processid: str, executortype: str, state: int) -> bool:
        """Whether a subscriber of this server would receive that event."""
        return processid in self._process_subs or (executortype, state) in self._type_subs

    def wake_everyone(self) -> None:
        """Relayed hints may have been lost: every long-poll and channel subscriber looks again."""
        for key in list(self._waiters):
            self._generation[key] += 1
            for w in self._waiters[key]:
                _settle(w.future, WOKEN_ALL)
        for futures in self._resume.values():
            for future in futures:
                _settle(future, WOKEN_ALL)
        for by_name in self._channel_watches.values():
            for watches in by_name.values():
                for watch in watches:
                    watch.wake()

    # -- channels -------------------------------------------------------------------------

    def watch_channel(self, processid: str, name: str) -> tuple[ChannelWatch, Callable[[], None]]:
        """A watch on the channel, and the function that drops it."""
        watch = ChannelWatch()
        if self.closing:
            watch.end()
        self._channel_watches.setdefault(processid, {}).setdefault(name, set()).add(watch)

        def unwatch() -> None:
            by_name = self._channel_watches.get(processid)
            watches = by_name.get(name) if by_name is not None else None
            if watches is None:
                return
            watches.discard(watch)
            if not watches:
                del by_name[name]  # type: ignore[union-attr]
                if not by_name:
                    del self._channel_watches[processid]

        return watch, unwatch

    def notify_channel(self, processid: str, name: str, *, remote: bool = False) -> None:
        """An entry was appended to the channel: wake its subscribers."""
        if self.relay is not None and not remote:
            self.relay.channel(processid, name)
        by_name = self._channel_watches.get(processid)
        if by_name is not None:
            for watch in by_name.get(name, ()):
                watch.wake()

    def end_channels(self, processid: str, *, remote: bool = False) -> None:
        """The process's channels were cleaned up: end their subscriptions."""
        if self.relay is not None and not remote:
            self.relay.channels_ended(processid)
        for watches in self._channel_watches.get(processid, {}).values():
            for watch in watches:
                watch.end()
