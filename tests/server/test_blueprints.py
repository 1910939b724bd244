"""Blueprints (protocol ext/20-blueprints.md) against the real server with raw calls: definitions,
blueprints, schema validation, generations, history, status, reconcile, and the processes,
crons and locations the server creates for a kind's handler."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from pycolonies.crypto import generate_prvkey, id_of

from ..conftest import Env
from .proc_helpers import call_ok, expect_error
from .raw import raw_call
from .rpc_helpers import ZERO_TIME, not_member

HANDLER_TYPE = "light-reconciler"
ZERO_TIMES = {"createdAt": ZERO_TIME, "updatedAt": ZERO_TIME, "lastReconciliationTime": ZERO_TIME}


def definition(env: Env, kind: str = "Light", name: str = "lights", **spec: Any) -> dict[str, Any]:
    return {
        "kind": "BlueprintDefinition",
        "metadata": {"name": name, "colonyname": env.colonyname},
        "spec": {
            "group": "home.example.com",
            "version": "v1",
            "names": {"kind": kind, "listKind": kind + "List", "singular": kind.lower(), "plural": kind.lower() + "s"},
            "scope": "Namespaced",
            "handler": {"executorType": HANDLER_TYPE, "functionName": "reconcile"},
            **spec,
        },
    }


SCHEMA = {
    "type": "object",
    "properties": {
        "power": {"type": "boolean"},
        "brightness": {"type": "number", "minimum": 0},
        "mode": {"type": "string", "enum": ["day", "night", 3]},
        "count": {"type": "integer", "default": 1},
        "color": {
            "type": "object",
            "properties": {"r": {"type": "number"}, "name": {"type": "string", "required": ["x"]}},
        },
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["power"],
}


def blueprint(env: Env, name: str = "kitchen", kind: str = "Light", location: str = "", **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "colonyname": env.colonyname}
    if location:
        metadata["locationname"] = location
    return {"kind": kind, "metadata": metadata, "spec": {"power": True, **spec}}


def add_definition(env: Env, **kw: Any) -> dict[str, Any]:
    return call_ok(  # type: ignore[no-any-return]
        env, {"msgtype": "addblueprintdefinitionmsg", "blueprintdefinition": definition(env, **kw)}, env.colony_prvkey
    )


def add(env: Env, b: dict[str, Any], key: str | None = None) -> tuple[int, Any]:
    return raw_call(env.server, {"msgtype": "addblueprintmsg", "blueprint": b}, key or env.user_prvkey)


def get(env: Env, name: str, key: str | None = None) -> tuple[int, Any]:
    msg = {"msgtype": "getblueprintmsg", "namespace": env.colonyname, "name": name}
    return raw_call(env.server, msg, key or env.user_prvkey)


def update(env: Env, b: dict[str, Any], force: bool = False, key: str | None = None) -> tuple[int, Any]:
    msg = {"msgtype": "updateblueprintmsg", "blueprint": b, "forcegeneration": force}
    return raw_call(env.server, msg, key or env.user_prvkey)


def processes(env: Env) -> list[dict[str, Any]]:
    """The colony's WAITING processes, oldest first."""
    msg = {"msgtype": "getprocessesmsg", "colonyname": env.colonyname, "count": 100, "state": 0}
    found = call_ok(env, msg, env.user_prvkey) or []
    return sorted(found, key=lambda p: p["submissiontime"])


def crons(env: Env) -> list[dict[str, Any]]:
    return call_ok(env, {"msgtype": "getcronsmsg", "colonyname": env.colonyname, "count": 100}, env.user_prvkey)  # type: ignore[no-any-return]


def history(env: Env, blueprintid: str, limit: int = 0) -> Any:
    return call_ok(env, {"msgtype": "getblueprinthistorymsg", "blueprintid": blueprintid, "limit": limit})


# -- definitions -----------------------------------------------------------------------------------


