"""Blueprint messages (protocol ext/20-blueprints.md): definitions (colony owner), blueprints (add,
get, list, update, remove), status updates, history and reconcile. The wire forms, schema
validation, generation rule and the processes and crons made for a kind's handler are in
``pycolonies.server.blueprints``."""

from __future__ import annotations

import logging
from typing import Any

from ...messages import (
    AddBlueprintDefinitionMsg,
    AddBlueprintMsg,
    GetBlueprintDefinitionMsg,
    GetBlueprintDefinitionsMsg,
    GetBlueprintHistoryMsg,
    GetBlueprintsMsg,
    NamespaceNameMsg,
    ReconcileBlueprintMsg,
    UpdateBlueprintMsg,
    UpdateBlueprintStatusMsg,
)
from ...rpc import RPCError
from .. import blueprints as bp
from ..auth import require_colony_owner, require_member, require_member_or_owner
from ..context import ServerContext, new_id
from ..encode import process_wire
from ..triggers import resolve_initiator
from . import Call, handler

log = logging.getLogger("pycolonies.server.blueprints")


async def _definition_for(ctx: ServerContext, colonyname: str, kind: str) -> dict[str, Any]:
    """Add/update steps 4 and 5: the colony's first definition (by name) of ``kind``."""
    if not kind:
        raise RPCError(400, "blueprint kind is required")
    definition = await ctx.store.find_blueprint_definition(colonyname, kind)
    if definition is None:
        raise RPCError(400, f"BlueprintDefinition for kind '{kind}' not found in namespace '{colonyname}'")
    return definition


def _handler_of(definition: dict[str, Any] | None) -> dict[str, Any]:
    return (definition or {}).get("spec", {}).get("handler", {})


# -- definitions ------------------------------------------------------------------------------------


@handler("addblueprintdefinitionmsg", AddBlueprintDefinitionMsg, "add blueprint definition")
async def add_definition(call: Call, msg: AddBlueprintDefinitionMsg) -> Any:
    d = msg["blueprintdefinition"]
    if d is None:
        raise RPCError(400, "Failed to add blueprint definition, blueprint definition is nil")
    colonyname, name = d["metadata"]["colonyname"], d["metadata"]["name"]
    await require_colony_owner(call.ctx, call.rid, colonyname)
    if not d["blueprintdefinitionid"]:
        d["blueprintdefinitionid"] = new_id()
    definition = bp.definition_wire(d)
    if not await call.ctx.store.add_blueprint_definition(definition):
        raise RPCError(
            500,
            "duplicate key value violates unique constraint: a blueprint definition named "
            f"'{name}' (or with id {d['blueprintdefinitionid']}) already exists in colony '{colonyname}'",
        )
    return definition


@handler("getblueprintdefinitionmsg", GetBlueprintDefinitionMsg, "get blueprint definition")
async def get_definition(call: Call, msg: GetBlueprintDefinitionMsg) -> Any:
    await require_member_or_owner(call.ctx, call.rid, msg["colonyname"])
    definition = await call.ctx.store.get_blueprint_definition(msg["colonyname"], msg["name"])
    if definition is None:
        raise RPCError(404, "Blueprint definition not found")
    return definition


@handler("getblueprintdefinitionsmsg", GetBlueprintDefinitionsMsg, "get blueprint definitions")
async def get_definitions(call: Call, msg: GetBlueprintDefinitionsMsg) -> Any:
    await require_member_or_owner(call.ctx, call.rid, msg["colonyname"])
    return await call.ctx.store.list_blueprint_definitions(msg["colonyname"])  # [] when empty


@handler("removeblueprintdefinitionmsg", NamespaceNameMsg, "remove blueprint definition")
async def remove_definition(call: Call, msg: NamespaceNameMsg) -> Any:
    ctx, namespace, name = call.ctx, msg["namespace"], msg["name"]
    await require_colony_owner(ctx, call.rid, namespace)
    definition = await ctx.store.get_blueprint_definition(namespace, name)
    if definition is None:
        raise RPCError(404, f"BlueprintDefinition '{name}' not found in namespace '{namespace}'")
    kind = definition["spec"]["names"]["kind"]
    count = await ctx.store.count_blueprints(namespace, kind)
    if count:
        raise RPCError(
            409, f"cannot remove BlueprintDefinition '{name}': {count} blueprint(s) of kind '{kind}' still exist"
        )
    await ctx.store.remove_blueprint_definition(namespace, name)
    return {}


# -- blueprints -------------------------------------------------------------------------------------


