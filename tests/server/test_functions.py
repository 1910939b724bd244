"""Function registry messages (20-messages.md section 4) and the statistics a close-successful
updates (30-semantics.md section 4.5)."""

from __future__ import annotations

import re

from ..conftest import SERVER_PRVKEY, Env
from .raw import raw_call
from .rpc_helpers import new_key, not_member, ok, outsiders, refused, spec

STATS = ("minwaittime", "maxwaittime", "minexectime", "maxexectime", "avgwaittime", "avgexectime")


def add_msg(env: Env, executorname: str, funcname: str = "echo", **extra: object) -> dict[str, object]:
    fun = {"executorname": executorname, "colonyname": env.colonyname, "funcname": funcname, **extra}
    return {"msgtype": "addfunctionmsg", "fun": fun}


def functions(env: Env, executorname: str = "") -> list[dict[str, object]] | None:
    msg = {"msgtype": "getfunctionsmsg", "colonyname": env.colonyname, "executorname": executorname}
    return ok(env.server, msg, env.user_prvkey)


# -- addfunctionmsg --------------------------------------------------------------------------


def test_add_function(env: Env) -> None:
    reply = ok(env.server, add_msg(env, env.executorname), env.executor_prvkey)
    # description, args and locationname are omitted when empty; executortype is stored as sent
    assert set(reply) == {"functionid", "executorname", "executortype", "colonyname", "funcname", "counter", *STATS}
    assert re.fullmatch("[0-9a-f]{64}", reply["functionid"])
    assert (reply["executorname"], reply["colonyname"], reply["funcname"]) == (env.executorname, env.colonyname, "echo")
    assert reply["executortype"] == "" and reply["counter"] == 0
    assert all(reply[k] == 0 for k in STATS)
    assert functions(env) == [reply]

    # SDK method; duplicates are allowed
    again = env.client.add_function(env.colonyname, env.executorname, "echo", env.executor_prvkey)
    assert again["functionid"] != reply["functionid"]
    assert [f["functionid"] for f in functions(env)] == [reply["functionid"], again["functionid"]]


def test_add_function_stored_fields(env: Env) -> None:
    name, prvkey = env.add_executor(locationname="dc1")
    args = [{"name": "x", "type": "int", "description": "an x", "required": True, "enum": ["1", "2"]}]
    msg = add_msg(
        env, name, "sum", functionid="f" * 64, executortype="mytype", description="adds", args=args, locationname="x"
    )
    reply = ok(env.server, msg, prvkey)
    assert reply["functionid"] == "f" * 64  # a client-chosen id is kept
    assert reply["executortype"] == "mytype" and reply["description"] == "adds" and reply["args"] == args
    assert reply["locationname"] == "dc1"  # copied from the executor
    assert functions(env, name) == [reply]
    # the same client-chosen id twice is refused, and nothing changes
    status, failure = raw_call(env.server, msg, prvkey)
    assert status == 400 and failure["status"] == 400 and "already exists" in failure["message"]
    assert functions(env, name) == [reply]


def test_add_function_errors(env: Env) -> None:
    name, pending = env.add_executor(approve=False)
    _, other = env.add_executor()
    refused(
        env.server,
        {"msgtype": "addfunctionmsg"},
        env.executor_prvkey,
        400,
        "Failed to add function, msg.Function is nil",
    )
    refused(
        env.server,
        {"msgtype": "addfunctionmsg", "fun": None},
        env.executor_prvkey,
        400,
        "Failed to add function, msg.Function is nil",
    )
    # not approved members / not members
    refused(env.server, add_msg(env, name), pending, 403, not_member(env.colonyname))
    for key in (env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, add_msg(env, env.executorname), key, 403, not_member(env.colonyname))
    refused(
        env.server,
        add_msg(env, "nosuchexecutor"),
        env.executor_prvkey,
        400,
        "Failed to add function, Executor with name <nosuchexecutor> does not exist",
    )
    # a function for another executor: refused to executors and users alike
    for key in (other, env.user_prvkey):
        refused(
            env.server, add_msg(env, env.executorname), key, 403, "Not allowed to add a function to another executor"
        )
    assert functions(env) is None


# -- getfunctionsmsg -------------------------------------------------------------------------


def test_get_functions(env: Env) -> None:
    assert functions(env) is None and functions(env, env.executorname) is None
    name, prvkey = env.add_executor()
    a = env.client.add_function(env.colonyname, env.executorname, "a", env.executor_prvkey)
    b = env.client.add_function(env.colonyname, name, "b", prvkey)
    c = env.client.add_function(env.colonyname, env.executorname, "c", env.executor_prvkey)
    assert functions(env) == [a, b, c]
    assert functions(env, env.executorname) == [a, c]
    assert functions(env, name) == [b]
    assert functions(env, "nosuchexecutor") is None
    assert env.client.get_functions_by_colony(env.colonyname, prvkey) == [a, b, c]
    assert env.client.get_functions_by_executor(env.colonyname, name, env.executor_prvkey) == [b]


