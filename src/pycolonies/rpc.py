"""The RPC envelope, shared by client and server (protocol core/00-overview.md sections 3-4).

A request is ``{"payloadtype", "payload", "signature"}``: the payload is standard Base64 of the
message JSON and the signature covers the Base64 *text*. A reply is
``{"payloadtype", "payload", "error"}``; an error reply carries ``{"status", "message"}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

import orjson

from .crypto import sign
from .errors import TransportError, error_for_status

__all__ = [
    "EMPTY",
    "Envelope",
    "RPCError",
    "build_request",
    "decode_payload",
    "encode_payload",
    "error_reply",
    "parse_envelope",
    "parse_reply",
    "success_reply",
]


class RPCError(Exception):
    """A failure to answer with the protocol's error reply: HTTP status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


EMPTY: dict[str, Any] = {}


def encode_payload(obj: Any) -> str:
    """Base64 of the compact JSON of ``obj`` (what the server puts in replies)."""
    return base64.b64encode(orjson.dumps(obj)).decode("ascii")


def build_request(msg: dict[str, Any], prvkey: str) -> bytes:
    """The signed envelope for ``msg`` (which holds its ``msgtype``), byte-identical to upstream's SDK."""
    payload = base64.b64encode(json.dumps(msg).encode("utf-8")).decode("ascii")
    envelope = {"payloadtype": msg["msgtype"], "payload": payload, "signature": sign(payload, prvkey)}
    return json.dumps(envelope).encode("utf-8")


def parse_reply(body: bytes) -> Any:
    """The decoded payload of a reply; raises the typed error for an error reply."""
    try:
        envelope = orjson.loads(body)
        payload = orjson.loads(base64.b64decode(envelope["payload"])) if envelope.get("payload") else None
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, binascii.Error, AttributeError):
        snippet = body[:200].decode("utf-8", "replace")
        raise TransportError(f"Invalid reply from server: {snippet!r}") from None
    if envelope.get("error"):
        if isinstance(payload, dict):
            status = payload.get("status")
            raise error_for_status(status if isinstance(status, int) else 500, str(payload.get("message", "")))
        raise error_for_status(500, str(payload))
    return payload


@dataclass(slots=True)
class Envelope:
    payloadtype: str
    payload: str
    signature: str


def parse_envelope(body: bytes) -> Envelope:
    """Step 2 of the pipeline: the body must be a JSON object with string envelope fields."""
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RPCError(400, f"invalid JSON envelope: {exc}") from None
    if not isinstance(obj, dict):
        raise RPCError(400, "invalid JSON envelope: expected an object")
    fields: dict[str, str] = {}
    lowered = {str(k).lower(): v for k, v in obj.items()}
    for name in ("payloadtype", "payload", "signature"):
        value = lowered.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise RPCError(400, f"invalid JSON envelope: field {name} must be a string")
        fields[name] = value
    return Envelope(**fields)


def decode_payload(payload: str) -> Any:
    """Base64 text to JSON value; raises ValueError for bad Base64 or JSON."""
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"illegal base64 data: {exc}") from None
    return orjson.loads(raw)


def success_reply(payloadtype: str, obj: Any) -> bytes:
    return orjson.dumps({"payloadtype": payloadtype, "payload": encode_payload(obj), "error": False})


def error_reply(status: int, message: str) -> bytes:
    return orjson.dumps(
        {
            "payloadtype": "error",
            "payload": encode_payload({"status": status, "message": message}),
            "error": True,
        }
    )
