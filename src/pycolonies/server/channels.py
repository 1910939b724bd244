"""Channels (protocol ext/10-channels.md): message logs a process's submitter and its assigned
executor share while the process runs. Handlers call :func:`append` and :func:`read`, the
``/pubsub`` socket :func:`subscribe`; the scheduler calls :func:`bind` after an assignment and
:func:`close` when a process ends.

Beyond upstream, which keeps channels in one server's memory, entries live in the store: a restart
loses none of a running process's entries and every replica reads the same log. A subscriber
wakes on a hint from the event hub (a local append, or a remote one relayed by a replica bridge)
and on a timer, then reads what is new from the store, resuming strictly after the last entry it
delivered (the store's per-channel arrival number), so it neither misses nor repeats an entry.
Access rules, limits, error texts and lifecycle are upstream's.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import time
from collections.abc import Callable
from typing import Any

import orjson

from ..messages import ChannelAppendMsg, ChannelReadMsg, SubscribeChannelMsg
from ..rpc import RPCError, success_reply
from ..timefmt import format_ns
from .auth import require_member
from .context import ServerContext
from .events import ProcessEvent
from .ratelimit import TokenBucket
from .store.records import CANCELLED, FAILED, SUCCESS, ProcessRecord

__all__ = [
    "MAX_CHANNELS",
    "MAX_ENTRIES",
    "MAX_PAYLOAD",
    "append",
    "bind",
    "close",
    "close_many",
    "declared_channels",
    "entry_wire",
    "read",
    "subscribe",
    "sweep",
]

MAX_PAYLOAD = 10 * 1024 * 1024
"""Largest payload of one entry, in bytes (after decoding)."""
MAX_ENTRIES = 10_000
"""Entries a channel holds; appends beyond fail (no eviction)."""
MAX_CHANNELS = 100
"""Channels per process."""
RATE_CAPACITY, RATE_PER_SECOND = 500, 100
"""Appends per process: a token bucket shared by its channels and both parties."""
DEFAULT_TIMEOUT = 30
"""Lifetime of a subscription whose timeout is 0, in seconds."""
POLL_INTERVAL = 1.0
"""With replicas (a bridge relays hints), a subscriber also re-reads the store this often
(seconds) without a wake-up, in case a relayed hint was lost."""
READ_BATCH = 1000
"""Entries a subscriber reads from the store at a time."""
HIGH_WATER = 256
"""A subscriber pauses while this many of its frames wait to be sent (a slow client)."""

PUSH_TYPE = "subscribechannelmsg"
NOT_FOUND = "Channel not found"
_MARKER = '"channels":'  # in a stored spec only when it declares channels


def declared_channels(p: ProcessRecord) -> list[str]:
    """The process's channel names, each once, in declaration order."""
    if _MARKER not in p.spec:
        return []
    names = orjson.loads(p.spec).get("channels") or []
    return list(dict.fromkeys(n for n in names if isinstance(n, str)))


def entry_wire(e: dict[str, Any]) -> dict[str, Any]:
    """The MsgEntry wire object."""
    out: dict[str, Any] = {"sequence": e["sequence"]}
    if e["inreplyto"]:
        out["inreplyto"] = e["inreplyto"]
    out["timestamp"] = format_ns(e["timestamp"])
    out["senderid"] = e["senderid"]
    payload = e["payload"]
    out["payload"] = None if payload is None else base64.b64encode(payload).decode("ascii")
    if e["type"]:
        out["type"] = e["type"]
    return out