def test_definition_crud_and_wire_form(env: Env) -> None:
    d = definition(env, schema=SCHEMA)
    d["spec"]["handler"]["reconcileInterval"] = 30
    d["unknown"] = 1
    added = call_ok(env, {"msgtype": "addblueprintdefinitionmsg", "blueprintdefinition": d}, env.colony_prvkey)
    assert re.fullmatch(r"[0-9a-f]{64}", added["blueprintdefinitionid"])
    expected = copy.deepcopy(d)
    del expected["unknown"]
    expected["blueprintdefinitionid"] = added["blueprintdefinitionid"]
    expected["metadata"].update(ZERO_TIMES)
    props = expected["spec"]["schema"]["properties"]
    del props["brightness"]["minimum"], props["color"]["properties"]["name"]["required"]  # not kept
    assert added == expected
    get_msg = {"msgtype": "getblueprintdefinitionmsg", "colonyname": env.colonyname, "name": "lights"}
    for key in (env.user_prvkey, env.executor_prvkey, env.colony_prvkey):  # members and the owner
        assert call_ok(env, get_msg, key) == added
        listed = call_ok(env, {"msgtype": "getblueprintdefinitionsmsg", "colonyname": env.colonyname}, key)
        assert listed == [added]
    remove = {"msgtype": "removeblueprintdefinitionmsg", "namespace": env.colonyname, "name": "lights"}
    expect_error(raw_call(env.server, remove, env.user_prvkey), 403, "Access denied, not colony owner")
    assert call_ok(env, remove, env.colony_prvkey) == {}
    expect_error(raw_call(env.server, get_msg, env.user_prvkey), 404, "Blueprint definition not found")
    assert call_ok(env, {"msgtype": "getblueprintdefinitionsmsg", "colonyname": env.colonyname}) == []
    expect_error(
        raw_call(env.server, remove, env.colony_prvkey),
        404,
        f"BlueprintDefinition 'lights' not found in namespace '{env.colonyname}'",
    )


def test_definition_rules(env: Env) -> None:
    msg = {"msgtype": "addblueprintdefinitionmsg", "blueprintdefinition": None}
    expect_error(
        raw_call(env.server, msg, env.colony_prvkey),
        400,
        "Failed to add blueprint definition, blueprint definition is nil",
    )
    d = definition(env)
    msg["blueprintdefinition"] = d
    for key in (env.user_prvkey, env.executor_prvkey):
        expect_error(raw_call(env.server, msg, key), 403, "Access denied, not colony owner")
    d["blueprintdefinitionid"] = "my-own-id"
    d["spec"]["handler"] = {"executortype": "lower-case-key-works"}  # keys match case-insensitively
    added = call_ok(env, msg, env.colony_prvkey)
    assert added["blueprintdefinitionid"] == "my-own-id"
    assert added["spec"]["handler"] == {"executorType": "lower-case-key-works", "functionName": ""}
    d["blueprintdefinitionid"] = ""
    status, reply = raw_call(env.server, msg, env.colony_prvkey)
    assert status == 500 and "duplicate key value violates unique constraint" in reply["message"]
    bare = {"kind": "K", "metadata": {"name": "bare", "colonyname": env.colonyname}, "spec": {"names": {"kind": "K"}}}
    added = call_ok(env, {**msg, "blueprintdefinition": bare}, env.colony_prvkey)  # no structural checks
    assert added["spec"] == {
        "group": "",
        "version": "",
        "names": {"kind": "K", "listKind": "", "singular": "", "plural": ""},
        "scope": "",
        "handler": {"executorType": "", "functionName": ""},
    }


def test_a_definition_in_use_cannot_be_removed(env: Env) -> None:
    add_definition(env)
    assert add(env, blueprint(env))[0] == 200
    remove = {"msgtype": "removeblueprintdefinitionmsg", "namespace": env.colonyname, "name": "lights"}
    expect_error(
        raw_call(env.server, remove, env.colony_prvkey),
        409,
        "cannot remove BlueprintDefinition 'lights': 1 blueprint(s) of kind 'Light' still exist",
    )


# -- add -------------------------------------------------------------------------------------------


