"""Crons on the real server (protocol ext/30-crons-generators.md sections 2-4): add, get, list,
run, remove, their refusals, firing on time exactly once per instant, waiting for the previous
graph (and chaining its outputs), and surviving restarts without firing an instant twice."""

from __future__ import annotations

import base64
import itertools
import json
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pycolonies import Conditions, FuncSpec, Workflow
from pycolonies.crypto import id_of, sign
from pycolonies.timefmt import format_ns, parse_ns

from ..conftest import Env, ServerProcess, make_env
from .proc_helpers import wait_for
from .raw import raw_call, raw_post
from .rpc_helpers import add_colony, new_key, not_member, ok, refused

ZERO = "0001-01-01T00:00:00Z"
FAST = {"COLONIES_CRON_CHECKER_PERIOD": "100", "COLONIES_GENERATOR_CHECKER_PERIOD": "100"}
YEARLY = "0 0 0 1 1 *"


@pytest.fixture(scope="module")
def fast_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose trigger loops tick every 100 ms."""
    srv = ServerProcess(tmp_path_factory.mktemp("crons"), env=dict(FAST))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def fenv(fast_server: ServerProcess) -> Iterator[Env]:
    yield from make_env(fast_server)


def workflow(env: Env, *, two: bool = False) -> Workflow:
    specs = [
        FuncSpec(nodename="first", funcname="f", maxexectime=-1, conditions=Conditions(executortype=env.executortype))
    ]
    if two:
        specs.append(
            FuncSpec(
                nodename="second",
                funcname="g",
                maxexectime=-1,
                conditions=Conditions(executortype=env.executortype, dependencies=["first"]),
            )
        )
    return Workflow(colonyname=env.colonyname, functionspecs=specs)


def cron_msg(env: Env, **fields: Any) -> dict[str, Any]:
    cron = {
        "name": "cron-" + new_key()[1][:8],
        "colonyname": env.colonyname,
        "interval": -1,
        "cronexpression": YEARLY,
        "workflowspec": json.dumps(workflow(env).model_dump(by_alias=True, mode="json")),
        **fields,
    }
    return {"msgtype": "addcronmsg", "cron": cron}


def graphs(env: Env) -> list[dict[str, Any]]:
    """The colony's waiting graphs (nobody runs them), oldest first."""
    found = env.client.get_processgraphs(env.colonyname, 100, env.executor_prvkey, state=0) or []
    return sorted(found, key=lambda g: g["submissiontime"])


def submitted(found: list[dict[str, Any]]) -> list[float]:
    return [parse_ns(g["submissiontime"]) / 1e9 for g in found]


def test_add_get_list_remove(fenv: Env) -> None:
    client, wf = fenv.client, workflow(fenv)
    cron = client.add_cron("nightly", "0 0 3 * * *", False, wf, fenv.colonyname, fenv.executor_prvkey)
    assert len(cron["cronid"]) == 64
    assert cron == {
        "cronid": cron["cronid"],
        "initiatorid": id_of(fenv.executor_prvkey),
        "initiatorname": fenv.executorname,
        "colonyname": fenv.colonyname,
        "name": "nightly",
        "cronexpression": "0 0 3 * * *",
        "interval": -1,
        "random": False,
        "nextrun": ZERO,
        "lastrun": ZERO,
        "workflowspec": json.dumps(wf.model_dump(by_alias=True, mode="json")),
        "prevprocessgraphid": "",
        "waitforprevprocessgraph": False,
        "checkerperiod": 0,
    }
    # The first tick schedules it; getcronmsg alone reports the tick period.
    got = wait_for(lambda: (c := client.get_cron(cron["cronid"], fenv.user_prvkey))["nextrun"] != ZERO and c)
    assert got["checkerperiod"] == 100 and got["lastrun"] == ZERO
    nextrun = parse_ns(got["nextrun"]) // 10**9
    assert time.time() < nextrun <= time.time() + 86_400
    assert time.localtime(nextrun)[3:6] == (3, 0, 0)  # 03:00:00 in the server's (our) time zone
    listed = client.get_crons(fenv.colonyname, 10, fenv.user_prvkey)
    assert [c["cronid"] for c in listed] == [cron["cronid"]] and listed[0]["checkerperiod"] == 0
    assert client.get_crons(fenv.colonyname, 0, fenv.user_prvkey) == []
    assert client.del_cron(cron["cronid"], fenv.executor_prvkey) == {}
    refused(
        fenv.server,
        {"msgtype": "getcronmsg", "cronid": cron["cronid"]},
        fenv.executor_prvkey,
        500,
        "Failed to get cron, cron is nil",
    )
    assert client.get_crons(fenv.colonyname, 10, fenv.user_prvkey) == []
    assert graphs(fenv) == []


