"""The RPC pipeline for ``POST /api`` (protocol core/00-overview.md section 4): envelope ->
unsigned server messages -> signer recovery -> handler lookup -> handler -> reply bytes."""

from __future__ import annotations

import logging

from ..crypto import CryptoError, recover_id
from ..rpc import RPCError, decode_payload, error_reply, parse_envelope, success_reply
from .context import ServerContext
from .handlers import HANDLERS, Call, Reply, dispatch
from .handlers.server import server_info

__all__ = ["handle_rpc"]

log = logging.getLogger("pycolonies.server")

_EMPTY_TYPE = (
    "invalid rpcMsg.PayloadType: empty (this usually means the client is misconfigured - check that "
    "COLONIES_PRVKEY and other environment variables are set correctly)"
)


async def handle_rpc(ctx: ServerContext, body: bytes) -> tuple[int, bytes]:
    """Answer one request body with (HTTP status, reply bytes); never raises."""
    try:
        envelope = parse_envelope(body)
        payloadtype = envelope.payloadtype
        if payloadtype == "getserverinfomsg":
            return 200, success_reply(payloadtype, server_info(ctx))
        rid = ""
        if payloadtype != "versionmsg":
            try:
                rid = recover_id(envelope.payload, envelope.signature)
            except CryptoError as exc:
                raise RPCError(403, str(exc)) from None
        h = HANDLERS.get(payloadtype)
        if h is None:
            raise RPCError(403, _EMPTY_TYPE if not payloadtype else f"invalid rpcMsg.PayloadType: {payloadtype}")
        try:
            message = decode_payload(envelope.payload)
        except ValueError as exc:
            raise RPCError(400, f"Failed to {h.verb}, invalid JSON: {exc}") from None
        result = await dispatch(h, Call(ctx, rid, payloadtype), message)
        if isinstance(result, Reply):
            return 200, success_reply(result.payloadtype, result.payload)
        return 200, success_reply(payloadtype, result)
    except RPCError as exc:
        return exc.status, error_reply(exc.status, exc.message)
    except Exception as exc:  # a bug must not take the server down; answer in the protocol's shape
        if isinstance(exc, ctx.store.input_errors):
            return 400, error_reply(400, f"Invalid input, the store cannot hold a value of the request: {exc}")
        log.exception("internal error while serving a request")
        return 500, error_reply(500, f"Internal server error: {type(exc).__name__}: {exc}")