def test_add_creates_location_cron_and_reconcile_process(env: Env) -> None:
    add_definition(env)
    b = blueprint(env, location="hall", brightness=2.0)
    b["handler"] = {"executortype": "ignored"}  # not a blueprint field: dropped
    status, added = add(env, b)
    assert status == 200, added
    assert re.fullmatch(r"[0-9a-f]{64}", added["blueprintid"])
    assert added == {
        "blueprintid": added["blueprintid"],
        "kind": "Light",
        "metadata": {"name": "kitchen", "colonyname": env.colonyname, "locationname": "hall", **ZERO_TIMES},
        "spec": {"power": True, "brightness": 2},
    }
    assert get(env, "kitchen") == (200, added)
    locations = call_ok(env, {"msgtype": "getlocationsmsg", "colonyname": env.colonyname})
    assert [(loc["name"], loc["description"], loc["long"], loc["lat"]) for loc in locations] == [
        ("hall", "Auto-created from blueprint kitchen", 0, 0)
    ]
    [cron] = crons(env)
    assert {k: cron[k] for k in ("name", "interval", "random", "cronexpression", "waitforprevprocessgraph")} == {
        "name": "reconcile-Light-hall",
        "interval": 60,
        "random": False,
        "cronexpression": "",
        "waitforprevprocessgraph": True,
    }
    assert (cron["initiatorid"], cron["initiatorname"]) == (id_of(env.user_prvkey), env.username)
    workflow = json.loads(cron["workflowspec"])
    assert workflow["colonyname"] == env.colonyname
    [fs] = workflow["functionspecs"]
    assert (fs["nodename"], fs["funcname"], fs["kwargs"]) == (
        f"{HANDLER_TYPE}-reconcile",
        "reconcile",
        {"kind": "Light"},
    )
    assert fs["conditions"]["executortype"] == HANDLER_TYPE and fs["conditions"]["locationname"] == "hall"
    [process] = processes(env)
    spec = process["spec"]
    assert (process["initiatorid"], process["initiatorname"]) == (id_of(env.user_prvkey), env.username)
    assert (spec["nodename"], spec["funcname"], spec["kwargs"]) == (
        f"{HANDLER_TYPE}-reconcile",
        "reconcile",
        {"kind": "Light", "blueprintName": "kitchen"},
    )
    assert (spec["args"], spec["env"], spec["maxexectime"], spec["maxretries"], spec["maxwaittime"]) == (
        [],
        {},
        -1,
        -1,
        0,
    )
    assert spec["conditions"]["locationname"] == "hall" and spec["conditions"]["executortype"] == HANDLER_TYPE
    assert "channels" not in spec
    # a second blueprint of the kind at the location reuses the cron
    assert add(env, blueprint(env, "bedroom", location="hall"))[0] == 200
    assert [c["name"] for c in crons(env)] == ["reconcile-Light-hall"]
    assert len(processes(env)) == 2


def test_add_with_the_colony_owner_key(env: Env) -> None:
    add_definition(env)
    status, added = add(env, blueprint(env), env.colony_prvkey)
    assert status == 200, added
    [process] = processes(env)
    assert (process["initiatorid"], process["initiatorname"]) == (id_of(env.colony_prvkey), "")
    assert [(c["name"], c["initiatorname"]) for c in crons(env)] == [("reconcile-Light", "")]


