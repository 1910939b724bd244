"""Colony messages (20-messages.md section 2): add, remove (cascade), list, get, stats, change id."""

from __future__ import annotations

import secrets

import pytest

from pycolonies import Colonies
from pycolonies.crypto import id_of
from pycolonies.errors import AccessDeniedError, BadRequestError

from ..conftest import SERVER_PRVKEY, Env, ServerProcess
from .raw import raw_call
from .rpc_helpers import add_colony, add_user, env_on, new_key, no_colony, not_member, ok, refused, spec

NOT_SERVER_OWNER = "Access denied, not server owner"
NOT_COLONY_OWNER = "Access denied, not colony owner"


# -- addcolonymsg ----------------------------------------------------------------------------


def test_add_colony(env: Env) -> None:
    prvkey, colonyid = new_key()
    name = "colony-" + secrets.token_hex(5)
    try:
        reply = ok(
            env.server, {"msgtype": "addcolonymsg", "colony": {"colonyid": colonyid, "name": name}}, SERVER_PRVKEY
        )
        assert reply == {"colonyid": colonyid, "name": name}
        assert {"colonyid": colonyid, "name": name} in env.client.list_colonies(SERVER_PRVKEY)
        # the new colony's owner can register executors in it
        _, executor_id = new_key()
        executor = {"executorid": executor_id, "executorname": "e", "executortype": "t", "colonyname": name}
        assert env.client.add_executor(executor, prvkey)["state"] == 0
    finally:
        env.client.del_colony(name, SERVER_PRVKEY)


def test_add_colony_errors(env: Env) -> None:
    _, colonyid = new_key()
    fresh = "colony-" + secrets.token_hex(5)
    good = {"colonyid": colonyid, "name": fresh}
    for key in (env.colony_prvkey, env.executor_prvkey, env.user_prvkey):
        refused(env.server, {"msgtype": "addcolonymsg", "colony": good}, key, 403, NOT_SERVER_OWNER)
    # authorization comes before validating the body
    refused(env.server, {"msgtype": "addcolonymsg"}, env.colony_prvkey, 403, NOT_SERVER_OWNER)
    refused(env.server, {"msgtype": "addcolonymsg"}, SERVER_PRVKEY, 400, "Failed to add colony, colony is <nil>")
    refused(
        env.server,
        {"msgtype": "addcolonymsg", "colony": None},
        SERVER_PRVKEY,
        400,
        "Failed to add colony, colony is <nil>",
    )
    for bad_id in ("", "abc", colonyid + "0"):
        refused(
            env.server,
            {"msgtype": "addcolonymsg", "colony": {"colonyid": bad_id, "name": fresh}},
            SERVER_PRVKEY,
            400,
            "Failed to add colony, invalid colony Id length",
        )
    refused(
        env.server,
        {"msgtype": "addcolonymsg", "colony": {"colonyid": colonyid, "name": env.colonyname}},
        SERVER_PRVKEY,
        400,
        f"A Colony with name <{env.colonyname}> already exists",
    )
    # the failed attempts stored nothing
    names = [c["name"] for c in env.client.list_colonies(SERVER_PRVKEY)]
    assert fresh not in names and names.count(env.colonyname) == 1


# -- getcoloniesmsg --------------------------------------------------------------------------


def test_get_colonies(own_server: ServerProcess) -> None:
    with Colonies("127.0.0.1", own_server.port, tls=False) as client:
        # a fresh server has no colonies: the reply is null, not []
        assert ok(own_server, {"msgtype": "getcoloniesmsg"}, SERVER_PRVKEY) is None
        first, _ = add_colony(client)
        second, _ = add_colony(client)
        colonies = ok(own_server, {"msgtype": "getcoloniesmsg"}, SERVER_PRVKEY)
        assert [c["name"] for c in colonies] == [first, second]
        assert all(set(c) == {"colonyid", "name"} and len(c["colonyid"]) == 64 for c in colonies)
        assert client.list_colonies(SERVER_PRVKEY) == colonies


def test_get_colonies_refused(env: Env) -> None:
    for key in (env.colony_prvkey, env.executor_prvkey, env.user_prvkey, new_key()[0]):
        refused(env.server, {"msgtype": "getcoloniesmsg"}, key, 403, NOT_SERVER_OWNER)


# -- getcolonymsg ----------------------------------------------------------------------------


def test_get_colony_by_members(env: Env) -> None:
    expected = {"colonyid": id_of(env.colony_prvkey), "name": env.colonyname}
    for key in (env.executor_prvkey, env.user_prvkey):
        assert ok(env.server, {"msgtype": "getcolonymsg", "colonyname": env.colonyname}, key) == expected
    assert env.client.get_colony(env.colonyname, env.executor_prvkey) == expected