def test_user_initiated_cron_and_default_tick(env: Env) -> None:
    """On a default server the tick is 1000 ms; a user's cron carries the user's name."""
    cron = env.client.add_cron("c", YEARLY, True, workflow(env), env.colonyname, env.user_prvkey)
    assert (cron["initiatorid"], cron["initiatorname"]) == (id_of(env.user_prvkey), env.username)
    assert cron["waitforprevprocessgraph"] is True
    assert env.client.get_cron(cron["cronid"], env.user_prvkey)["checkerperiod"] == 1000


def test_add_refusals_store_nothing(fenv: Env) -> None:
    srv, key, colony = fenv.server, fenv.executor_prvkey, fenv.colonyname
    refused(srv, {"msgtype": "addcronmsg"}, key, 400, "Failed to add cron, msg.Cron is nil")
    refused(srv, cron_msg(fenv), new_key()[0], 403, not_member(colony))
    refused(srv, cron_msg(fenv), fenv.colony_prvkey, 403, not_member(colony))  # the owner is no member
    refused(srv, cron_msg(fenv, workflowspec=""), key, 400, "unexpected end of JSON input")
    refused(
        srv,
        cron_msg(fenv, workflowspec="[]"),
        key,
        400,
        "json: cannot unmarshal array into Go value of type core.WorkflowSpec",
    )
    status, payload = raw_call(srv, cron_msg(fenv, workflowspec="{"), key)
    assert status == 400 and payload["message"].startswith("invalid JSON in workflowspec")
    bad_dep = {"colonyname": colony, "functionspecs": [{"nodename": "a", "conditions": {"dependencies": ["x"]}}]}
    status, payload = raw_call(srv, cron_msg(fenv, workflowspec=json.dumps(bad_dep)), key)
    assert status == 400 and payload["message"].startswith(
        "Failed to submit workflow, invalid dependencies, are you depending on a nodename that does not exits?"
    )
    no_name = {"colonyname": colony, "functionspecs": [{"funcname": "f"}]}
    refused(
        srv,
        cron_msg(fenv, workflowspec=json.dumps(no_name)),
        key,
        400,
        "Nodename is missing, check function spec for errors",
    )
    refused(srv, cron_msg(fenv, interval=0), key, 400, "Cron interval must be -1 (disabled) or larger than 0")
    for expression, message in [
        ("* * * * *", "expected exactly 6 fields, found 5: [* * * * *]"),
        ("", "empty cron expression string"),
        ("* * * * * 7", "end of range (7) above maximum (6): 7"),
        ("*/0 * * * * *", "step of range should be a positive number: */0"),
    ]:
        refused(srv, cron_msg(fenv, cronexpression=expression), key, 400, message)
        refused(srv, cron_msg(fenv, cronexpression=expression, interval=-5), key, 400, message)
    refused(srv, cron_msg(fenv, random=True), key, 400, "Random cron is only supported when specifying intervals")
    refused(
        srv, cron_msg(fenv, nextrun=5), key, 400, "Failed to add cron, invalid JSON: nextrun is not an RFC 3339 time"
    )
    other, _ = add_colony(fenv.client)
    try:
        elsewhere = {**json.loads(cron_msg(fenv)["cron"]["workflowspec"]), "colonyname": other}
        refused(srv, cron_msg(fenv, workflowspec=json.dumps(elsewhere)), key, 403, not_member(other))
    finally:
        fenv.client.del_colony(other, fenv.server_prvkey)
    mismatch = base64.b64encode(json.dumps({**cron_msg(fenv), "msgtype": "getcronmsg"}).encode()).decode()
    body = json.dumps({"payloadtype": "addcronmsg", "payload": mismatch, "signature": sign(mismatch, key)})
    assert raw_post(srv, body)[2] == {
        "status": 400,
        "message": "Failed to add cron, msg.MsgType does not match payloadType",
    }
    status, payload = raw_call(srv, {"msgtype": "addcronmsg", "cron": {"interval": "1"}}, key)
    assert status == 400 and payload["message"].startswith("Failed to add cron, invalid JSON")
    assert fenv.client.get_crons(colony, 100, key) == []
    # A duplicate name is refused; the first one stays.
    first = ok(srv, cron_msg(fenv, name="dup"), key)
    refused(srv, cron_msg(fenv, name="dup"), key, 400, f"Cron with name <dup> in Colony <{colony}> already exists")
    assert [c["cronid"] for c in fenv.client.get_crons(colony, 100, key)] == [first["cronid"]]