def test_a_kind_without_handler_gets_no_process_or_cron(env: Env) -> None:
    add_definition(env, handler={"executorType": HANDLER_TYPE})  # no functionName
    assert add(env, blueprint(env))[0] == 200
    assert processes(env) == [] and crons(env) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"brightness": 1}, "required field 'power' is missing"),
        ({"power": "yes"}, "field 'power' must be a boolean, got string"),
        ({"power": None}, "field 'power' must be a boolean, got <nil>"),
        ({"power": True, "brightness": "x"}, "field 'brightness' must be a number, got string"),
        ({"power": True, "brightness": True}, "field 'brightness' must be a number, got bool"),
        ({"power": True, "mode": "dusk"}, "field 'mode' must be one of [day night 3], got dusk"),
        ({"power": True, "mode": 3}, "field 'mode' must be a string, got float64"),
        ({"power": True, "color": [1]}, "field 'color' must be a object, got []interface {}"),
        ({"power": True, "color": {"r": "red"}}, "field 'color.r' must be a number, got string"),
        ({"power": True, "tags": {"a": 1}}, "field 'tags' must be a array, got map[string]interface {}"),
        ({"power": True, "tags": ["a", 2.5]}, "field 'tags[1]' must be a string, got float64"),
    ],
)
def test_schema_validation(env: Env, spec: dict[str, Any], message: str) -> None:
    add_definition(env, schema=SCHEMA)
    b = blueprint(env)
    b["spec"] = spec
    expect_error(add(env, b), 400, f"blueprint validation failed: {message}")
    expect_error(get(env, "kitchen"), 404, "Blueprint not found")  # nothing stored
    assert processes(env) == [] and crons(env) == []


def test_schema_leniency(env: Env) -> None:
    """``integer`` is not checked, defaults are not applied, unknown keys pass, nested ``required``
    and other JSON-Schema keywords are ignored."""
    add_definition(env, schema=SCHEMA)
    b = blueprint(env, count="many", brightness=-5, extra={"x": 1}, color={"g": 1})
    status, added = add(env, b)
    assert status == 200, added
    assert "count" in added["spec"] and added["spec"]["count"] == "many"
    assert add(env, blueprint(env, "nocount"))[1]["spec"] == {"power": True}  # no default filled in


def test_add_errors_store_nothing(env: Env) -> None:
    expect_error(
        raw_call(env.server, {"msgtype": "addblueprintmsg", "blueprint": None}, env.user_prvkey),
        400,
        "Failed to add blueprint, blueprint is nil",
    )
    b = blueprint(env, location="nowhere")
    b["kind"] = ""
    expect_error(add(env, b), 400, "blueprint kind is required")
    expect_error(
        add(env, blueprint(env, kind="Unknown", location="nowhere")),
        400,
        f"BlueprintDefinition for kind 'Unknown' not found in namespace '{env.colonyname}'",
    )
    assert call_ok(env, {"msgtype": "getlocationsmsg", "colonyname": env.colonyname}) is None
    add_definition(env)
    assert add(env, blueprint(env))[0] == 200
    expect_error(
        add(env, blueprint(env)), 409, f"blueprint with name 'kitchen' already exists in colony '{env.colonyname}'"
    )
    expect_error(add(env, blueprint(env), generate_prvkey()), 403, "Access denied, not colony owner")
    assert len(processes(env)) == 1


# -- get and list ----------------------------------------------------------------------------------


def test_list_filters(env: Env) -> None:
    add_definition(env)
    add_definition(env, kind="Fan", name="fans")
    for name, kind, location in [("b", "Light", "Hall"), ("a", "Light", "yard"), ("c", "Fan", "hall")]:
        assert add(env, blueprint(env, name, kind=kind, location=location))[0] == 200

    def names(kind: str = "", location: str = "") -> Any:
        msg = {"msgtype": "getblueprintsmsg", "namespace": env.colonyname, "kind": kind, "locationname": location}
        found = call_ok(env, msg)
        return None if found is None else [b["metadata"]["name"] for b in found]

    assert names() == ["a", "b", "c"]
    assert names("Light") == ["a", "b"]
    assert names("Light", "hall") == ["b"]  # ignoring case
    assert names("", "hall") == ["a", "b", "c"]  # a location without a kind is ignored
    assert names("Nope") is None  # null when empty
    expect_error(get(env, "a", generate_prvkey()), 403, "Access denied, not colony owner")
    assert get(env, "a", env.colony_prvkey)[0] == 200


# -- update and generations ------------------------------------------------------------------------


