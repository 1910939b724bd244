"""Generators on the real server (protocol ext/30-crons-generators.md section 5): add, get,
resolve, list, pack, remove, their refusals (zero or negative triggers included), and the
workflows they submit by count and by timeout with the packed arguments."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pycolonies import Conditions, FuncSpec, Workflow
from pycolonies.crypto import id_of, sign

from ..conftest import Env, ServerProcess, make_env
from .proc_helpers import wait_for
from .raw import raw_call, raw_post
from .rpc_helpers import new_key, not_member, ok, refused

ZERO = "0001-01-01T00:00:00Z"
FAST = {"COLONIES_CRON_CHECKER_PERIOD": "100", "COLONIES_GENERATOR_CHECKER_PERIOD": "100"}


@pytest.fixture(scope="module")
def fast_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose trigger loops tick every 100 ms."""
    srv = ServerProcess(tmp_path_factory.mktemp("generators"), env=dict(FAST))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def fenv(fast_server: ServerProcess) -> Iterator[Env]:
    yield from make_env(fast_server)


def workflowspec(env: Env) -> str:
    """Two steps: ``split`` (the root, which gets the packed args) and ``merge`` after it."""
    wf = Workflow(
        colonyname=env.colonyname,
        functionspecs=[
            FuncSpec(
                nodename="split",
                funcname="split",
                args=["placeholder"],
                kwargs={"k": "v"},
                maxexectime=-1,
                conditions=Conditions(executortype=env.executortype),
            ),
            FuncSpec(
                nodename="merge",
                funcname="merge",
                args=["own"],
                maxexectime=-1,
                conditions=Conditions(executortype=env.executortype, dependencies=["split"]),
            ),
        ],
    )
    return json.dumps(wf.model_dump(by_alias=True, mode="json"))


def generator(env: Env, **fields: Any) -> dict[str, Any]:
    return {
        "colonyname": env.colonyname,
        "name": "gen-" + new_key()[1][:8],
        "workflowspec": workflowspec(env),
        "trigger": 3,
        "timeout": -1,
        **fields,
    }


def graphs(env: Env) -> list[dict[str, Any]]:
    found = env.client.get_processgraphs(env.colonyname, 100, env.executor_prvkey, state=0) or []
    return sorted(found, key=lambda g: g["submissiontime"])


def root_and_child(env: Env, graph: dict[str, Any]) -> tuple[Any, Any]:
    processes = [env.client.get_process(pid, env.executor_prvkey) for pid in graph["processids"]]
    [root] = [p for p in processes if p.processid in graph["rootprocessids"]]
    [child] = [p for p in processes if p.processid not in graph["rootprocessids"]]
    return root, child


def test_add_get_resolve_list_remove(fenv: Env) -> None:
    client, key = fenv.client, fenv.executor_prvkey
    spec = generator(fenv, name="g1", trigger=5, timeout=60)
    added = client.add_generator(spec, key)
    assert added == {
        "generatorid": added["generatorid"],
        "initiatorid": id_of(key),
        "initiatorname": fenv.executorname,
        "colonyname": fenv.colonyname,
        "name": "g1",
        "workflowspec": spec["workflowspec"],
        "trigger": 5,
        "timeout": 60,
        "firstpack": ZERO,
        "lastrun": ZERO,
        "queuesize": 0,
        "checkerperiod": 0,
    }
    assert len(added["generatorid"]) == 64
    assert client.pack_generator(added["generatorid"], "a", fenv.user_prvkey) == {}
    got = client.get_generator(added["generatorid"], fenv.user_prvkey)
    assert got["queuesize"] == 1 and got["checkerperiod"] == 100 and got["firstpack"] != ZERO
    resolved = client.resolve_generator(fenv.colonyname, "g1", key)
    assert resolved == {**got, "queuesize": 0, "checkerperiod": 0}
    listed = client.get_generators(fenv.colonyname, key)
    assert listed == [{**got, "queuesize": 0, "checkerperiod": 0}]
    assert client.get_generators(fenv.colonyname, key, count=0) is None  # empty is null
    assert client.remove_generator(added["generatorid"], key) == {}
    assert client.get_generators(fenv.colonyname, key) is None
    refused(
        fenv.server,
        {"msgtype": "getgeneratormsg", "generatorid": added["generatorid"]},
        key,
        500,
        "Failed to get generator, generator is nil",
    )


