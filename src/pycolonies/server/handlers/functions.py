"""Function registry messages: add, list, remove."""

from __future__ import annotations

from typing import Any

from ...messages import AddFunctionMsg, GetFunctionsMsg, RemoveFunctionMsg
from ...rpc import RPCError
from ..auth import require_member
from ..context import new_id
from . import Call, handler


def function_wire(fn: dict[str, Any]) -> dict[str, Any]:
    out = {k: fn[k] for k in ("functionid", "executorname", "executortype", "colonyname", "funcname")}
    if fn.get("description"):
        out["description"] = fn["description"]
    if fn.get("args"):
        out["args"] = fn["args"]
    for key in (
        "counter",
        "minwaittime",
        "maxwaittime",
        "minexectime",
        "maxexectime",
        "avgwaittime",
        "avgexectime",
    ):
        out[key] = fn.get(key, 0)
    if fn.get("locationname"):
        out["locationname"] = fn["locationname"]
    return out


@handler("addfunctionmsg", AddFunctionMsg, "add function")
async def add_function(call: Call, msg: AddFunctionMsg) -> Any:
    fn = msg["fun"]
    if fn is None:
        raise RPCError(400, "Failed to add function, msg.Function is nil")
    ctx = call.ctx
    await require_member(ctx, call.rid, fn["colonyname"])
    executor = await ctx.store.get_executor(fn["colonyname"], fn["executorname"])
    if executor is None:
        raise RPCError(400, f"Failed to add function, Executor with name <{fn['executorname']}> does not exist")
    if executor["executorid"] != call.rid:
        raise RPCError(403, "Not allowed to add a function to another executor")
    if not fn["funcname"]:
        raise RPCError(400, "Failed to add function, funcname is empty")
    record = dict(fn)
    record["functionid"] = fn["functionid"] or new_id()
    record["locationname"] = executor["locationname"]
    if not await ctx.store.add_function(record, ctx.now()):
        raise RPCError(400, f"Failed to add function, a function with Id <{record['functionid']}> already exists")
    return function_wire(record)


@handler("getfunctionsmsg", GetFunctionsMsg, "get functions")
async def get_functions(call: Call, msg: GetFunctionsMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"])
    functions = await call.ctx.store.list_functions(msg["colonyname"], msg["executorname"])
    return [function_wire(f) for f in functions] or None


@handler("removefunctionmsg", RemoveFunctionMsg, "remove function")
async def remove_function(call: Call, msg: RemoveFunctionMsg) -> Any:
    if not msg["functionid"]:
        raise RPCError(400, "Failed to remove function, msg.FunctionID is empty")
    ctx = call.ctx
    fn = await ctx.store.get_function(msg["functionid"])
    if fn is None:
        raise RPCError(404, "Failed to remove function, function does not exist")
    await require_member(ctx, call.rid, fn["colonyname"])
    executor = await ctx.store.get_executor(fn["colonyname"], fn["executorname"])
    if executor is None or executor["executorid"] != call.rid:
        raise RPCError(403, "Not allowed to remove a function from another executor")
    await ctx.store.remove_function(msg["functionid"])
    return {}