def test_update_generations_and_history(env: Env) -> None:
    add_definition(env)
    b = blueprint(env, brightness=1)
    _, added = add(env, b)
    bid = added["blueprintid"]
    assert len(processes(env)) == 1
    same = copy.deepcopy(b)
    same["spec"]["brightness"] = 1.0  # 1 and 1.0 are equal (canonical JSON)
    same["metadata"]["labels"] = {"room": "kitchen"}  # metadata changes do not count
    same["blueprintid"] = "ignored"
    same["metadata"]["generation"] = 7  # overwritten by the server's
    status, updated = update(env, same)
    assert status == 200, updated
    assert updated["blueprintid"] == bid and "generation" not in updated["metadata"]
    assert updated["metadata"]["labels"] == {"room": "kitchen"}
    assert len(history(env, bid)) == 1 and len(processes(env)) == 1
    changed = copy.deepcopy(b)
    changed["spec"]["brightness"] = True  # true is not 1
    _, updated = update(env, changed)
    assert updated["metadata"]["generation"] == 1
    _, updated = update(env, changed, force=True)
    assert updated["metadata"]["generation"] == 2
    assert get(env, "kitchen")[1] == updated
    entries = history(env, bid)
    assert [(h["changetype"], h["generation"]) for h in entries] == [("update", 2), ("update", 1), ("create", 0)]
    first = entries[0]
    assert set(first) == {
        "historyid",
        "blueprintid",
        "kind",
        "namespace",
        "name",
        "generation",
        "spec",
        "timestamp",
        "changedby",
        "changetype",
    }
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", first["historyid"])
    assert (first["namespace"], first["name"], first["changedby"]) == (
        env.colonyname,
        "kitchen",
        id_of(env.user_prvkey),
    )
    assert first["spec"] == {"power": True, "brightness": True}
    assert [h["generation"] for h in history(env, bid, limit=2)] == [2, 1]
    reconciles = processes(env)
    assert len(reconciles) == 3  # add + two bumps
    assert reconciles[-1]["spec"]["kwargs"] == {"kind": "Light", "blueprintName": "kitchen"}


def test_update_replaces_the_document(env: Env) -> None:
    add_definition(env, schema=SCHEMA)
    b = blueprint(env)
    add(env, b)
    call_ok(
        env,
        {
            "msgtype": "updateblueprintstatusmsg",
            "colonyname": env.colonyname,
            "blueprintname": "kitchen",
            "status": {"on": 1},
        },
        env.executor_prvkey,
    )
    assert get(env, "kitchen")[1]["status"] == {"on": 1}
    _, updated = update(env, b)  # the status was left out: cleared
    assert "status" not in updated and "status" not in get(env, "kitchen")[1]
    bad = copy.deepcopy(b)
    bad["spec"]["power"] = "on"
    expect_error(update(env, bad), 400, "blueprint validation failed: field 'power' must be a boolean, got string")
    missing = blueprint(env, "nowhere")
    expect_error(update(env, missing), 404, f"blueprint 'nowhere' not found in namespace '{env.colonyname}'")
    expect_error(
        raw_call(env.server, {"msgtype": "updateblueprintmsg", "blueprint": None}, env.user_prvkey),
        400,
        "Failed to update blueprint, blueprint is nil",
    )


# -- status, reconcile, remove ---------------------------------------------------------------------


def test_status_updates(env: Env) -> None:
    add_definition(env)
    add(env, blueprint(env))

    def set_status(status: Any, key: str) -> tuple[int, Any]:
        msg = {
            "msgtype": "updateblueprintstatusmsg",
            "colonyname": env.colonyname,
            "blueprintname": "kitchen",
            "status": status,
        }
        return raw_call(env.server, msg, key)

    assert set_status({"power": True, "seen": 1}, env.executor_prvkey) == (200, {})
    assert set_status({"brightness": 80}, env.user_prvkey) == (200, {})
    got = get(env, "kitchen")[1]
    assert got["status"] == {"brightness": 80}  # replaced, not merged
    assert "generation" not in got["metadata"]
    expect_error(set_status({"x": 1}, env.colony_prvkey), 403, not_member(env.colonyname))  # members only
    assert set_status(None, env.user_prvkey) == (200, {})
    assert "status" not in get(env, "kitchen")[1]
    msg = {"msgtype": "updateblueprintstatusmsg", "colonyname": env.colonyname, "blueprintname": "x", "status": {}}
    expect_error(raw_call(env.server, msg, env.user_prvkey), 404, "Blueprint not found")