def test_user_initiated_and_default_tick(env: Env) -> None:
    added = env.client.add_generator(generator(env), env.user_prvkey)
    assert (added["initiatorid"], added["initiatorname"]) == (id_of(env.user_prvkey), env.username)
    assert env.client.get_generator(added["generatorid"], env.user_prvkey)["checkerperiod"] == 1000


def test_add_refusals_store_nothing(fenv: Env) -> None:
    srv, key, colony = fenv.server, fenv.executor_prvkey, fenv.colonyname

    def add(**fields: Any) -> dict[str, Any]:
        return {"msgtype": "addgeneratormsg", "generator": generator(fenv, **fields)}

    refused(srv, {"msgtype": "addgeneratormsg"}, key, 400, "Failed to add generator, msg.Generator is nil")
    refused(srv, add(), new_key()[0], 403, not_member(colony))
    refused(srv, add(), fenv.colony_prvkey, 403, not_member(colony))
    for trigger in (0, -1, -100):
        refused(srv, add(trigger=trigger), key, 400, f"Generator trigger must be larger than 0, got {trigger}")
    refused(srv, add(workflowspec=""), key, 400, "unexpected end of JSON input")
    refused(
        srv, add(workflowspec='"x"'), key, 400, "json: cannot unmarshal string into Go value of type core.WorkflowSpec"
    )
    dup = {"colonyname": colony, "functionspecs": [{"nodename": "a"}, {"nodename": "a"}]}
    refused(srv, add(workflowspec=json.dumps(dup)), key, 400, "Duplicate nodename: a")
    status, payload = raw_call(srv, {"msgtype": "addgeneratormsg", "generator": {"trigger": 1.5}}, key)
    assert status == 400 and payload["message"].startswith("Failed to add generator, invalid JSON")
    assert fenv.client.get_generators(colony, key) is None
    first = ok(srv, add(name="same"), key)
    refused(srv, add(name="same"), key, 400, f"Generator with name <same> in Colony <{colony}> already exists")
    assert [g["generatorid"] for g in fenv.client.get_generators(colony, key)] == [first["generatorid"]]


def test_unknown_ids_outsiders_and_texts(fenv: Env) -> None:
    srv, key, colony = fenv.server, fenv.executor_prvkey, fenv.colonyname
    missing = "0" * 64
    for msg, message in [
        ({"msgtype": "getgeneratormsg", "generatorid": missing}, "Failed to get generator, generator is nil"),
        (
            {"msgtype": "resolvegeneratormsg", "colonyname": colony, "generatorname": "nope"},
            "Failed to resolve generator, generator is nil",
        ),
        (
            {"msgtype": "packgeneratormsg", "generatorid": missing, "arg": "a"},
            "Failed to increment generator, generator is nil",
        ),
        ({"msgtype": "removegeneratormsg", "generatorid": missing}, "Failed to remove generator, generator is nil"),
    ]:
        refused(srv, msg, key, 500, message)
    added = ok(srv, {"msgtype": "addgeneratormsg", "generator": generator(fenv, name="g")}, key)
    gid, outsider = added["generatorid"], new_key()[0]
    for msg in [
        {"msgtype": "getgeneratormsg", "generatorid": gid},
        {"msgtype": "resolvegeneratormsg", "colonyname": colony, "generatorname": "g"},
        {"msgtype": "packgeneratormsg", "generatorid": gid, "arg": "a"},
        {"msgtype": "removegeneratormsg", "generatorid": gid},
        {"msgtype": "getgeneratorsmsg", "colonyname": colony, "count": 5},
    ]:
        refused(srv, msg, outsider, 403, not_member(colony))
    refused(
        srv,
        {"msgtype": "getgeneratorsmsg", "colonyname": colony, "count": -1},
        key,
        400,
        "Failed to get generators, count must not be negative",
    )
    # packgeneratormsg words its two texts differently.
    status, payload = raw_call(srv, {"msgtype": "packgeneratormsg", "generatorid": gid, "arg": 5}, key)
    assert status == 400 and payload["message"].startswith("Failed to inc generator, invalid JSON")
    mismatch = base64.b64encode(json.dumps({"msgtype": "x", "generatorid": gid, "arg": "a"}).encode()).decode()
    body = json.dumps({"payloadtype": "packgeneratormsg", "payload": mismatch, "signature": sign(mismatch, key)})
    assert raw_post(srv, body)[2] == {
        "status": 400,
        "message": "Failed to increment generator, msg.MsgType does not match payloadType",
    }
    assert fenv.client.get_generator(gid, key)["queuesize"] == 0