def test_get_colony_refused(env: Env) -> None:
    msg = {"msgtype": "getcolonymsg", "colonyname": env.colonyname}
    _, pending = env.add_executor(approve=False)
    rejected_name, rejected = env.add_executor()
    env.client.reject_executor(env.colonyname, rejected_name, env.colony_prvkey)
    # the colony owner and the server owner are not members; nor are unapproved executors
    for key in (env.colony_prvkey, SERVER_PRVKEY, pending, rejected, new_key()[0]):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    unknown = "nosuchcolony-" + secrets.token_hex(3)
    refused(
        env.server, {"msgtype": "getcolonymsg", "colonyname": unknown}, env.executor_prvkey, 403, no_colony(unknown)
    )
    with pytest.raises(AccessDeniedError) as exc:
        env.client.get_colony(env.colonyname, env.colony_prvkey)
    assert exc.value.status == 403


def test_get_colony_other_colony_member_refused(env: Env) -> None:
    other, other_prvkey = add_colony(env.client)
    try:
        _, user_prvkey = add_user(env, other, other_prvkey)
        ok(env.server, {"msgtype": "getcolonymsg", "colonyname": other}, user_prvkey)
        refused(
            env.server,
            {"msgtype": "getcolonymsg", "colonyname": env.colonyname},
            user_prvkey,
            403,
            not_member(env.colonyname),
        )
        refused(
            env.server, {"msgtype": "getcolonymsg", "colonyname": other}, env.executor_prvkey, 403, not_member(other)
        )
    finally:
        env.client.del_colony(other, SERVER_PRVKEY)


# -- getcolonystatsmsg -----------------------------------------------------------------------


def _stats(env: Env) -> dict[str, int]:
    return ok(env.server, {"msgtype": "getcolonystatsmsg", "colonyname": env.colonyname}, env.user_prvkey)


def test_colony_stats(env: Env) -> None:
    fresh = _stats(env)
    assert fresh == {
        "colonies": 1,
        "executors": 1,
        "activeexecutors": 1,
        "unregisteredexecutors": 0,
        "waitingprocesses": 0,
        "runningprocesses": 0,
        "successfulprocesses": 0,
        "failedprocesses": 0,
        "cancelledprocesses": 0,
        "waitingworkflows": 0,
        "runningworkflows": 0,
        "successfulworkflows": 0,
        "failedworkflows": 0,
        "cancelledworkflows": 0,
    }
    env.add_executor(approve=False)
    gone, _ = env.add_executor()
    env.client.remove_executor(env.colonyname, gone, env.colony_prvkey)
    for _ in range(5):
        env.client.submit_func_spec(spec(env), env.user_prvkey)
    first = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    second = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    third = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert first and second and third
    env.client.close(first.processid, [], env.executor_prvkey)
    env.client.fail(second.processid, [], env.executor_prvkey)
    waiting = env.client.list_processes(env.colonyname, 5, 0, env.executor_prvkey)
    env.client.cancel_process(waiting[0]["processid"], env.executor_prvkey)
    stats = env.client.stats(env.colonyname, env.executor_prvkey)
    # executors counts every record, unregistered ones included
    assert stats["executors"] == 3 and stats["activeexecutors"] == 1 and stats["unregisteredexecutors"] == 1
    assert (
        stats["waitingprocesses"],
        stats["runningprocesses"],
        stats["successfulprocesses"],
        stats["failedprocesses"],
        stats["cancelledprocesses"],
    ) == (1, 1, 1, 1, 1)
    assert stats["colonies"] == 1


def test_colony_stats_errors(env: Env) -> None:
    unknown = "nosuchcolony-" + secrets.token_hex(3)
    refused(
        env.server,
        {"msgtype": "getcolonystatsmsg", "colonyname": unknown},
        env.executor_prvkey,
        400,
        f"Colony with name <{unknown}> not found",
    )
    _, pending = env.add_executor(approve=False)
    msg = {"msgtype": "getcolonystatsmsg", "colonyname": env.colonyname}
    # upstream sends an empty body here; the reimplementation answers 403
    for key in (env.colony_prvkey, SERVER_PRVKEY, pending):
        refused(env.server, msg, key, 403, not_member(env.colonyname))


# -- changecolonyidmsg -----------------------------------------------------------------------


def test_change_colony_id(env: Env) -> None:
    new_prvkey, new_id = new_key()
    msg = {"msgtype": "changecolonyidmsg", "colonyname": env.colonyname, "colonyid": new_id}
    assert ok(env.server, msg, env.colony_prvkey) == msg
    assert env.client.get_colony(env.colonyname, env.executor_prvkey)["colonyid"] == new_id
    # the old key is no longer the owner, the new one is
    with pytest.raises(AccessDeniedError, match=NOT_COLONY_OWNER):
        env.add_executor()
    env.colony_prvkey = new_prvkey
    name, _ = env.add_executor()
    assert env.client.get_executor(env.colonyname, name, env.executor_prvkey)["state"] == 1
    # SDK method, back to another key
    _, third_id = new_key()
    reply = env.client.change_colony_id(env.colonyname, third_id, new_prvkey)
    assert reply == {"msgtype": "changecolonyidmsg", "colonyname": env.colonyname, "colonyid": third_id}