def test_reconcile(env: Env) -> None:
    add_definition(env)
    add(env, blueprint(env, location="hall"))
    msg = {"msgtype": "reconcileblueprintmsg", "namespace": env.colonyname, "name": "kitchen", "force": True}
    process = call_ok(env, msg, env.executor_prvkey)
    assert process["state"] == 0 and process["initiatorid"] == id_of(env.executor_prvkey)
    assert process["initiatorname"] == env.executorname
    assert process["spec"]["kwargs"] == {"kind": "Light", "blueprintName": "kitchen", "force": True}
    assert process["spec"]["conditions"]["locationname"] == "hall"
    assert get(env, "kitchen")[1]["metadata"]["generation"] == 1
    msg["force"] = False
    assert call_ok(env, msg)["spec"]["kwargs"] == {"kind": "Light", "blueprintName": "kitchen"}
    assert get(env, "kitchen")[1]["metadata"]["generation"] == 1
    expect_error(raw_call(env.server, msg, env.colony_prvkey), 403, not_member(env.colonyname))
    expect_error(raw_call(env.server, {**msg, "name": "nope"}, env.user_prvkey), 404, "Blueprint not found")


def test_reconcile_without_handler_still_bumps_a_forced_generation(env: Env) -> None:
    add_definition(env, handler={})
    add(env, blueprint(env))
    msg = {"msgtype": "reconcileblueprintmsg", "namespace": env.colonyname, "name": "kitchen", "force": True}
    expect_error(raw_call(env.server, msg, env.user_prvkey), 400, "Blueprint has no handler with executor type defined")
    assert get(env, "kitchen")[1]["metadata"]["generation"] == 1
    d = definition(env, kind="Fan", name="fans", handler={"executorType": HANDLER_TYPE})
    call_ok(env, {"msgtype": "addblueprintdefinitionmsg", "blueprintdefinition": d}, env.colony_prvkey)
    add(env, blueprint(env, "fan", kind="Fan"))
    expect_error(
        raw_call(env.server, {**msg, "name": "fan"}, env.user_prvkey),
        400,
        "Blueprint has no handler with function name defined",
    )


def test_remove(env: Env) -> None:
    add_definition(env)
    _, first = add(env, blueprint(env, "a", location="hall"))
    add(env, blueprint(env, "b", location="hall"))
    add(env, blueprint(env, "c"))
    assert sorted(c["name"] for c in crons(env)) == ["reconcile-Light", "reconcile-Light-hall"]
    remove = {"msgtype": "removeblueprintmsg", "namespace": env.colonyname, "name": "a"}
    assert call_ok(env, remove) == {}
    expect_error(get(env, "a"), 404, "Blueprint not found")
    expect_error(
        raw_call(
            env.server, {"msgtype": "getblueprinthistorymsg", "blueprintid": first["blueprintid"]}, env.user_prvkey
        ),
        404,
        "Blueprint not found",
    )
    assert sorted(c["name"] for c in crons(env)) == ["reconcile-Light", "reconcile-Light-hall"]  # b is still there
    cleanup = processes(env)[-1]
    assert (cleanup["spec"]["nodename"], cleanup["spec"]["funcname"]) == (f"{HANDLER_TYPE}-cleanup", "cleanup")
    assert cleanup["spec"]["kwargs"] == {"blueprintName": "a", "kind": "Light"}
    assert cleanup["spec"]["conditions"]["locationname"] == "hall"
    assert call_ok(env, {**remove, "name": "b"}) == {}
    assert [c["name"] for c in crons(env)] == ["reconcile-Light"]  # the last one at hall went
    expect_error(raw_call(env.server, remove, env.user_prvkey), 404, "Blueprint not found")
    locations = call_ok(env, {"msgtype": "getlocationsmsg", "colonyname": env.colonyname})
    assert [loc["name"] for loc in locations] == ["hall"]  # locations stay