def test_fires_by_count_with_the_packed_args(fenv: Env) -> None:
    added = fenv.client.add_generator(generator(fenv, trigger=3, timeout=-1), fenv.executor_prvkey)
    gid = added["generatorid"]
    for i in range(7):
        fenv.client.pack_generator(gid, f"arg-{i}", fenv.executor_prvkey)
    found = wait_for(lambda: len(graphs(fenv)) >= 2 and graphs(fenv), timeout=10)
    time.sleep(0.5)
    assert len(graphs(fenv)) == 2  # 7 args, trigger 3: two runs, one arg left
    batches = []
    for graph in found:
        root, child = root_and_child(fenv, graph)
        assert root.spec.kwargs == {} and root.spec.nodename == "split"
        assert child.spec.args == ["own"] and child.spec.nodename == "merge"
        assert graph["initiatorname"] == fenv.executorname
        batches.append(root.spec.args)
    assert sorted(batches) == [["arg-0", "arg-1", "arg-2"], ["arg-3", "arg-4", "arg-5"]]
    got = fenv.client.get_generator(gid, fenv.executor_prvkey)
    assert got["queuesize"] == 1 and got["lastrun"] != ZERO


def test_fires_by_timeout(fenv: Env) -> None:
    added = fenv.client.add_generator(generator(fenv, trigger=10, timeout=1), fenv.executor_prvkey)
    gid = added["generatorid"]
    fenv.client.pack_generator(gid, "x", fenv.executor_prvkey)
    fenv.client.pack_generator(gid, "y", fenv.executor_prvkey)
    packed = time.time()
    [graph] = wait_for(lambda: graphs(fenv), timeout=10)
    assert time.time() - packed > 0.9  # not before the timeout
    root, _ = root_and_child(fenv, graph)
    assert root.spec.args == ["x", "y"]
    got = fenv.client.get_generator(gid, fenv.executor_prvkey)
    assert got["queuesize"] == 0 and got["lastrun"] != ZERO and got["firstpack"] != ZERO
    # After an idle period longer than the timeout, one new pack fires on the next tick.
    time.sleep(1.2)
    fenv.client.pack_generator(gid, "z", fenv.executor_prvkey)
    wait_for(lambda: len(graphs(fenv)) == 2, timeout=3)


def test_no_timeout_means_count_only(fenv: Env) -> None:
    added = fenv.client.add_generator(generator(fenv, trigger=2, timeout=0), fenv.executor_prvkey)
    fenv.client.pack_generator(added["generatorid"], "only", fenv.executor_prvkey)
    time.sleep(1.5)
    assert graphs(fenv) == []
    assert fenv.client.get_generator(added["generatorid"], fenv.executor_prvkey)["queuesize"] == 1


def test_args_are_kept_while_the_initiator_cannot_be_resolved(fenv: Env) -> None:
    added = fenv.client.add_generator(generator(fenv, trigger=1), fenv.user_prvkey)
    fenv.client.remove_user(fenv.colonyname, fenv.username, fenv.colony_prvkey)
    fenv.client.pack_generator(added["generatorid"], "kept", fenv.executor_prvkey)
    time.sleep(1)
    assert graphs(fenv) == []
    assert fenv.client.get_generator(added["generatorid"], fenv.executor_prvkey)["queuesize"] == 1