def _payload(value: Any) -> bytes | None:
    """A request payload (Base64 text or an array of byte values) as bytes; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("payload is not valid Base64") from None
    if isinstance(value, list):
        try:
            return bytes(value)  # ints 0-255 (true and false pass as 1 and 0: a harmless superset)
        except (TypeError, ValueError):
            raise ValueError("payload must hold byte values 0-255") from None
    raise ValueError(f"cannot unmarshal {type(value).__name__} into field payload of type []uint8")


async def _create(ctx: ServerContext, p: ProcessRecord, name: str) -> dict[str, Any]:
    """Create the channel on first use, if the process declares it and has not closed."""
    if p.state in (SUCCESS, FAILED):
        raise RPCError(404, NOT_FOUND)
    names = declared_channels(p)
    if name not in names:
        raise RPCError(404, NOT_FOUND)
    if names.index(name) >= MAX_CHANNELS:  # upstream created the first MAX_CHANNELS at submission
        raise RPCError(500, "process has too many channels")
    record = {
        "processid": p.processid,
        "name": name,
        "submitterid": p.initiatorid,
        "executorid": p.assignedexecutorid,
    }
    channel = await ctx.store.add_channel(record, MAX_CHANNELS)
    if channel is None:
        raise RPCError(500, "process has too many channels")
    return channel


async def _channel(ctx: ServerContext, p: ProcessRecord, name: str) -> dict[str, Any]:
    """The process's channel, created on first use (protocol section 3, step 3)."""
    if p.state in (SUCCESS, FAILED):  # closed: its channels are gone, here and on every replica
        raise RPCError(404, NOT_FOUND)
    channel = await ctx.store.get_channel(p.processid, name)
    if channel is None:
        channel = await _create(ctx, p, name)
    return channel


async def _open(ctx: ServerContext, rid: str, processid: str, name: str) -> tuple[ProcessRecord, dict[str, Any]]:
    """The process and its channel, after the membership check (protocol section 3, steps 1-3)."""
    p = await ctx.store.get_process(processid)
    if p is None:
        raise RPCError(404, "Process not found")
    await require_member(ctx, rid, p.colonyname)
    return p, await _channel(ctx, p, name)


def _allowed(rid: str, channel: dict[str, Any]) -> bool:
    return rid == channel["submitterid"] or (bool(channel["executorid"]) and rid == channel["executorid"])


async def append(ctx: ServerContext, rid: str, msg: ChannelAppendMsg) -> None:
    try:
        payload = _payload(msg["payload"])
    except ValueError as exc:
        raise RPCError(400, f"Failed to append to channel, invalid JSON: {exc}") from None
    processid, name = msg["processid"], msg["name"]
    _, channel = await _open(ctx, rid, processid, name)
    if payload is not None and len(payload) > MAX_PAYLOAD:
        raise RPCError(500, "message payload exceeds maximum size")
    if not _allowed(rid, channel):
        raise RPCError(403, "Not authorized to write to channel")
    bucket = ctx.channel_rates.get(processid)
    if bucket is None:
        bucket = ctx.channel_rates[processid] = TokenBucket(RATE_CAPACITY, RATE_PER_SECOND)
    if not bucket.take():
        raise RPCError(500, "rate limit exceeded")
    entry = {
        "sequence": msg["sequence"],
        "inreplyto": msg["inreplyto"],
        "timestamp": ctx.now(),
        "senderid": rid,
        "payload": payload,
        "type": msg["payloadtype"] or "data",
    }
    arrival = await ctx.store.append_channel_entry(processid, name, entry, MAX_ENTRIES)
    if arrival == 0:
        raise RPCError(500, "channel log is full")
    if arrival < 0:  # cleaned up meanwhile
        raise RPCError(404, NOT_FOUND)
    ctx.hub.notify_channel(processid, name)


async def read(ctx: ServerContext, rid: str, msg: ChannelReadMsg) -> list[dict[str, Any]]:
    processid, name = msg["processid"], msg["name"]
    _, channel = await _open(ctx, rid, processid, name)
    if not _allowed(rid, channel):
        raise RPCError(403, "Not authorized to read from channel")
    result = await ctx.store.read_channel(processid, name, max(msg["afterseq"], 0), msg["limit"])
    if result is None:
        raise RPCError(404, NOT_FOUND)
    return [entry_wire(e) for e in result[0]]


