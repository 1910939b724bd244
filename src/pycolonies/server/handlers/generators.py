"""Generator messages (protocol ext/30-crons-generators.md section 5.2): add, get, resolve by name,
list, pack an argument, remove."""

from __future__ import annotations

from typing import Any

from ...messages import (
    AddGeneratorMsg,
    GeneratorIdMsg,
    GetGeneratorsMsg,
    PackGeneratorMsg,
    RemoveGeneratorMsg,
    ResolveGeneratorMsg,
)
from ...rpc import RPCError
from ...timefmt import format_ns
from ..auth import require_member
from ..context import new_id
from ..triggers import admit_trigger, found_for_member, resolve_initiator
from . import Call, handler

__all__ = ["generator_wire"]


def generator_wire(g: dict[str, Any], queuesize: int = 0, checkerperiod: int = 0) -> dict[str, Any]:
    return {
        "generatorid": g["generatorid"],
        "initiatorid": g["initiatorid"],
        "initiatorname": g["initiatorname"],
        "colonyname": g["colonyname"],
        "name": g["name"],
        "workflowspec": g["workflowspec"],
        "trigger": g["trigger"],
        "timeout": g["timeout"],
        "firstpack": format_ns(g["firstpack"]),
        "lastrun": format_ns(g["lastrun"]),
        "queuesize": queuesize,
        "checkerperiod": checkerperiod,
    }


async def _found(call: Call, msg: GeneratorIdMsg | PackGeneratorMsg | RemoveGeneratorMsg, error: str) -> dict[str, Any]:
    """The generator ``msg`` names, once the signer is shown to be a member of its colony."""
    return await found_for_member(call.ctx, call.rid, await call.ctx.store.get_generator(msg["generatorid"]), error)


@handler("addgeneratormsg", AddGeneratorMsg, "add generator")
async def add_generator(call: Call, msg: AddGeneratorMsg) -> Any:
    ctx = call.ctx
    generator, _ = await admit_trigger(ctx, call.rid, msg["generator"], "generator")
    colonyname = generator["colonyname"]
    if generator["trigger"] < 1:
        raise RPCError(400, f"Generator trigger must be larger than 0, got {generator['trigger']}")
    initiatorname = await resolve_initiator(ctx, call.rid, colonyname)
    if initiatorname is None:
        raise RPCError(500, "Failed to resolve initiator")
    record = {
        "generatorid": new_id(),
        "initiatorid": call.rid,
        "initiatorname": initiatorname,
        "colonyname": colonyname,
        "name": generator["name"],
        "workflowspec": generator["workflowspec"],
        "trigger": generator["trigger"],
        "timeout": generator["timeout"],
        "firstpack": 0,
        "lastrun": 0,
    }
    if not await ctx.store.add_generator(record):
        raise RPCError(400, f"Generator with name <{generator['name']}> in Colony <{colonyname}> already exists")
    return generator_wire(record)


@handler("getgeneratormsg", GeneratorIdMsg, "get generator")
async def get_generator(call: Call, msg: GeneratorIdMsg) -> Any:
    ctx = call.ctx
    generator = await _found(call, msg, "Failed to get generator, generator is nil")
    queuesize = await ctx.store.count_generator_args(generator["generatorid"])
    return generator_wire(generator, queuesize, ctx.config.generator_checker_period_ms)


@handler("resolvegeneratormsg", ResolveGeneratorMsg, "resolve generator")
async def resolve_generator(call: Call, msg: ResolveGeneratorMsg) -> Any:
    generator = await found_for_member(
        call.ctx,
        call.rid,
        await call.ctx.store.get_generator_by_name(msg["colonyname"], msg["generatorname"]),
        "Failed to resolve generator, generator is nil",
    )
    return generator_wire(generator)


@handler("getgeneratorsmsg", GetGeneratorsMsg, "get generators")
async def get_generators(call: Call, msg: GetGeneratorsMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"])
    if msg["count"] < 0:
        raise RPCError(400, "Failed to get generators, count must not be negative")
    generators = await call.ctx.store.list_generators(msg["colonyname"], msg["count"])
    return [generator_wire(g) for g in generators] or None


@handler("packgeneratormsg", PackGeneratorMsg, "inc generator", mismatch_verb="increment generator")
async def pack_generator(call: Call, msg: PackGeneratorMsg) -> Any:
    ctx = call.ctx
    generator = await _found(call, msg, "Failed to increment generator, generator is nil")
    arg = {
        "argid": new_id(),
        "generatorid": generator["generatorid"],
        "colonyname": generator["colonyname"],
        "arg": msg["arg"],
    }
    await ctx.store.pack_generator(arg, ctx.now())
    return {}


@handler("removegeneratormsg", RemoveGeneratorMsg, "remove generator")
async def remove_generator(call: Call, msg: RemoveGeneratorMsg) -> Any:
    generator = await _found(call, msg, "Failed to remove generator, generator is nil")
    await call.ctx.store.remove_generator(generator["generatorid"])
    return {}
