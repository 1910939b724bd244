"""Attribute messages (20-messages.md section 7): add by the assigned executor, get."""

from __future__ import annotations

import hashlib

from pycolonies import Process

from ..conftest import SERVER_PRVKEY, Env
from .raw import raw_call
from .rpc_helpers import new_key, not_member, ok, outsiders, refused, spec


def attribute_id(targetid: str, key: str, attributetype: int) -> str:
    return hashlib.sha3_256(f"{targetid}{key}{attributetype}".encode()).hexdigest()


def running(env: Env, **extra: object) -> Process:
    env.client.submit_func_spec(spec(env, **extra), env.user_prvkey)
    process = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert process is not None
    return process


def add_msg(targetid: str, key: str = "result", value: str = "42", attributetype: int = 1) -> dict[str, object]:
    attribute = {"targetid": targetid, "key": key, "value": value, "attributetype": attributetype}
    return {"msgtype": "addattributemsg", "attribute": attribute}


def test_add_and_get_attribute(env: Env) -> None:
    process = running(env)
    reply = ok(env.server, add_msg(process.processid), env.executor_prvkey)
    assert reply == {
        "attributeid": attribute_id(process.processid, "result", 1),
        "targetid": process.processid,
        "targetcolonyname": "",  # stored as sent
        "targetprocessgraphid": "",
        "state": 0,
        "attributetype": 1,
        "key": "result",
        "value": "42",
    }
    get = {"msgtype": "getattributemsg", "attributeid": reply["attributeid"]}
    for key in (env.executor_prvkey, env.user_prvkey):
        assert ok(env.server, get, key) == reply
    # visible on the process
    attributes = env.client.get_process(process.processid, env.user_prvkey).attributes
    assert attributes is not None and [(a.key, a.value) for a in attributes] == [("result", "42")]

    # SDK methods
    added = env.client.add_attribute(process.processid, "other", "v", env.executor_prvkey)
    assert added["attributeid"] == attribute_id(process.processid, "other", 1)
    assert env.client.get_attribute(added["attributeid"], env.user_prvkey)["value"] == "v"

    # the attribute's state follows the process on close
    env.client.close(process.processid, [], env.executor_prvkey)
    assert ok(env.server, get, env.user_prvkey)["state"] == 2


def test_same_key_other_type_is_a_new_attribute(env: Env) -> None:
    process = running(env)
    one = ok(env.server, add_msg(process.processid, attributetype=1), env.executor_prvkey)
    two = ok(env.server, add_msg(process.processid, attributetype=2), env.executor_prvkey)
    assert one["attributeid"] != two["attributeid"]


def test_duplicate_attribute_refused(env: Env) -> None:
    process = running(env)
    ok(env.server, add_msg(process.processid), env.executor_prvkey)
    status, failure = raw_call(env.server, add_msg(process.processid, value="other"), env.executor_prvkey)
    assert status == 400 and failure["status"] == 400
    get = {"msgtype": "getattributemsg", "attributeid": attribute_id(process.processid, "result", 1)}
    assert ok(env.server, get, env.user_prvkey)["value"] == "42"


def test_env_attribute_from_spec(env: Env) -> None:
    process = env.client.submit_func_spec(spec(env, env={"colour": "blue"}), env.user_prvkey)
    attributeid = attribute_id(process.processid, "colour", 3)
    got = ok(env.server, {"msgtype": "getattributemsg", "attributeid": attributeid}, env.executor_prvkey)
    assert got["key"] == "colour" and got["value"] == "blue" and got["attributetype"] == 3
    assert got["targetcolonyname"] == env.colonyname
    # an ENV attribute's key/type cannot be added again by the executor
    assigned = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert assigned is not None and assigned.processid == process.processid
    status, _ = raw_call(env.server, add_msg(process.processid, "colour", "red", 3), env.executor_prvkey)
    assert status == 400


def test_add_attribute_refused(env: Env) -> None:
    process = running(env)
    msg = add_msg(process.processid)
    assigned = process.assignedexecutorid
    only = f"Failed to add attribute, only executor with id <{assigned}> is allowed to set attributes"
    # another approved executor of the colony, and a user
    _, other = env.add_executor()
    for key in (other, env.user_prvkey):
        refused(env.server, msg, key, 403, only)
    # non-members
    _, pending = env.add_executor(approve=False)
    for key in (pending, env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    with outsiders(env) as keys:
        for key in keys:
            refused(env.server, msg, key, 403, not_member(env.colonyname))
    refused(env.server, add_msg(new_key()[1]), env.executor_prvkey, 404, "Failed to add attribute, process not found")
    assert env.client.get_process(process.processid, env.user_prvkey).attributes == []


def test_add_attribute_to_process_not_running(env: Env) -> None:
    waiting = env.client.submit_func_spec(spec(env), env.user_prvkey)
    refused(
        env.server,
        add_msg(waiting.processid),
        env.executor_prvkey,
        403,
        "Failed to add attribute, process is not running",
    )
    process = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert process is not None
    env.client.close(process.processid, [], env.executor_prvkey)
    refused(
        env.server,
        add_msg(process.processid),
        env.executor_prvkey,
        403,
        "Failed to add attribute, process is not running",
    )


def test_get_attribute_errors(env: Env) -> None:
    process = running(env)
    added = env.client.add_attribute(process.processid, "k", "v", env.executor_prvkey)
    msg = {"msgtype": "getattributemsg", "attributeid": added["attributeid"]}
    refused(
        env.server,
        {"msgtype": "getattributemsg", "attributeid": new_key()[1]},
        env.user_prvkey,
        400,
        "Attribute does not exists",
    )
    _, pending = env.add_executor(approve=False)
    for key in (pending, env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    with outsiders(env) as keys:
        for key in keys:
            refused(env.server, msg, key, 403, not_member(env.colonyname))