async def subscribe(
    ctx: ServerContext,
    rid: str,
    msg: SubscribeChannelMsg,
    push: Callable[[bytes], None],
    pending: Callable[[], int],
) -> None:
    """Serve one ``subscribechannelmsg`` on a socket: ``push`` queues a frame, ``pending`` says how
    many wait to be sent. Returns when the subscription ends (its timeout, or the channel's
    cleanup); raises RPCError, for an error frame, before anything is pushed."""
    if msg["msgtype"] != "subscribechannelmsg":
        raise RPCError(400, "Failed to subscribe to channel, msg.MsgType does not match rpcMsg.PayloadType")
    processid, name = msg["processid"], msg["name"]
    p = await ctx.store.get_process(processid)
    if p is None:
        raise RPCError(404, "Process not found")
    await require_member(ctx, rid, p.colonyname)
    try:
        channel = await _channel(ctx, p, name)
    except RPCError:
        raise RPCError(404, NOT_FOUND) from None
    if not _allowed(rid, channel):
        raise RPCError(403, "Not authorized to subscribe to channel")
    timeout = msg["timeout"] or DEFAULT_TIMEOUT
    deadline = time.monotonic() + timeout
    hub = ctx.hub
    watch, unwatch = hub.watch_channel(processid, name)

    def on_event(event: ProcessEvent) -> None:
        if event.state in (SUCCESS, FAILED, CANCELLED):
            watch.end()

    unsubscribe = hub.subscribe_process(processid, on_event)
    try:
        snapshot = await ctx.store.read_channel(processid, name, max(msg["afterseq"], 0), 0)
        if snapshot is None:
            return
        entries, last = snapshot
        if entries:
            push(success_reply(PUSH_TYPE, [entry_wire(e) for e in entries]))
        while not watch.ended:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                push(success_reply(PUSH_TYPE, []))
                return
            # alone, every append is local and wakes us; with replicas (hub.recheck is finite) the
            # store is re-read now and then in case a relayed hint was lost
            recheck = POLL_INTERVAL if math.isfinite(hub.recheck) else math.inf
            await watch.wait(min(remaining, recheck))
            if watch.ended:
                return
            while True:
                while pending() > HIGH_WATER and not watch.ended:  # a slow client: read on as it drains
                    await asyncio.sleep(0.005)
                batch = await ctx.store.read_channel_after(processid, name, last, READ_BATCH)
                if batch is None:  # cleaned up (perhaps by another replica)
                    return
                for e in batch:
                    push(success_reply(PUSH_TYPE, [entry_wire(e)]))
                    last = e["arrival"]
                if len(batch) < READ_BATCH:
                    break
    finally:
        unwatch()
        unsubscribe()


async def bind(ctx: ServerContext, p: ProcessRecord) -> None:
    """``p`` was just assigned: its channels now belong to the assigned executor."""
    if _MARKER in p.spec:
        await ctx.store.bind_channels(p.processid, p.assignedexecutorid)


async def close(ctx: ServerContext, p: ProcessRecord) -> None:
    """``p`` closed or was cancelled: remove its channels and end their subscriptions."""
    if _MARKER in p.spec:
        ctx.channel_rates.pop(p.processid, None)
        await ctx.store.remove_channels(p.processid)
        ctx.hub.end_channels(p.processid)


async def close_many(ctx: ServerContext, processids: list[str]) -> None:
    """:func:`close` for processes known by id (a cancelled graph's)."""
    for processid in processids:
        ctx.channel_rates.pop(processid, None)
        if await ctx.store.remove_channels(processid):
            ctx.hub.end_channels(processid)


async def sweep(ctx: ServerContext) -> int:
    """Remove channels no process can use any more (removed, or closed without :func:`close`, e.g.
    on another replica), and forget idle rate limiters (a full bucket is a fresh one)."""
    for processid, bucket in list(ctx.channel_rates.items()):
        if bucket.tokens + (time.monotonic() - bucket.updated) * bucket.rate >= bucket.capacity:
            del ctx.channel_rates[processid]
    return await ctx.store.remove_orphan_channels()
