"""Raw RPC calls for server tests: a signed envelope POSTed with httpx, the reply decoded by hand
(no SDK in between), so that tests see the exact HTTP status and error payload."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from pycolonies.rpc import build_request

__all__ = ["decode_reply", "http", "raw_call", "raw_post"]

_client: httpx.Client | None = None


def http() -> httpx.Client:
    """One shared client (thread-safe, keep-alive): making an httpx client costs ~40 ms of SSL setup."""
    global _client
    if _client is None:
        _client = httpx.Client(limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
    return _client


def decode_reply(body: bytes) -> tuple[dict[str, Any], Any]:
    """(envelope, decoded payload) of a reply body."""
    envelope = json.loads(body)
    payload = json.loads(base64.b64decode(envelope["payload"])) if envelope.get("payload") else None
    return envelope, payload


def raw_post(server: Any, body: bytes | str, *, timeout: float = 30.0) -> tuple[int, dict[str, Any], Any]:
    """POST ``body`` to ``/api``; returns (HTTP status, reply envelope, decoded payload)."""
    content = body.encode() if isinstance(body, str) else body
    reply = http().post(f"{server.url}/api", content=content, timeout=timeout)
    envelope, payload = decode_reply(reply.content)
    return reply.status_code, envelope, payload


def raw_call(server: Any, msg: dict[str, Any], prvkey: str, *, timeout: float = 30.0) -> tuple[int, Any]:
    """Sign ``msg`` (which holds its ``msgtype``) and POST it; returns (HTTP status, decoded payload),
    the payload being the Failure ``{"status", "message"}`` for an error reply."""
    status, _, payload = raw_post(server, build_request(msg, prvkey), timeout=timeout)
    return status, payload
