"""Attribute messages: add (by the assigned executor) and get."""

from __future__ import annotations

from typing import Any

from ...messages import AddAttributeMsg, GetAttributeMsg
from ...rpc import RPCError
from ..auth import require_member
from ..processes import attribute_id
from ..store.records import RUNNING
from . import Call, handler


@handler("addattributemsg", AddAttributeMsg, "add attribute")
async def add_attribute(call: Call, msg: AddAttributeMsg) -> Any:
    attribute = msg["attribute"]
    if attribute is None:
        raise RPCError(400, "Failed to add attribute, msg.Attribute is nil")
    ctx = call.ctx
    process = await ctx.store.get_process(attribute["targetid"])
    if process is None:
        raise RPCError(404, "Failed to add attribute, process not found")
    await require_member(ctx, call.rid, process.colonyname)
    if process.state != RUNNING:
        raise RPCError(403, "Failed to add attribute, process is not running")
    if process.assignedexecutorid != call.rid:
        raise RPCError(
            403,
            f"Failed to add attribute, only executor with id <{process.assignedexecutorid}> "
            "is allowed to set attributes",
        )
    stored = dict(attribute)
    stored["attributeid"] = attribute_id(attribute["targetid"], attribute["key"], attribute["attributetype"])
    stored["targetprocessgraphid"] = process.processgraphid
    if not await ctx.store.add_attribute(stored, ctx.now()):
        raise RPCError(
            400,
            f"Failed to add attribute, an attribute with key <{attribute['key']}> "
            f"and type {attribute['attributetype']} already exists on the process",
        )
    return stored


@handler("getattributemsg", GetAttributeMsg, "get attribute")
async def get_attribute(call: Call, msg: GetAttributeMsg) -> Any:
    ctx = call.ctx
    attribute = await ctx.store.get_attribute(msg["attributeid"])
    if attribute is None:
        raise RPCError(400, "Attribute does not exists")
    process = await ctx.store.get_process(attribute["targetid"])
    if process is None:
        raise RPCError(404, "Failed to get attribute, process not found")
    await require_member(ctx, call.rid, process.colonyname)
    return attribute