def test_interval_and_client_times_are_kept(fenv: Env) -> None:
    past = "2020-01-02T03:04:05.5Z"
    added = ok(
        fenv.server,
        cron_msg(fenv, interval=3600, cronexpression="junk", random=True, lastrun=past),
        fenv.executor_prvkey,
    )
    assert (added["interval"], added["random"], added["lastrun"], added["nextrun"]) == (3600, True, past, ZERO)


def test_unknown_ids_and_outsiders(fenv: Env) -> None:
    srv, key = fenv.server, fenv.executor_prvkey
    missing = "0" * 64
    refused(srv, {"msgtype": "getcronmsg", "cronid": missing}, key, 500, "Failed to get cron, cron is nil")
    refused(srv, {"msgtype": "runcronmsg", "cronid": missing}, key, 400, "cron not found")
    refused(
        srv,
        {"msgtype": "removecronmsg", "cronid": missing, "all": True},
        key,
        500,
        "Failed to remove cron, cron is nil",
    )
    cron = ok(srv, cron_msg(fenv), key)
    outsider = new_key()[0]
    for msgtype in ("getcronmsg", "runcronmsg", "removecronmsg"):
        refused(srv, {"msgtype": msgtype, "cronid": cron["cronid"]}, outsider, 403, not_member(fenv.colonyname))
    refused(
        srv,
        {"msgtype": "getcronsmsg", "colonyname": fenv.colonyname, "count": 5},
        outsider,
        403,
        not_member(fenv.colonyname),
    )
    refused(
        srv,
        {"msgtype": "getcronsmsg", "colonyname": fenv.colonyname, "count": -1},
        key,
        400,
        "Failed to get crons, count must not be negative",
    )
    time.sleep(0.3)
    assert graphs(fenv) == []  # the refused run did not run
    assert fenv.client.get_cron(cron["cronid"], key)["cronid"] == cron["cronid"]


def test_fires_every_second_once_per_instant(fenv: Env) -> None:
    cron = fenv.client.add_cron("tick", "* * * * * *", False, workflow(fenv), fenv.colonyname, fenv.executor_prvkey)
    started = time.time()
    wait_for(lambda: len(graphs(fenv)) >= 3, timeout=10)
    elapsed = time.time() - started
    found = graphs(fenv)
    times = submitted(found)
    assert len(found) <= elapsed + 1
    assert all(b - a > 0.5 for a, b in itertools.pairwise(times)), times  # one firing per second
    assert len({int(t) for t in times}) == len(times)
    assert all(g["initiatorname"] == fenv.executorname for g in found)
    got = fenv.client.get_cron(cron["cronid"], fenv.executor_prvkey)
    assert got["prevprocessgraphid"] in {g["processgraphid"] for g in found}
    assert got["lastrun"] != ZERO and parse_ns(got["nextrun"]) > parse_ns(got["lastrun"])
    fenv.client.del_cron(cron["cronid"], fenv.executor_prvkey)
    count = len(graphs(fenv))
    time.sleep(1.5)
    assert len(graphs(fenv)) == count  # removed: no more firings


def test_interval_cron_fires_after_its_interval(fenv: Env) -> None:
    cron = fenv.client.add_cron("every", "", False, workflow(fenv), fenv.colonyname, fenv.executor_prvkey, interval=1)
    added = time.time()
    wait_for(lambda: len(graphs(fenv)) >= 2, timeout=10)
    first, second = submitted(graphs(fenv))[:2]
    assert first - added > 0.9  # not at once: the first tick only schedules
    assert second - first > 0.9
    got = fenv.client.get_cron(cron["cronid"], fenv.executor_prvkey)
    assert abs(parse_ns(got["nextrun"]) - parse_ns(got["lastrun"]) - 1_000_000_000) < 200_000_000


