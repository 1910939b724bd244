"""Message handlers, one module per domain. Each handler is registered for its msgtype with the
schema its payload decodes against; ``dispatch`` runs the common steps (decode, msgtype check)
and the handler authorizes, acts through the services and returns the reply object."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ...rpc import RPCError
from ...wire import WireError, decode
from ..context import ServerContext

__all__ = ["HANDLERS", "Call", "Reply", "dispatch", "handler"]


@dataclass(slots=True)
class Call:
    """One request: the server, the recovered signer id and the envelope's payload type."""

    ctx: ServerContext
    rid: str
    payloadtype: str


@dataclass(slots=True)
class Reply:
    """A reply whose payload type differs from the request's (``pausestatusreplymsg``)."""

    payloadtype: str
    payload: Any


HandlerFunc = Callable[[Call, Any], Awaitable[Any]]


@dataclass(slots=True)
class Handler:
    msgtype: str
    schema: type
    verb: str
    func: HandlerFunc
    mismatch_verb: str = ""  # when upstream words the msgtype-mismatch text differently


HANDLERS: dict[str, Handler] = {}


def handler(msgtype: str, schema: type, verb: str, mismatch_verb: str = "") -> Callable[[HandlerFunc], HandlerFunc]:
    """Register ``func`` for ``msgtype``; ``verb`` completes upstream's "Failed to <verb>" texts
    (``mismatch_verb``, when given, the msgtype-mismatch one)."""

    def register(func: HandlerFunc) -> HandlerFunc:
        if msgtype in HANDLERS:
            raise RuntimeError(f"two handlers for {msgtype}")
        HANDLERS[msgtype] = Handler(msgtype, schema, verb, func, mismatch_verb)
        return func

    return register


async def dispatch(h: Handler, call: Call, message: Any) -> Any:
    """Decode the payload for ``h``, check its msgtype and run it."""
    if not isinstance(message, dict):
        raise RPCError(400, f"Failed to {h.verb}, invalid JSON")
    try:
        msg = decode(h.schema, message)
    except WireError as exc:
        raise RPCError(400, f"Failed to {h.verb}, invalid JSON: {exc}") from None
    if msg["msgtype"] != call.payloadtype:
        raise RPCError(400, f"Failed to {h.mismatch_verb or h.verb}, msg.MsgType does not match payloadType")
    return await h.func(call, msg)


def load_all() -> None:
    """Import every handler module so that their registrations run."""
    from . import (  # noqa: F401
        attributes,
        blueprints,
        channels,
        colonies,
        crons,
        executors,
        files,
        functions,
        generators,
        locations,
        logs,
        processes,
        server,
        snapshots,
        users,
        workflows,
    )