def test_get_functions_refused(env: Env) -> None:
    _, pending = env.add_executor(approve=False)
    msg = {"msgtype": "getfunctionsmsg", "colonyname": env.colonyname}
    for key in (pending, env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    with outsiders(env) as keys:
        for key in keys:
            refused(env.server, msg, key, 403, not_member(env.colonyname))


# -- removefunctionmsg -----------------------------------------------------------------------


def test_remove_function(env: Env) -> None:
    keep = env.client.add_function(env.colonyname, env.executorname, "keep", env.executor_prvkey)
    drop = env.client.add_function(env.colonyname, env.executorname, "drop", env.executor_prvkey)
    msg = {"msgtype": "removefunctionmsg", "functionid": drop["functionid"]}
    assert ok(env.server, msg, env.executor_prvkey) == {}
    assert functions(env) == [keep]
    refused(env.server, msg, env.executor_prvkey, 404, "Failed to remove function, function does not exist")
    env.client.remove_function(keep["functionid"], env.executor_prvkey)
    assert functions(env) is None


def test_remove_function_errors(env: Env) -> None:
    fn = env.client.add_function(env.colonyname, env.executorname, "echo", env.executor_prvkey)
    msg = {"msgtype": "removefunctionmsg", "functionid": fn["functionid"]}
    refused(
        env.server,
        {"msgtype": "removefunctionmsg", "functionid": ""},
        env.executor_prvkey,
        400,
        "Failed to remove function, msg.FunctionID is empty",
    )
    refused(
        env.server,
        {"msgtype": "removefunctionmsg", "functionid": new_key()[1]},
        env.executor_prvkey,
        404,
        "Failed to remove function, function does not exist",
    )
    _, other = env.add_executor()
    for key in (other, env.user_prvkey):
        refused(env.server, msg, key, 403, "Not allowed to remove a function from another executor")
    _, pending = env.add_executor(approve=False)
    for key in (pending, env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    assert functions(env) == [fn]


# -- statistics ------------------------------------------------------------------------------


def test_function_statistics_after_close(env: Env) -> None:
    client = env.client
    fn = client.add_function(env.colonyname, env.executorname, "echo", env.executor_prvkey)
    other = client.add_function(env.colonyname, env.executorname, "other", env.executor_prvkey)
    for _ in range(2):
        client.submit_func_spec(spec(env, "echo"), env.user_prvkey)
    client.submit_func_spec(spec(env, "echo"), env.user_prvkey)

    first = client.assign(env.colonyname, 5, env.executor_prvkey)
    assert first is not None
    client.close(first.processid, ["out"], env.executor_prvkey)
    after_one = {f["funcname"]: f for f in functions(env)}
    echo = after_one["echo"]
    assert echo["functionid"] == fn["functionid"] and echo["counter"] == 1
    assert echo["minwaittime"] == echo["maxwaittime"] == echo["avgwaittime"] > 0
    assert echo["minexectime"] == echo["maxexectime"] == echo["avgexectime"] > 0
    assert after_one["other"] == other  # another funcname is untouched

    second = client.assign(env.colonyname, 5, env.executor_prvkey)
    assert second is not None
    client.close(second.processid, [], env.executor_prvkey)
    echo2 = functions(env, env.executorname)[0]
    assert echo2["counter"] == 2
    assert echo2["minwaittime"] <= echo2["avgwaittime"] <= echo2["maxwaittime"]
    assert echo2["minexectime"] <= echo2["avgexectime"] <= echo2["maxexectime"]

    # a failed process does not count
    third = client.assign(env.colonyname, 5, env.executor_prvkey)
    assert third is not None
    client.fail(third.processid, ["no"], env.executor_prvkey)
    assert functions(env, env.executorname)[0]["counter"] == 2


def test_function_statistics_only_for_closing_executor(env: Env) -> None:
    client = env.client
    name, prvkey = env.add_executor()
    client.add_function(env.colonyname, name, "echo", prvkey)
    client.submit_func_spec(spec(env, "echo"), env.user_prvkey)
    process = client.assign(env.colonyname, 5, env.executor_prvkey)  # the env executor has no function
    assert process is not None
    client.close(process.processid, [], env.executor_prvkey)
    assert functions(env, name)[0]["counter"] == 0
