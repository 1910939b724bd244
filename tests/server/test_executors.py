"""Executor messages (20-messages.md section 3): add, approve, reject, remove, get, get by id, list,
update capabilities, report allocation, change id, and re-registration."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from pycolonies.crypto import id_of
from pycolonies.errors import AccessDeniedError, BadRequestError, ServerError

from ..conftest import SERVER_PRVKEY, Env, ServerProcess
from .raw import raw_call
from .rpc_helpers import (
    ZERO_TIME,
    add_colony,
    add_user,
    env_on,
    new_key,
    no_colony,
    not_member,
    ok,
    outsiders,
    refused,
    spec,
)

NOT_COLONY_OWNER = "Access denied, not colony owner"
PENDING, APPROVED, REJECTED, UNREGISTERED = 0, 1, 2, 3

HARDWARE = {
    "model": "m1",
    "nodes": 2,
    "cpu": "4000m",
    "cores": 4,
    "mem": "16Gi",
    "storage": "1Ti",
    "gpu": {"name": "a100", "mem": "40Gi", "count": 1, "nodecount": 1},
    "platform": "linux",
    "architecture": "amd64",
    "network": ["eth0"],
}
SOFTWARE = {"name": "python", "type": "runtime", "version": "3.12"}


def executor_dict(env: Env, executorid: str, name: str | None = None, **extra: object) -> dict[str, object]:
    return {
        "executorid": executorid,
        "executorname": name or "executor-" + secrets.token_hex(4),
        "executortype": env.executortype,
        "colonyname": env.colonyname,
        **extra,
    }


def by_name(env: Env, name: str, prvkey: str | None = None) -> dict[str, object]:
    return ok(
        env.server,
        {"msgtype": "getexecutormsg", "colonyname": env.colonyname, "executorname": name},
        prvkey or env.executor_prvkey,
    )


# -- addexecutormsg --------------------------------------------------------------------------


def test_add_executor_reply_shape(env: Env) -> None:
    _, executorid = new_key()
    executor = executor_dict(env, executorid)
    reply = ok(env.server, {"msgtype": "addexecutormsg", "executor": executor}, env.colony_prvkey)
    assert set(reply) == {
        "executorid",
        "executortype",
        "executorname",
        "colonyname",
        "state",
        "requirefuncreg",
        "commissiontime",
        "lastheardfromtime",
        "capabilities",
        "allocations",
    }  # locationname, blueprintid and blueprintgen are omitted when empty
    assert {k: reply[k] for k in executor} == executor
    assert reply["state"] == PENDING and reply["requirefuncreg"] is False
    assert reply["lastheardfromtime"] == ZERO_TIME
    assert reply["commissiontime"] != ZERO_TIME and reply["commissiontime"].endswith("Z")
    assert reply["capabilities"] == {"hardware": None, "software": None}
    assert reply["allocations"] == {"projects": None}
    # the stored record reads back the same
    assert by_name(env, executor["executorname"]) == reply


def test_add_executor_stored_fields(env: Env) -> None:
    _, executorid = new_key()
    executor = executor_dict(
        env,
        executorid,
        state=APPROVED,  # ignored: always PENDING
        requirefuncreg=True,
        lastheardfromtime="2026-01-02T03:04:05.5+01:00",  # taken from the request
        blueprintid="bp-1",
        blueprintgen=3,
        locationname="dc1",
        capabilities={"hardware": [HARDWARE], "software": [SOFTWARE]},
        allocations={
            "projects": {
                "p": {
                    "allocatedcpu": 1,
                    "usedcpu": 0,
                    "allocatedgpu": 0,
                    "usedgpu": 0,
                    "allocatedstorage": 5,
                    "usedstorage": 1,
                }
            }
        },
    )
    reply = env.client.add_executor(executor, env.colony_prvkey)
    assert reply["state"] == PENDING
    assert reply["requirefuncreg"] is True and reply["locationname"] == "dc1"
    assert reply["lastheardfromtime"] == "2026-01-02T02:04:05.5Z"
    assert (reply["blueprintid"], reply["blueprintgen"]) == ("bp-1", 3)
    assert reply["capabilities"] == {"hardware": [HARDWARE], "software": [SOFTWARE]}
    assert reply["allocations"]["projects"]["p"]["allocatedstorage"] == 5
    assert by_name(env, executor["executorname"]) == reply


def test_add_executor_errors(env: Env) -> None:
    _, executorid = new_key()
    executor = executor_dict(env, executorid)
    msg = {"msgtype": "addexecutormsg", "executor": executor}
    refused(
        env.server, {"msgtype": "addexecutormsg"}, env.colony_prvkey, 400, "Failed to add executor, executor is nil"
    )
    refused(
        env.server,
        {"msgtype": "addexecutormsg", "executor": None},
        env.colony_prvkey,
        400,
        "Failed to add executor, executor is nil",
    )
    for key in (env.executor_prvkey, env.user_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, NOT_COLONY_OWNER)
    unknown = "nosuchcolony-" + secrets.token_hex(3)
    refused(
        env.server,
        {"msgtype": "addexecutormsg", "executor": {**executor, "colonyname": unknown}},
        env.colony_prvkey,
        403,
        no_colony(unknown),
    )
    # another colony's owner
    other, other_prvkey = add_colony(env.client)
    try:
        refused(env.server, msg, other_prvkey, 403, NOT_COLONY_OWNER)
    finally:
        env.client.del_colony(other, SERVER_PRVKEY)
    dup = {"msgtype": "addexecutormsg", "executor": executor_dict(env, new_key()[1], env.executorname)}
    refused(
        env.server,
        dup,
        env.colony_prvkey,
        400,
        f"Executor with name <{env.executorname}> in Colony <{env.colonyname}> already exists",
    )
    # the failed attempts left the original untouched
    assert by_name(env, env.executorname)["state"] == APPROVED
    assert len(env.client.list_executors(env.colonyname, env.executor_prvkey)) == 1


# -- approveexecutormsg / rejectexecutormsg ----------------------------------------------------


def test_approve_and_reject(env: Env) -> None:
    name, prvkey = env.add_executor(approve=False)
    get_colony = {"msgtype": "getcolonymsg", "colonyname": env.colonyname}
    assert by_name(env, name)["state"] == PENDING
    refused(env.server, get_colony, prvkey, 403, not_member(env.colonyname))

    msg = {"msgtype": "approveexecutormsg", "colonyname": env.colonyname, "executorname": name}
    assert ok(env.server, msg, env.colony_prvkey) == {}
    assert by_name(env, name)["state"] == APPROVED
    ok(env.server, get_colony, prvkey)

    # reject is unconditional, also from APPROVED; the executor loses approved membership
    reject = {"msgtype": "rejectexecutormsg", "colonyname": env.colonyname, "executorname": name}
    assert ok(env.server, reject, env.colony_prvkey) == {}
    assert by_name(env, name)["state"] == REJECTED
    refused(env.server, get_colony, prvkey, 403, not_member(env.colonyname))
    # ... but keeps non-approved membership
    assert len(ok(env.server, {"msgtype": "getexecutorsmsg", "colonyname": env.colonyname}, prvkey)) == 2

    # approve again from REJECTED, via the SDK
    env.client.approve_executor(env.colonyname, name, env.colony_prvkey)
    assert by_name(env, name)["state"] == APPROVED
    env.client.reject_executor(env.colonyname, name, env.colony_prvkey)
    assert by_name(env, name)["state"] == REJECTED


@pytest.mark.parametrize(("msgtype", "verb"), [("approveexecutormsg", "approve"), ("rejectexecutormsg", "reject")])
def test_approve_reject_errors(env: Env, msgtype: str, verb: str) -> None:
    name, pending = env.add_executor(approve=False)
    msg = {"msgtype": msgtype, "colonyname": env.colonyname, "executorname": name}
    for key in (env.executor_prvkey, env.user_prvkey, pending, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, NOT_COLONY_OWNER)
    refused(
        env.server,
        {**msg, "executorname": "nosuchexecutor"},
        env.colony_prvkey,
        500,
        f"Failed to {verb} executor, executor is nil",
    )
    refused(
        env.server,
        {**msg, "colonyname": "nosuchcolony"},
        env.colony_prvkey,
        500,
        f"Failed to {verb} executor, executor is nil",
    )
    assert by_name(env, name)["state"] == PENDING


# -- removeexecutormsg -----------------------------------------------------------------------


def test_remove_executor_releases_running_processes(env: Env) -> None:
    client = env.client
    name, prvkey = env.add_executor()
    client.add_function(env.colonyname, name, "echo", prvkey)
    submitted = client.submit_func_spec(spec(env), env.user_prvkey)
    other = client.submit_func_spec(spec(env), env.user_prvkey)
    running = client.assign(env.colonyname, 5, prvkey)
    mine = client.assign(env.colonyname, 5, env.executor_prvkey)
    assert running is not None and running.processid == submitted.processid
    assert mine is not None and mine.processid == other.processid
    assert running.state == 1 and running.starttime.year > 1

    msg = {"msgtype": "removeexecutormsg", "colonyname": env.colonyname, "executorname": name}
    assert ok(env.server, msg, env.colony_prvkey) == {}

    back = ok(env.server, {"msgtype": "getprocessmsg", "processid": running.processid}, env.user_prvkey)
    assert back["state"] == 0
    assert back["isassigned"] is False and back["assignedexecutorid"] == ""
    assert back["starttime"] == ZERO_TIME and back["endtime"] == ZERO_TIME
    assert back["retries"] == 0
    # the other executor's process is untouched
    assert client.get_process(other.processid, env.user_prvkey).state == 1
    # the record stays, UNREGISTERED; its functions are gone
    executors = {e["executorname"]: e for e in client.list_executors(env.colonyname, env.user_prvkey)}
    assert executors[name]["state"] == UNREGISTERED
    assert client.get_functions_by_executor(env.colonyname, name, env.user_prvkey) is None
    # it can no longer act as an approved member
    refused(
        env.server, {"msgtype": "getcolonymsg", "colonyname": env.colonyname}, prvkey, 403, not_member(env.colonyname)
    )
    status, _ = raw_call(
        env.server, {"msgtype": "assignprocessmsg", "colonyname": env.colonyname, "timeout": -1}, prvkey
    )
    assert status == 403
    # the released process is assigned to somebody else
    again = client.assign(env.colonyname, 5, env.executor_prvkey)
    assert again is not None and again.processid == running.processid


def test_remove_executor_sdk_and_errors(env: Env) -> None:
    name, pending = env.add_executor(approve=False)
    msg = {"msgtype": "removeexecutormsg", "colonyname": env.colonyname, "executorname": name}
    for key in (env.executor_prvkey, env.user_prvkey, pending, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, NOT_COLONY_OWNER)
    refused(
        env.server,
        {**msg, "executorname": "nosuchexecutor"},
        env.colony_prvkey,
        500,
        "Failed to remove executor, executor is nil",
    )
    assert by_name(env, name)["state"] == PENDING
    env.client.remove_executor(env.colonyname, name, env.colony_prvkey)
    assert by_name(env, name)["state"] == UNREGISTERED
    # removing twice is allowed (the record still exists)
    env.client.remove_executor(env.colonyname, name, env.colony_prvkey)
    # re-adding the name is refused without the re-registration option
    with pytest.raises(BadRequestError, match="already exists"):
        env.client.add_executor(executor_dict(env, new_key()[1], name), env.colony_prvkey)


# -- getexecutormsg / getexecutorbyidmsg --------------------------------------------------------


def test_get_executor(env: Env) -> None:
    for key in (env.executor_prvkey, env.user_prvkey):
        executor = by_name(env, env.executorname, key)
        assert executor["executorname"] == env.executorname and executor["state"] == APPROVED
        assert executor["colonyname"] == env.colonyname and executor["executortype"] == env.executortype
    assert env.client.get_executor(env.colonyname, env.executorname, env.user_prvkey) == executor


def test_get_executor_errors(env: Env) -> None:
    _, pending = env.add_executor(approve=False)
    msg = {"msgtype": "getexecutormsg", "colonyname": env.colonyname, "executorname": env.executorname}
    for key in (env.colony_prvkey, SERVER_PRVKEY, pending, new_key()[0]):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    refused(
        env.server,
        {**msg, "executorname": "nosuchexecutor"},
        env.executor_prvkey,
        500,
        "Failed to get executor, executor is nil",
    )
    with outsiders(env) as keys:
        for key in keys:
            refused(env.server, msg, key, 403, not_member(env.colonyname))


def test_get_executor_by_id(env: Env) -> None:
    name, prvkey = env.add_executor(approve=False)
    executorid = id_of(prvkey)
    expected = by_name(env, name)
    for colonyname in (env.colonyname, "", "ignored"):
        msg = {"msgtype": "getexecutorbyidmsg", "colonyname": colonyname, "executorid": executorid}
        assert ok(env.server, msg, env.user_prvkey) == expected
    assert env.client.get_executor_by_id(env.colonyname, executorid, env.executor_prvkey) == expected

    msg = {"msgtype": "getexecutorbyidmsg", "colonyname": env.colonyname, "executorid": executorid}
    for key in (env.colony_prvkey, SERVER_PRVKEY, prvkey):  # a pending executor fails Member(approved)
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    refused(
        env.server,
        {**msg, "executorid": new_key()[1]},
        env.executor_prvkey,
        404,
        "Failed to get executor by ID, executor is nil",
    )
    with outsiders(env) as keys:
        for key in keys:
            refused(env.server, msg, key, 403, not_member(env.colonyname))


# -- getexecutorsmsg -------------------------------------------------------------------------


def test_list_executors(env: Env) -> None:
    pending_name, pending = env.add_executor(approve=False)
    gone_name, gone = env.add_executor()
    env.client.remove_executor(env.colonyname, gone_name, env.colony_prvkey)
    msg = {"msgtype": "getexecutorsmsg", "colonyname": env.colonyname}
    # approval is not required to list: pending and unregistered executors may
    for key in (env.executor_prvkey, env.user_prvkey, pending, gone):
        executors = ok(env.server, msg, key)
        states = {e["executorname"]: e["state"] for e in executors}
        assert states == {env.executorname: APPROVED, pending_name: PENDING, gone_name: UNREGISTERED}
        assert all(
            "locationname" not in e and e["capabilities"] == {"hardware": None, "software": None} for e in executors
        )
    assert env.client.list_executors(env.colonyname, pending) == executors
    for key in (env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    unknown = "nosuchcolony-" + secrets.token_hex(3)
    refused(env.server, {**msg, "colonyname": unknown}, env.executor_prvkey, 403, no_colony(unknown))


def test_list_executors_empty_is_null(env: Env) -> None:
    other, other_prvkey = add_colony(env.client)
    try:
        _, user_prvkey = add_user(env, other, other_prvkey)
        assert ok(env.server, {"msgtype": "getexecutorsmsg", "colonyname": other}, user_prvkey) is None
        assert env.client.list_executors(other, user_prvkey) is None
        # the env's executor is not a member of the other colony
        refused(
            env.server, {"msgtype": "getexecutorsmsg", "colonyname": other}, env.executor_prvkey, 403, not_member(other)
        )
    finally:
        env.client.del_colony(other, SERVER_PRVKEY)


# -- updateexecutormsg / reportallocationmsg ----------------------------------------------------


def test_update_capabilities(env: Env) -> None:
    name, pending = env.add_executor(approve=False)
    capabilities = {"hardware": [HARDWARE], "software": [SOFTWARE]}
    msg = {
        "msgtype": "updateexecutormsg",
        "colonyname": env.colonyname,
        "executorname": name,
        "capabilities": capabilities,
    }
    # a pending executor may update its own capabilities
    assert ok(env.server, msg, pending) == {}
    assert by_name(env, name)["capabilities"] == capabilities
    # replaced, not merged
    env.client.update_executor(env.colonyname, name, {"hardware": None, "software": [SOFTWARE]}, pending)
    assert by_name(env, name)["capabilities"] == {"hardware": None, "software": [SOFTWARE]}
    assert by_name(env, name)["state"] == PENDING


def test_update_capabilities_errors(env: Env) -> None:
    name, pending = env.add_executor(approve=False)
    msg = {
        "msgtype": "updateexecutormsg",
        "colonyname": env.colonyname,
        "executorname": name,
        "capabilities": {"hardware": [HARDWARE], "software": None},
    }
    for key in (env.executor_prvkey, env.user_prvkey):
        refused(env.server, msg, key, 400, "Only an executor can update its own capabilities")
    for key in (env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    refused(
        env.server,
        {**msg, "executorname": "nosuchexecutor"},
        pending,
        400,
        "Executor with name <nosuchexecutor> does not exist",
    )
    assert by_name(env, name)["capabilities"] == {"hardware": None, "software": None}


def test_report_allocation(env: Env) -> None:
    allocations = {
        "projects": {
            "alpha": {
                "allocatedcpu": 10,
                "usedcpu": 2,
                "allocatedgpu": 1,
                "usedgpu": 0,
                "allocatedstorage": 100,
                "usedstorage": 7,
            },
        }
    }
    msg = {
        "msgtype": "reportallocationmsg",
        "colonyname": env.colonyname,
        "executorname": env.executorname,
        "allocations": allocations,
    }
    assert ok(env.server, msg, env.executor_prvkey) == {}
    assert by_name(env, env.executorname)["allocations"] == allocations
    env.client.report_allocation(env.colonyname, env.executorname, {"projects": None}, env.executor_prvkey)
    assert by_name(env, env.executorname)["allocations"] == {"projects": None}

    name, pending = env.add_executor(approve=False)
    ok(env.server, {**msg, "executorname": name}, pending)  # approval not required
    assert by_name(env, name)["allocations"] == allocations
    for key in (pending, env.user_prvkey):
        refused(env.server, msg, key, 400, "Only an executor can report allocations to itself")
    for key in (env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    refused(
        env.server,
        {**msg, "executorname": "nosuchexecutor"},
        env.executor_prvkey,
        400,
        "Executor with name <nosuchexecutor> does not exist",
    )
    assert by_name(env, env.executorname)["allocations"] == {"projects": None}


# -- changeexecutoridmsg ---------------------------------------------------------------------


def test_change_executor_id(env: Env) -> None:
    new_prvkey, new_id = new_key()
    msg = {"msgtype": "changeexecutoridmsg", "colonyname": env.colonyname, "executorid": new_id}
    assert ok(env.server, msg, env.executor_prvkey) == msg
    assert by_name(env, env.executorname, new_prvkey)["executorid"] == new_id
    refused(
        env.server,
        {"msgtype": "getcolonymsg", "colonyname": env.colonyname},
        env.executor_prvkey,
        403,
        not_member(env.colonyname),
    )
    # a pending executor may change its id too (SDK method)
    name, pending = env.add_executor(approve=False)
    _, third_id = new_key()
    reply = env.client.change_executor_id(env.colonyname, third_id, pending)
    assert reply == {"msgtype": "changeexecutoridmsg", "colonyname": env.colonyname, "executorid": third_id}
    assert by_name(env, name, new_prvkey)["executorid"] == third_id


def test_change_executor_id_errors(env: Env) -> None:
    _, new_id = new_key()
    msg = {"msgtype": "changeexecutoridmsg", "colonyname": env.colonyname, "executorid": new_id}
    refused(
        env.server,
        {**msg, "executorid": ""},
        env.executor_prvkey,
        400,
        "Failed to change executor Id, executor Id is empty",
    )
    for key in (env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    refused(env.server, msg, env.user_prvkey, 400, "Failed to change executor Id, executor not found")
    refused(
        env.server,
        {**msg, "executorid": "ab"},
        env.executor_prvkey,
        400,
        "Failed to change executor Id, new executor Id is not 64 characters",
    )
    assert by_name(env, env.executorname)["executorid"] != new_id


# -- re-registration -------------------------------------------------------------------------


@pytest.fixture
def rereg_env(tmp_path: Path) -> Iterator[Env]:
    """A server of its own started with COLONIES_ALLOW_EXECUTOR_REREGISTER=true, and a colony on it."""
    srv = ServerProcess(tmp_path / "data", env={"COLONIES_ALLOW_EXECUTOR_REREGISTER": "true"})
    srv.start()
    try:
        with env_on(srv) as env:
            yield env
    finally:
        srv.stop()


def test_reregister_refused_by_default(own_server: ServerProcess) -> None:
    with env_on(own_server) as env:
        name, _ = env.add_executor()
        env.client.remove_executor(env.colonyname, name, env.colony_prvkey)
        for existing in (env.executorname, name):  # registered or unregistered
            refused(
                own_server,
                {"msgtype": "addexecutormsg", "executor": executor_dict(env, new_key()[1], existing)},
                env.colony_prvkey,
                400,
                f"Executor with name <{existing}> in Colony <{env.colonyname}> already exists",
            )
        assert by_name(env, name)["state"] == UNREGISTERED


def test_reregister_allowed(rereg_env: Env) -> None:
    env = rereg_env
    client = env.client
    # an approved executor with a function and a running process is replaced
    client.add_function(env.colonyname, env.executorname, "echo", env.executor_prvkey)
    submitted = client.submit_func_spec(spec(env), env.user_prvkey)
    assert client.assign(env.colonyname, 5, env.executor_prvkey) is not None
    new_prvkey, new_id = new_key()
    reply = client.add_executor(executor_dict(env, new_id, env.executorname, executortype="newtype"), env.colony_prvkey)
    assert reply["executorid"] == new_id and reply["state"] == PENDING and reply["executortype"] == "newtype"
    executors = client.list_executors(env.colonyname, env.user_prvkey)
    assert [(e["executorname"], e["executorid"]) for e in executors] == [(env.executorname, new_id)]
    assert client.get_functions_by_colony(env.colonyname, env.user_prvkey) is None
    process = client.get_process(submitted.processid, env.user_prvkey)
    assert process.state == 0 and process.assignedexecutorid == ""
    # the old key is no member any more, the new one is once approved
    refused(
        env.server,
        {"msgtype": "getexecutorsmsg", "colonyname": env.colonyname},
        env.executor_prvkey,
        403,
        not_member(env.colonyname),
    )
    client.approve_executor(env.colonyname, env.executorname, env.colony_prvkey)
    assert client.get_colony(env.colonyname, new_prvkey)["name"] == env.colonyname

    # an unregistered record can be re-used as well
    name, _ = env.add_executor()
    client.remove_executor(env.colonyname, name, env.colony_prvkey)
    _, third_id = new_key()
    again = client.add_executor(executor_dict(env, third_id, name), env.colony_prvkey)
    assert again["state"] == PENDING and again["executorid"] == third_id


def test_sdk_raises_typed_errors(env: Env) -> None:
    with pytest.raises(AccessDeniedError) as denied:
        env.client.get_executor(env.colonyname, env.executorname, env.colony_prvkey)
    assert denied.value.status == 403 and denied.value.message == not_member(env.colonyname)
    with pytest.raises(ServerError) as nil:
        env.client.get_executor(env.colonyname, "nosuchexecutor", env.executor_prvkey)
    assert nil.value.status == 500
