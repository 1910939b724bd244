"""Location messages: add, list, get, remove."""

from __future__ import annotations

from typing import Any

from ...messages import AddLocationMsg, ColonyNameMsg, LocationNameMsg
from ...rpc import RPCError
from ..auth import require_colony, require_colony_owner, require_member
from . import Call, handler


@handler("addlocationmsg", AddLocationMsg, "add location")
async def add_location(call: Call, msg: AddLocationMsg) -> Any:
    location = msg["location"]
    if location is None:
        raise RPCError(400, "Failed to add location, location is nil")
    await require_colony(call.ctx, location["colonyname"])
    await require_colony_owner(call.ctx, call.rid, location["colonyname"])
    if not location["name"]:
        raise RPCError(400, "Failed to add location, name is empty")
    if not await call.ctx.store.add_location(location):
        raise RPCError(
            400,
            f"A location with name <{location['name']}> already exists in Colony with name <{location['colonyname']}>",
        )
    return location


@handler("getlocationsmsg", ColonyNameMsg, "get locations")
async def get_locations(call: Call, msg: ColonyNameMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"], approved=False)
    return await call.ctx.store.list_locations(msg["colonyname"]) or None


@handler("getlocationmsg", LocationNameMsg, "get location")
async def get_location(call: Call, msg: LocationNameMsg) -> Any:
    await require_colony(call.ctx, msg["colonyname"])
    await require_member(call.ctx, call.rid, msg["colonyname"], approved=False)
    location = await call.ctx.store.get_location(msg["colonyname"], msg["name"])
    if location is None:
        raise RPCError(404, "Failed to get location, location is nil")
    return location


@handler("removelocationmsg", LocationNameMsg, "remove location")
async def remove_location(call: Call, msg: LocationNameMsg) -> Any:
    await require_colony(call.ctx, msg["colonyname"])
    await require_colony_owner(call.ctx, call.rid, msg["colonyname"])
    if not await call.ctx.store.remove_location(msg["colonyname"], msg["name"]):
        raise RPCError(400, f"Location with name <{msg['name']}> not found")
    return {}