def test_change_colony_id_errors(env: Env) -> None:
    _, new_id = new_key()

    def msg(colonyname: str = env.colonyname, colonyid: str = new_id) -> dict[str, str]:
        return {"msgtype": "changecolonyidmsg", "colonyname": colonyname, "colonyid": colonyid}

    refused(env.server, msg(colonyid=""), env.colony_prvkey, 400, "Failed to change colony Id, colony Id is empty")
    for key in (env.executor_prvkey, env.user_prvkey, SERVER_PRVKEY):
        refused(env.server, msg(), key, 403, NOT_COLONY_OWNER)
    unknown = "nosuchcolony-" + secrets.token_hex(3)
    refused(env.server, msg(colonyname=unknown), env.colony_prvkey, 403, no_colony(unknown))
    refused(env.server, msg(colonyname=""), env.colony_prvkey, 403, "Empty Colony name")
    refused(
        env.server,
        msg(colonyid="ab" * 31),
        env.colony_prvkey,
        400,
        "Failed to change colony Id, new colony Id is not 64 characters",
    )
    # nothing changed: the original key still owns the colony
    env.add_executor()


# -- removecolonymsg -------------------------------------------------------------------------


def test_remove_colony_cascades(env: Env) -> None:
    client = env.client
    name, executor_prvkey = env.add_executor()
    client.add_function(env.colonyname, name, "echo", executor_prvkey)
    client.add_location(
        {"locationid": "l1", "name": "here", "colonyname": env.colonyname, "description": "", "long": 0.0, "lat": 0.0},
        env.colony_prvkey,
    )
    waiting = client.submit_func_spec(spec(env), env.user_prvkey)
    client.submit_func_spec(spec(env), env.user_prvkey)
    running = client.assign(env.colonyname, 5, executor_prvkey)
    assert running is not None and running.processid == waiting.processid
    attributeid = client.add_attribute(running.processid, "k", "v", executor_prvkey)["attributeid"]
    assert client.get_attribute(attributeid, env.user_prvkey)["value"] == "v"
    before = client.server_stats(SERVER_PRVKEY)

    assert ok(env.server, {"msgtype": "removecolonymsg", "colonyname": env.colonyname}, SERVER_PRVKEY) == {}

    assert env.colonyname not in [c["name"] for c in client.list_colonies(SERVER_PRVKEY) or []]
    refused(
        env.server,
        {"msgtype": "getcolonymsg", "colonyname": env.colonyname},
        env.executor_prvkey,
        403,
        no_colony(env.colonyname),
    )
    after = client.server_stats(SERVER_PRVKEY)
    assert after["colonies"] == before["colonies"] - 1
    assert after["executors"] == before["executors"] - 2
    assert after["waitingprocesses"] == before["waitingprocesses"] - 1
    assert after["runningprocesses"] == before["runningprocesses"] - 1

    # re-create a colony with the same name: nothing of the old one is left
    client.add_colony({"colonyid": id_of(env.colony_prvkey), "name": env.colonyname}, SERVER_PRVKEY)
    new_user, user_prvkey = add_user(env)
    assert client.list_executors(env.colonyname, user_prvkey) is None
    assert [u["name"] for u in client.get_users(env.colonyname, user_prvkey)] == [new_user]
    assert client.get_locations(env.colonyname, user_prvkey) is None
    assert client.get_functions_by_colony(env.colonyname, user_prvkey) is None
    assert client.stats(env.colonyname, user_prvkey)["waitingprocesses"] == 0
    assert client.list_processes(env.colonyname, 10, 0, user_prvkey) is None
    status, _ = raw_call(env.server, {"msgtype": "getprocessmsg", "processid": waiting.processid}, user_prvkey)
    assert status == 404
    refused(
        env.server,
        {"msgtype": "getattributemsg", "attributeid": attributeid},
        user_prvkey,
        400,
        "Attribute does not exists",
    )


def test_remove_colony_errors(env: Env) -> None:
    msg = {"msgtype": "removecolonymsg", "colonyname": env.colonyname}
    for key in (env.colony_prvkey, env.executor_prvkey, env.user_prvkey):
        refused(env.server, msg, key, 403, NOT_SERVER_OWNER)
    unknown = "nosuchcolony-" + secrets.token_hex(3)
    refused(
        env.server,
        {"msgtype": "removecolonymsg", "colonyname": unknown},
        SERVER_PRVKEY,
        400,
        f"Colony with name <{unknown}> not found",
    )
    with pytest.raises(BadRequestError):
        env.client.del_colony(unknown, SERVER_PRVKEY)
    # still there
    ok(env.server, {"msgtype": "getcolonymsg", "colonyname": env.colonyname}, env.executor_prvkey)


def test_remove_colony_on_own_server(own_server: ServerProcess) -> None:
    with env_on(own_server) as env:
        env.client.del_colony(env.colonyname, SERVER_PRVKEY)
        assert env.client.list_colonies(SERVER_PRVKEY) is None
        stats = env.client.server_stats(SERVER_PRVKEY)
        assert stats["colonies"] == 0 and stats["executors"] == 0