@handler("addblueprintmsg", AddBlueprintMsg, "add blueprint")
async def add_blueprint(call: Call, msg: AddBlueprintMsg) -> Any:
    ctx, b = call.ctx, msg["blueprint"]
    if b is None:
        raise RPCError(400, "Failed to add blueprint, blueprint is nil")
    meta = b["metadata"]
    colonyname, name, location = meta["colonyname"], meta["name"], meta["locationname"]
    await require_member_or_owner(ctx, call.rid, colonyname)
    if not b["blueprintid"]:
        b["blueprintid"] = new_id()
    blueprint = bp.blueprint_wire(b, "add blueprint")
    definition = await _definition_for(ctx, colonyname, b["kind"])
    bp.validate_spec(b["spec"], definition["spec"].get("schema"))
    if await ctx.store.get_blueprint(colonyname, name) is not None:
        raise RPCError(409, f"blueprint with name '{name}' already exists in colony '{colonyname}'")
    created_location = False
    if location and await ctx.store.get_location(colonyname, location) is None:
        created_location = await ctx.store.add_location(
            {
                "locationid": new_id(),
                "name": location,
                "colonyname": colonyname,
                "description": f"Auto-created from blueprint {name}",
                "long": 0.0,
                "lat": 0.0,
            }
        )
    stored = bp.stored_form(blueprint)
    if not await ctx.store.add_blueprint(stored):
        if created_location:
            await ctx.store.remove_location(colonyname, location)
        raise RPCError(409, f"blueprint with name '{name}' already exists in colony '{colonyname}'")
    now = ctx.now()
    await ctx.store.add_blueprint_history(bp.history_entry(stored, call.rid, "create", now), now)
    handler_spec = _handler_of(definition)
    if handler_spec.get("executorType") and handler_spec.get("functionName"):
        initiatorname = await resolve_initiator(ctx, call.rid, colonyname) or ""
        try:
            await bp.ensure_cron(ctx, stored, handler_spec, call.rid, initiatorname)
        except Exception as exc:
            await ctx.store.remove_blueprint(colonyname, name)
            raise RPCError(500, f"failed to create reconciliation cron: {exc}") from None
        try:
            await bp.submit_reconcile(ctx, stored, handler_spec, call.rid, initiatorname)
        except RPCError as exc:
            raise RPCError(500, f"blueprint created but failed to submit reconciliation process: {exc}") from None
    return blueprint


@handler("getblueprintmsg", NamespaceNameMsg, "get blueprint")
async def get_blueprint(call: Call, msg: NamespaceNameMsg) -> Any:
    await require_member_or_owner(call.ctx, call.rid, msg["namespace"])
    blueprint = await call.ctx.store.get_blueprint(msg["namespace"], msg["name"])
    if blueprint is None:
        raise RPCError(404, "Blueprint not found")
    return bp.stored_form(blueprint)


@handler("getblueprintsmsg", GetBlueprintsMsg, "get blueprints")
async def get_blueprints(call: Call, msg: GetBlueprintsMsg) -> Any:
    await require_member_or_owner(call.ctx, call.rid, msg["namespace"])
    found = await call.ctx.store.list_blueprints(msg["namespace"], msg["kind"], msg["locationname"])
    return [bp.stored_form(b) for b in found] or None


@handler("updateblueprintmsg", UpdateBlueprintMsg, "update blueprint")
async def update_blueprint(call: Call, msg: UpdateBlueprintMsg) -> Any:
    ctx, b = call.ctx, msg["blueprint"]
    if b is None:
        raise RPCError(400, "Failed to update blueprint, blueprint is nil")
    colonyname, name = b["metadata"]["colonyname"], b["metadata"]["name"]
    blueprint = bp.blueprint_wire(b, "update blueprint")
    await require_member_or_owner(ctx, call.rid, colonyname)
    existing = await ctx.store.get_blueprint(colonyname, name)
    if existing is None:
        raise RPCError(404, f"blueprint '{name}' not found in namespace '{colonyname}'")
    definition = await _definition_for(ctx, colonyname, b["kind"])
    bp.validate_spec(b["spec"], definition["spec"].get("schema"))
    blueprint["blueprintid"] = existing["blueprintid"]
    generation = existing["metadata"].get("generation", 0)
    bumped = bp.spec_changed(existing.get("spec"), blueprint["spec"]) or msg["forcegeneration"]
    if bumped:
        generation += 1
    meta = blueprint["metadata"]
    meta.pop("generation", None)
    if generation:  # keep the key order of the wire form: generation sits before createdAt
        blueprint["metadata"] = meta = _with_generation(meta, generation)
    stored = bp.stored_form(blueprint)
    if not await ctx.store.replace_blueprint(stored):
        raise RPCError(404, f"blueprint '{name}' not found in namespace '{colonyname}'")
    if bumped:
        now = ctx.now()
        await ctx.store.add_blueprint_history(bp.history_entry(stored, call.rid, "update", now), now)
        initiatorname = await resolve_initiator(ctx, call.rid, colonyname)
        handler_spec = _handler_of(definition)
        if initiatorname is not None and handler_spec.get("executorType") and handler_spec.get("functionName"):
            try:
                await bp.submit_reconcile(ctx, stored, handler_spec, call.rid, initiatorname)
            except RPCError as exc:
                log.warning("blueprint %s of colony %s: reconcile process not submitted: %s", name, colonyname, exc)
    return stored


