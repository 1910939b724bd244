"""``GET /pubsub``: WebSocket subscriptions to process state changes (protocol core/30-semantics.md
section 7). The client sends signed envelopes; the server pushes reply envelopes with payload type
``subscribeprocessmsg`` and closes the socket when the first subscription's timeout expires.
The same socket serves channel subscriptions (``subscribechannelmsg``, protocol ext/10-channels.md
section 6): one at a time, served to its end before the next frame is read, the socket kept open."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from starlette.websockets import WebSocket, WebSocketDisconnect

from ..crypto import CryptoError, recover_id
from ..messages import SubscribeChannelMsg, SubscribeProcessesMsg, SubscribeProcessMsg
from ..rpc import RPCError, decode_payload, error_reply, parse_envelope, success_reply
from ..wire import WireError, decode
from . import channels
from .context import ServerContext
from .encode import process_wire
from .events import ProcessEvent

__all__ = ["serve_pubsub"]

PUSH_TYPE = "subscribeprocessmsg"


class _Connection:
    def __init__(self, ctx: ServerContext, ws: WebSocket) -> None:
        self.ctx = ctx
        self.ws = ws
        # Frames to send; None only wakes the writer (a subscription changed the deadline).
        self.outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.deadline = float("inf")
        self.binary = False
        self.unsubscribers: list[Callable[[], None]] = []

    def push(self, frame: bytes) -> None:
        self.outbox.put_nowait(frame)

    def extend_deadline(self, timeout: int) -> None:
        self.deadline = min(self.deadline, time.monotonic() + max(timeout, 0))
        self.outbox.put_nowait(None)  # the writer may be sleeping on the old deadline

    async def handle(self, text: str) -> bool:
        """Handle one client frame; False when the connection must be closed without a reply."""
        try:
            envelope = parse_envelope(text.encode())
            rid = recover_id(envelope.payload, envelope.signature)
        except (RPCError, CryptoError):
            return False
        try:
            message = decode_payload(envelope.payload)
            if envelope.payloadtype == "subscribeprocessmsg":
                await self.subscribe_process(decode(SubscribeProcessMsg, message))
            elif envelope.payloadtype == "subscribeprocessesmsg":
                await self.subscribe_processes(rid, decode(SubscribeProcessesMsg, message))
            elif envelope.payloadtype == "subscribechannelmsg":
                msg = decode(SubscribeChannelMsg, message)
                await channels.subscribe(self.ctx, rid, msg, self.push, self.outbox.qsize)
            else:
                raise RPCError(403, f"invalid rpcMsg.PayloadType: {envelope.payloadtype}")
        except (ValueError, WireError) as exc:
            self.push(error_reply(400, f"Failed to subscribe, invalid JSON: {exc}"))
        except RPCError as exc:
            self.push(error_reply(exc.status, exc.message))
        return True

    async def subscribe_process(self, msg: SubscribeProcessMsg) -> None:
        if msg["msgtype"] != "subscribeprocessmsg":
            raise RPCError(403, "Failed to subscribe, msg.MsgType does not match payloadType")
        process = await self.ctx.store.get_process(msg["processid"])
        if process is None:
            raise RPCError(403, f"Invalid process with Id {msg['processid']}")
        executortype = msg["executortype"] or process.executortype
        state = msg["state"]

        def on_event(event: ProcessEvent) -> None:
            if event.state == state and event.executortype == executortype:
                self.push(success_reply(PUSH_TYPE, event.process))

        self.unsubscribers.append(self.ctx.hub.subscribe_process(process.processid, on_event))
        self.extend_deadline(msg["timeout"])
        if process.state == state:
            self.push(success_reply(PUSH_TYPE, process_wire(process)))

    async def subscribe_processes(self, rid: str, msg: SubscribeProcessesMsg) -> None:
        if msg["msgtype"] != "subscribeprocessesmsg":
            raise RPCError(403, "Failed to subscribe, msg.MsgType does not match payloadType")
        if await self.ctx.store.get_executor_by_id(rid) is None:
            raise RPCError(403, "executor not found")

        def on_event(event: ProcessEvent) -> None:
            self.push(success_reply(PUSH_TYPE, event.process))

        self.unsubscribers.append(self.ctx.hub.subscribe_type(msg["executortype"], msg["state"], on_event))
        self.extend_deadline(msg["timeout"])

    async def send(self, frame: bytes) -> None:
        if self.binary:
            await self.ws.send_bytes(frame)
        else:
            await self.ws.send_text(frame.decode())


async def serve_pubsub(ctx: ServerContext, ws: WebSocket) -> None:
    await ws.accept()
    conn = _Connection(ctx, ws)

    async def reader() -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            if message.get("bytes") is not None:
                conn.binary = True
                text = message["bytes"].decode("utf-8", "replace")
            else:
                text = message.get("text") or ""
            if not await conn.handle(text):
                raise WebSocketDisconnect(1008)

    read_task = asyncio.create_task(reader())
    try:
        while not read_task.done():
            remaining = conn.deadline - time.monotonic()
            if remaining <= 0:
                break
            get = asyncio.ensure_future(conn.outbox.get())
            done, _ = await asyncio.wait(
                {get, read_task}, timeout=min(remaining, 3600), return_when=asyncio.FIRST_COMPLETED
            )
            if get in done:
                frame = get.result()
                if frame is not None:
                    await conn.send(frame)
            else:
                get.cancel()
        while not conn.outbox.empty() and not read_task.done():
            frame = conn.outbox.get_nowait()
            if frame is not None:
                await conn.send(frame)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        read_task.cancel()
        for unsubscribe in conn.unsubscribers:
            unsubscribe()
        with contextlib.suppress(Exception):
            await ws.close()
