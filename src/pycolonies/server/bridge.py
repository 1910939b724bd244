"""Replicas: several servers on one PostgreSQL database, as one.

The database is the source of truth; what replicas exchange besides it are hints, carried by the
store's replica link (``store/postgres/notify.py``: LISTEN/NOTIFY and an advisory lock):

* every event of the local :class:`~.events.EventHub` (a process became assignable, a process
  changed state, assignments resumed, a channel got an entry or was cleaned up) is relayed to the
  other replicas, which feed it into their own hub with ``remote=True`` (never relayed again);
  so an executor long-polling on replica A gets a process submitted on B at once (unless B woke
  one of its own for it: one wake-up per process, not one per replica), and ``/pubsub``
  subscribers on A see state changes made on B;
* a lost hint costs time, never work: assign long-polls look at the store again every
  ``RECHECK`` seconds, and when the listener reconnects every waiter looks again at once;
* background work that must run once (crons, generators, deadlines, stale-executor cleanup) runs
  on the leader only: the replica holding the link's advisory lock. When the leader dies,
  PostgreSQL drops its lock and another replica takes it within about a second. The claims those
  loops make are conditional in the store anyway, so two leaders for a moment never fire one cron
  instant twice.

With the SQLite store there is no link and nothing here runs: one server is always the leader.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

import orjson

from .context import ServerContext
from .encode import process_wire
from .events import ProcessEvent

__all__ = ["RECHECK", "Bridge", "ReplicaLink", "start_bridge"]

log = logging.getLogger("pycolonies.server.bridge")

RECHECK = 5.0  # seconds between store checks of an assign long-poll, should a hint be lost
MAX_WIRE = 6000  # bytes of process JSON carried in a state-change message; bigger ones are fetched


class ReplicaLink(Protocol):
    """What a store that several servers share offers them (``PostgresStore.replica_link()``)."""

    node: str
    is_leader: bool
    peers: int  # other replicas listening

    async def start(self, on_message: Callable[[str], None], on_reset: Callable[[], None]) -> None: ...

    def send(self, message: str) -> None: ...

    async def stop(self) -> None: ...


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class Bridge:
    """The :class:`~.events.Relay` of one replica, and its view of the leader."""

    def __init__(self, ctx: ServerContext, link: ReplicaLink) -> None:
        self.ctx = ctx
        self.link = link
        self._fetches: set[asyncio.Task[None]] = set()

    @property
    def node(self) -> str:
        return self.link.node

    def is_leader(self) -> bool:
        return self.link.is_leader

    @property
    def listening(self) -> bool:
        return self.link.peers > 0

    async def start(self) -> None:
        await self.link.start(self._received, self.ctx.hub.wake_everyone)
        self.ctx.hub.relay = self
        self.ctx.hub.recheck = RECHECK

    async def stop(self) -> None:
        self.ctx.hub.relay = None
        for task in list(self._fetches):
            task.cancel()
        await self.link.stop()

    # -- outgoing (the Relay protocol) -------------------------------------------------------

    def waiting(self, colonyname: str, executortype: str, locationname: str, wake_all: bool, woke: bool) -> None:
        self.link.send(_dumps(["w", colonyname, executortype, locationname, wake_all, woke]))

    def published(self, event: ProcessEvent) -> None:
        if self.link.peers <= 0:
            return
        # a JSON header, then a tab and the process (JSON escapes tabs in strings, so the first
        # tab ends the header): a replica without subscribers for it never parses the process
        head = _dumps(["p", event.processid, event.colonyname, event.executortype, event.locationname, event.state])
        wire = orjson.dumps(event.process).decode()
        self.link.send(f"{head}\t{wire}" if len(wire) <= MAX_WIRE else head)

    def resumed(self, colonyname: str) -> None:
        self.link.send(_dumps(["r", colonyname]))

    def channel(self, processid: str, name: str) -> None:
        self.link.send(_dumps(["c", processid, name]))

    def channels_ended(self, processid: str) -> None:
        self.link.send(_dumps(["e", processid]))

    # -- incoming --------------------------------------------------------------------------

    def _received(self, message: str) -> None:
        hub = self.ctx.hub
        head, _, wire = message.partition("\t")
        fields = orjson.loads(head)
        kind = fields[0]
        if kind == "w":
            # woken here already (fields[5]): assigners elsewhere only look again if about to wait
            hub.notify_waiting(fields[1], fields[2], fields[3], wake_all=fields[4], remote=True, wake=not fields[5])
        elif kind == "p":
            _, processid, colonyname, executortype, locationname, state = fields
            if not hub.wants(processid, executortype, state):
                return
            if wire:
                process = orjson.loads(wire)
                hub.publish(
                    ProcessEvent(processid, colonyname, executortype, locationname, state, process), remote=True
                )
            else:
                task = asyncio.get_running_loop().create_task(self._fetch_and_publish(processid, state))
                self._fetches.add(task)
                task.add_done_callback(self._fetches.discard)
        elif kind == "r":
            hub.notify_resumed(fields[1], remote=True)
        elif kind == "c":
            hub.notify_channel(fields[1], fields[2], remote=True)
        elif kind == "e":
            hub.end_channels(fields[1], remote=True)

    async def _fetch_and_publish(self, processid: str, state: int) -> None:
        """A state change whose process was too large to carry: read it from the store."""
        try:
            p = await self.ctx.store.get_process(processid)
        except Exception:
            log.exception("process %s: could not read it for a relayed event", processid)
            return
        if p is not None:
            event = ProcessEvent(p.processid, p.colonyname, p.executortype, p.locationname, state, process_wire(p))
            self.ctx.hub.publish(event, remote=True)


async def start_bridge(ctx: ServerContext) -> Bridge | None:
    """Join the other replicas when the store is shared (PostgreSQL); None for a store of one server."""
    open_link: Callable[[], ReplicaLink] | None = getattr(ctx.store, "replica_link", None)
    if open_link is None:
        return None
    bridge = Bridge(ctx, open_link())
    await bridge.start()
    log.info("replica %s joined (leader: %s)", bridge.node, bridge.is_leader())
    return bridge
