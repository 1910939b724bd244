"""User messages: add, list, get, get by id, remove, change id."""

from __future__ import annotations

from typing import Any

from ...messages import AddUserMsg, ChangeUserIdMsg, ColonyNameMsg, GetUserByIdMsg, UserNameMsg
from ...rpc import RPCError
from ..auth import require_colony, require_colony_owner, require_member
from . import Call, handler


@handler("addusermsg", AddUserMsg, "add user")
async def add_user(call: Call, msg: AddUserMsg) -> Any:
    user = msg["user"]
    if user is None:
        raise RPCError(400, "Failed to add user, executor is nil")
    await require_colony(call.ctx, user["colonyname"])
    await require_colony_owner(call.ctx, call.rid, user["colonyname"])
    if not user["name"] or not user["userid"]:
        raise RPCError(400, "Failed to add user, name and userid are required")
    store = call.ctx.store
    if await store.get_user_by_id(user["colonyname"], user["userid"]) is not None:
        raise RPCError(
            400,
            f"A user with Id <{user['userid']}> already exists in Colony with name <{user['colonyname']}>",
        )
    if not await store.add_user(user):
        raise RPCError(
            400,
            f"A user with name <{user['name']}> already exists in Colony with name <{user['colonyname']}>",
        )
    return user


@handler("getusersmsg", ColonyNameMsg, "get users")
async def get_users(call: Call, msg: ColonyNameMsg) -> Any:
    await require_colony(call.ctx, msg["colonyname"])
    await require_member(call.ctx, call.rid, msg["colonyname"], approved=False)
    return await call.ctx.store.list_users(msg["colonyname"]) or None


@handler("getusermsg", UserNameMsg, "get user")
async def get_user(call: Call, msg: UserNameMsg) -> Any:
    await require_colony(call.ctx, msg["colonyname"])
    await require_member(call.ctx, call.rid, msg["colonyname"], approved=False)
    user = await call.ctx.store.get_user(msg["colonyname"], msg["name"])
    if user is None:
        raise RPCError(500, "Failed to get user, user is nil")
    return user


@handler("getuserbyidmsg", GetUserByIdMsg, "get user by ID")
async def get_user_by_id(call: Call, msg: GetUserByIdMsg) -> Any:
    await require_colony(call.ctx, msg["colonyname"])
    await require_member(call.ctx, call.rid, msg["colonyname"], approved=False)
    user = await call.ctx.store.get_user_by_id(msg["colonyname"], msg["userid"])
    if user is None:
        raise RPCError(404, "Failed to get user by ID, user is nil")
    return user


@handler("removeusermsg", UserNameMsg, "remove user")
async def remove_user(call: Call, msg: UserNameMsg) -> Any:
    await require_colony(call.ctx, msg["colonyname"])
    await require_colony_owner(call.ctx, call.rid, msg["colonyname"])
    if not await call.ctx.store.remove_user(msg["colonyname"], msg["name"]):
        raise RPCError(400, f"User with name <{msg['name']}> not found")
    return {}


@handler("changeuseridmsg", ChangeUserIdMsg, "change user Id")
async def change_user_id(call: Call, msg: ChangeUserIdMsg) -> Any:
    if not msg["userid"]:
        raise RPCError(400, "Failed to change user Id, user Id is empty")
    member = await require_member(call.ctx, call.rid, msg["colonyname"], approved=False)
    if member.user is None:
        raise RPCError(400, "Failed to change user Id, user not found")
    if len(msg["userid"]) != 64:
        raise RPCError(400, "Failed to change user Id, new user Id is not 64 characters")
    await call.ctx.store.change_user_id(msg["colonyname"], call.rid, msg["userid"])
    return dict(msg)
