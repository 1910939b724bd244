"""Who may do what (protocol core/00-overview.md section 8): server owner, colony owner, member.

Passing the member check as an executor also counts as hearing from it (:func:`mark_alive`): any
signed request of an executor refreshes its ``lastheardfromtime``, not only assign (the liveness
extension, docs/compatibility.md "Executor liveness")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..rpc import RPCError
from .context import ServerContext

__all__ = [
    "APPROVED",
    "Member",
    "mark_alive",
    "require_colony",
    "require_colony_owner",
    "require_member",
    "require_member_or_owner",
    "require_server_owner",
]

APPROVED = 1
NS = 1_000_000_000


@dataclass(slots=True)
class Member:
    """A signer that passed a membership check: an executor of the colony or a user of it."""

    id: str
    name: str
    executor: dict[str, Any] | None = None
    user: dict[str, Any] | None = None


async def mark_alive(ctx: ServerContext, executorid: str) -> None:
    """Record that the executor was heard from (written at most once a second)."""
    now = ctx.now()
    if now - ctx.heard.get(executorid, 0) >= NS:
        ctx.heard[executorid] = now
        await ctx.store.touch_executor(executorid, now)


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
        await mark_alive(ctx, rid)
        return Member(rid, executor["executorname"], executor=executor)
    user = await ctx.store.get_user_by_id(colonyname, rid)
    if user is not None:
        return Member(rid, user["name"], user=user)
    if await ctx.store.get_colony(colonyname) is None:
        raise RPCError(status, f"Colony with name <{colonyname}> does not exists")
    raise RPCError(status, f"Access denied, not a member of Colony with name <{colonyname}>")


async def require_member_or_owner(ctx: ServerContext, rid: str, colonyname: str) -> Member | None:
    """A member of the colony (returned), or else its owner (None); the owner check's error otherwise."""
    try:
        return await require_member(ctx, rid, colonyname)
    except RPCError:
        await require_colony_owner(ctx, rid, colonyname)
        return None