def _with_generation(meta: dict[str, Any], generation: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if key == "createdAt":
            out["generation"] = generation
        out[key] = value
    return out


@handler("removeblueprintmsg", NamespaceNameMsg, "remove blueprint")
async def remove_blueprint(call: Call, msg: NamespaceNameMsg) -> Any:
    ctx, namespace, name = call.ctx, msg["namespace"], msg["name"]
    await require_member_or_owner(ctx, call.rid, namespace)
    existing = await ctx.store.get_blueprint(namespace, name)
    if existing is None or not await ctx.store.remove_blueprint(namespace, name):
        raise RPCError(404, "Blueprint not found")
    kind, location = existing["kind"], existing["metadata"].get("locationname", "")
    try:
        if await ctx.store.count_blueprints(namespace, kind, location) == 0:
            await bp.remove_cron(ctx, namespace, kind, location)
    except Exception:
        log.exception("blueprint %s of colony %s: reconcile cron not removed", name, namespace)
    # Upstream takes the first definition of the kind in any colony; ours is the colony's own.
    definition = await ctx.store.find_blueprint_definition(namespace, kind)
    executortype = _handler_of(definition).get("executorType", "")
    if executortype:
        initiatorname = await resolve_initiator(ctx, call.rid, namespace) or ""
        try:
            await bp.submit_cleanup(ctx, existing, namespace, executortype, call.rid, initiatorname)
        except RPCError as exc:
            log.warning("blueprint %s of colony %s: cleanup process not submitted: %s", name, namespace, exc)
    return {}


@handler("getblueprinthistorymsg", GetBlueprintHistoryMsg, "get blueprint history")
async def get_history(call: Call, msg: GetBlueprintHistoryMsg) -> Any:
    blueprint = await call.ctx.store.get_blueprint_by_id(msg["blueprintid"])
    if blueprint is None:
        raise RPCError(404, "Blueprint not found")
    await require_member_or_owner(call.ctx, call.rid, blueprint["metadata"]["colonyname"])
    return await call.ctx.store.blueprint_history(msg["blueprintid"], msg["limit"]) or None


@handler("updateblueprintstatusmsg", UpdateBlueprintStatusMsg, "update blueprint status")
async def update_status(call: Call, msg: UpdateBlueprintStatusMsg) -> Any:
    await require_member(call.ctx, call.rid, msg["colonyname"])
    status = bp.go_json(msg["status"])
    if not await call.ctx.store.set_blueprint_status(msg["colonyname"], msg["blueprintname"], status):
        raise RPCError(404, "Blueprint not found")
    return {}


@handler("reconcileblueprintmsg", ReconcileBlueprintMsg, "reconcile blueprint")
async def reconcile(call: Call, msg: ReconcileBlueprintMsg) -> Any:
    ctx, namespace, name = call.ctx, msg["namespace"], msg["name"]
    await require_member(ctx, call.rid, namespace)
    blueprint = await ctx.store.get_blueprint(namespace, name)
    if blueprint is None:
        raise RPCError(404, "Blueprint not found")
    if msg["force"]:  # persists even when the checks below fail, as upstream
        meta = blueprint["metadata"]
        generation = meta.pop("generation", 0) + 1
        blueprint["metadata"] = _with_generation(meta, generation)
        await ctx.store.replace_blueprint(blueprint)
    initiatorname = await resolve_initiator(ctx, call.rid, namespace)
    if initiatorname is None:
        raise RPCError(500, "Could not derive InitiatorName")
    # Upstream takes the first definition of the kind in any colony; ours is the colony's own.
    definition = await ctx.store.find_blueprint_definition(namespace, blueprint["kind"])
    handler_spec = _handler_of(definition)
    if not handler_spec.get("executorType"):
        raise RPCError(400, "Blueprint has no handler with executor type defined")
    if not handler_spec.get("functionName"):
        raise RPCError(400, "Blueprint has no handler with function name defined")
    process = await bp.submit_reconcile(ctx, blueprint, handler_spec, call.rid, initiatorname, force=msg["force"])
    return process_wire(process)