def test_wait_for_previous_graph_then_chain_its_outputs(fenv: Env) -> None:
    cron = fenv.client.add_cron("wait", "* * * * * *", True, workflow(fenv), fenv.colonyname, fenv.executor_prvkey)
    [first] = wait_for(lambda: graphs(fenv), timeout=10)
    time.sleep(2)
    assert len(graphs(fenv)) == 1  # skipped while the previous graph is unfinished
    reply = fenv.client.run_cron(cron["cronid"], fenv.executor_prvkey)
    assert reply["cronid"] == cron["cronid"] and len(graphs(fenv)) == 1  # runcronmsg waits too
    process = fenv.client.assign(fenv.colonyname, 5, fenv.executor_prvkey)
    assert process is not None and process.processgraphid == first["processgraphid"]
    fenv.client.close(process.processid, ["out-1", 2], fenv.executor_prvkey)
    assert fenv.client.get_processgraph(first["processgraphid"], fenv.executor_prvkey).state == 2
    [second] = wait_for(lambda: graphs(fenv), timeout=5)
    root = fenv.client.get_process(second["rootprocessids"][0], fenv.executor_prvkey)
    assert root.input == ["out-1", 2]  # the previous graph's leaf outputs
    assert fenv.client.get_cron(cron["cronid"], fenv.executor_prvkey)["prevprocessgraphid"] == second["processgraphid"]


def test_run_now(fenv: Env) -> None:
    cron = fenv.client.add_cron("manual", YEARLY, False, workflow(fenv, two=True), fenv.colonyname, fenv.user_prvkey)
    wait_for(lambda: fenv.client.get_cron(cron["cronid"], fenv.user_prvkey)["nextrun"] != ZERO)
    before = fenv.client.get_cron(cron["cronid"], fenv.user_prvkey)
    reply = fenv.client.run_cron(cron["cronid"], fenv.executor_prvkey)
    assert reply == {**before, "checkerperiod": 0}  # the cron as loaded before the run
    [graph] = graphs(fenv)
    assert len(graph["processids"]) == 2 and graph["initiatorname"] == fenv.username
    after = fenv.client.get_cron(cron["cronid"], fenv.user_prvkey)
    assert after["prevprocessgraphid"] == graph["processgraphid"] and after["lastrun"] != ZERO
    assert after["nextrun"] == before["nextrun"]  # next Jan 1 either way
    fenv.client.run_cron(cron["cronid"], fenv.user_prvkey)
    assert len(graphs(fenv)) == 2


@pytest.fixture
def fast_own(own_server: ServerProcess) -> Iterator[tuple[Env, ServerProcess]]:
    own_server.env.update(FAST)
    own_server.restart()
    for env in make_env(own_server):
        yield env, own_server


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_restart_keeps_crons_and_never_refires_an_instant(fast_own: tuple[Env, ServerProcess], sig: int) -> None:
    env, srv = fast_own
    # Overdue since an hour (nextrun is stored as the client sends it): fires once, then next Jan 1.
    overdue = ok(
        srv, cron_msg(env, name="overdue", nextrun=format_ns(time.time_ns() - 3600 * 10**9)), env.executor_prvkey
    )
    ticking = env.client.add_cron("tick", "* * * * * *", False, workflow(env), env.colonyname, env.executor_prvkey)
    wait_for(lambda: len(graphs(env)) >= 3, timeout=10)
    fired = env.client.get_cron(overdue["cronid"], env.executor_prvkey)
    assert fired["lastrun"] != ZERO
    srv.restart(sig)
    before = len(graphs(env))
    wait_for(lambda: len(graphs(env)) >= before + 2, timeout=10)  # the every-second cron goes on
    assert env.client.get_cron(overdue["cronid"], env.executor_prvkey) == fired  # not fired again
    found = graphs(env)
    mine = [g for g in found if g["processgraphid"] == fired["prevprocessgraphid"]]
    assert len(mine) == 1
    times = submitted([g for g in found if g is not mine[0]])
    # Consecutive instants fire at least one 100 ms tick apart (two may come one tick apart when the
    # restart made the first one late); an instant fired twice would come twice in one tick.
    assert all(b - a > 0.08 for a, b in itertools.pairwise(times)), times
    assert env.client.get_cron(ticking["cronid"], env.executor_prvkey)["name"] == "tick"
