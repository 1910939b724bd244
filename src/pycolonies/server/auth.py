"""Who may do what (protocol core/00-overview.md section 8): server owner, colony owner, member."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..rpc import RPCError
from .context import ServerContext

__all__ = [
    "APPROVED",
    "Member",
    "require_colony",
    "require_colony_owner",
    "require_member",
    "require_server_owner",
]

APPROVED = 1


@dataclass(slots=True)
class Member:
    """A signer that passed a membership check: an executor of the colony or a user of it."""

    id: str
    name: str
    executor: dict[str, Any] | None = None
    user: dict[str, Any] | None = None


async def require_server_owner(ctx: ServerContext, rid: str) -> None:
    serverid = await ctx.store.get_server_id()
    if serverid is None:
        raise RPCError(500, "Failed to get server Id")
    if rid != serverid:
        raise RPCError(403, "Access denied, not server owner")


async def require_colony(ctx: ServerContext, colonyname: str, status: int = 400) -> dict[str, Any]:
    colony = await ctx.store.get_colony(colonyname)
    if colony is None:
        raise RPCError(status, f"Colony with name <{colonyname}> does not exists")
    return colony


async def require_colony_owner(ctx: ServerContext, rid: str, colonyname: str, status: int = 403) -> dict[str, Any]:
    if not colonyname:
        raise RPCError(status, "Empty Colony name")
    colony = await ctx.store.get_colony(colonyname)
    if colony is None:
        raise RPCError(status, f"Colony with name <{colonyname}> does not exists")
    if colony["colonyid"] != rid:
        raise RPCError(status, "Access denied, not colony owner")
    return colony


async def require_member(
    ctx: ServerContext, rid: str, colonyname: str, *, approved: bool = True, status: int = 403
) -> Member:
    executor = await ctx.store.get_executor_by_id(rid, colonyname)
    if executor is not None and (not approved or executor["state"] == APPROVED):
        return Member(rid, executor["executorname"], executor=executor)
    user = await ctx.store.get_user_by_id(colonyname, rid)
    if user is not None:
        return Member(rid, user["name"], user=user)
    if await ctx.store.get_colony(colonyname) is None:
        raise RPCError(status, f"Colony with name <{colonyname}> does not exists")
    raise RPCError(status, f"Access denied, not a member of Colony with name <{colonyname}>")
