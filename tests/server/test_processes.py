"""Process messages against the real server (protocol core/20-messages.md section 5,
30-semantics.md sections 1-4): submit, assign, close, fail, set output, get, list, history,
remove, cancel, pause/resume."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from typing import Any

import httpx
import pytest

from pycolonies.crypto import generate_prvkey, id_of
from pycolonies.rpc import build_request
from pycolonies.timefmt import parse_ns

from ..conftest import Env, make_env
from .proc_helpers import ZERO_TIME, Background, assign, call_ok, expect_error, get, make_spec, submit
from .raw import raw_call, raw_post

DAY_NS = 86_400 * 1_000_000_000
HEX64 = re.compile(r"^[0-9a-f]{64}$")
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")

PROCESS_KEYS = {
    "processid",
    "initiatorid",
    "initiatorname",
    "assignedexecutorid",
    "isassigned",
    "state",
    "prioritytime",
    "submissiontime",
    "starttime",
    "endtime",
    "waitdeadline",
    "execdeadline",
    "retries",
    "attributes",
    "spec",
    "waitforparents",
    "parents",
    "children",
    "processgraphid",
    "in",
    "out",
    "errors",
}


def _submit_raw(env: Env, spec: dict[str, Any], prvkey: str | None = None) -> tuple[int, Any]:
    return raw_call(env.server, {"msgtype": "submitfuncspecmsg", "spec": spec}, prvkey or env.executor_prvkey)


def _list(env: Env, state: int, count: int = 100, prvkey: str | None = None, **filters: Any) -> Any:
    msg = {"msgtype": "getprocessesmsg", "colonyname": env.colonyname, "count": count, "state": state, **filters}
    return call_ok(env, msg, prvkey)


def _ids(processes: Any) -> list[str]:
    return [p["processid"] for p in processes or []]


def _assigned(env: Env, prvkey: str | None = None, **fields: Any) -> dict[str, Any]:
    status, p = assign(env, prvkey, **fields)
    assert status == 200, p
    return p  # type: ignore[no-any-return]


def _close(env: Env, pid: str, out: Any, prvkey: str | None = None) -> tuple[int, Any]:
    return raw_call(
        env.server, {"msgtype": "closesuccessfulmsg", "processid": pid, "out": out}, prvkey or env.executor_prvkey
    )


def _fail(env: Env, pid: str, errors: Any, prvkey: str | None = None) -> tuple[int, Any]:
    msg = {"msgtype": "closefailedmsg", "processid": pid, "errors": errors}
    return raw_call(env.server, msg, prvkey or env.executor_prvkey)


def _set_output(env: Env, pid: str, out: Any, prvkey: str | None = None) -> tuple[int, Any]:
    return raw_call(
        env.server, {"msgtype": "setoutputmsg", "processid": pid, "out": out}, prvkey or env.executor_prvkey
    )


def _cancel(env: Env, pid: str, prvkey: str | None = None) -> tuple[int, Any]:
    return raw_call(env.server, {"msgtype": "cancelprocessmsg", "processid": pid}, prvkey or env.executor_prvkey)


def _owner(env: Env, msgtype: str, prvkey: str | None = None, **fields: Any) -> tuple[int, Any]:
    msg = {"msgtype": msgtype, "colonyname": env.colonyname, **fields}
    return raw_call(env.server, msg, prvkey or env.colony_prvkey)


# --------------------------------------------------------------------------------------------
# submitfuncspecmsg


def test_submit_reply_shape(env: Env) -> None:
    spec = make_spec(env, env={"test_key": "test_value2"}, maxretries=3, args=["a", 1], kwargs={"k": 2.5})
    status, p = _submit_raw(env, spec)
    assert status == 200
    assert set(p) == PROCESS_KEYS
    pid = p["processid"]
    assert HEX64.match(pid)
    assert p["initiatorid"] == id_of(env.executor_prvkey)
    assert p["initiatorname"] == env.executorname
    assert p["assignedexecutorid"] == "" and p["isassigned"] is False and p["state"] == 0
    assert RFC3339_Z.match(p["submissiontime"])
    for key in ("starttime", "endtime", "waitdeadline", "execdeadline"):
        assert p[key] == ZERO_TIME
    assert p["retries"] == 0 and p["waitforparents"] is False and p["processgraphid"] == ""
    assert p["parents"] == [] and p["children"] == [] and p["in"] == [] and p["out"] == [] and p["errors"] == []
    assert p["attributes"] == [
        {
            "attributeid": hashlib.sha3_256(f"{pid}test_key3".encode()).hexdigest(),
            "targetid": pid,
            "targetcolonyname": env.colonyname,
            "targetprocessgraphid": "",
            "state": 0,
            "attributetype": 3,
            "key": "test_key",
            "value": "test_value2",
        }
    ]
    assert p["spec"] == {
        "nodename": "",
        "funcname": "f",
        "args": ["a", 1],
        "kwargs": {"k": 2.5},
        "priority": 0,
        "maxwaittime": 0,
        "maxexectime": -1,
        "maxretries": 3,
        "conditions": {
            "colonyname": env.colonyname,
            "executornames": None,
            "executortype": env.executortype,
            "dependencies": [],
            "nodes": 0,
            "cpu": "0m",
            "processes": 0,
            "processespernode": 0,
            "mem": "0Mi",
            "storage": "0Mi",
            "gpu": {"name": "", "mem": "0Mi", "count": 0, "nodecount": 0},
            "walltime": 0,
        },
        "label": "",
        "fs": {"mount": "", "snapshots": None, "dirs": None},
        "env": {"test_key": "test_value2"},
    }
    # The stored process reads back identically.
    assert get(env, pid) == p


def test_submit_prioritytime(env: Env) -> None:
    for priority in (0, 1, -3, 50000, -50000):
        p = submit(env, priority=priority)
        assert p["spec"]["priority"] == priority
        assert p["prioritytime"] == parse_ns(p["submissiontime"]) - priority * DAY_NS


def test_submit_executornames_normalised(env: Env) -> None:
    cases: list[tuple[Any, Any]] = [(None, None), ([], []), (["*"], []), (["a", "b"], ["a", "b"])]
    for sent, expected in cases:
        p = submit(env, conditions={"executornames": sent})
        assert p["spec"]["conditions"]["executornames"] == expected, sent
        assert get(env, p["processid"])["spec"]["conditions"]["executornames"] == expected
    spec = make_spec(env)
    del spec["conditions"]["executornames"]
    status, p = _submit_raw(env, spec)
    assert status == 200 and p["spec"]["conditions"]["executornames"] is None


def test_submit_channels_and_location_omitted_when_empty(env: Env) -> None:
    p = submit(env, channels=[])
    assert "channels" not in p["spec"] and "locationname" not in p["spec"]["conditions"]
    p = submit(env, channels=None)
    assert "channels" not in p["spec"]
    p = submit(env, channels=["c1", "c2"], conditions={"locationname": "North"})
    assert p["spec"]["channels"] == ["c1", "c2"]
    assert p["spec"]["conditions"]["locationname"] == "North"
    assert get(env, p["processid"])["spec"]["channels"] == ["c1", "c2"]


def test_submit_env_attributes_and_null_env(env: Env) -> None:
    p = submit(env, env={"a": "1", "b": "2"})
    assert {(a["key"], a["value"], a["attributetype"]) for a in p["attributes"]} == {("a", "1", 3), ("b", "2", 3)}
    assert p["spec"]["env"] == {"a": "1", "b": "2"}
    p = submit(env, env=None)
    assert p["attributes"] == [] and p["spec"]["env"] == {}


def test_submit_resources_normalised(env: Env) -> None:
    cases = [
        ({"cpu": "500m", "mem": "1Gi", "storage": "2048Mi"}, ("500m", "1024Mi", "2048Mi")),
        ({"cpu": "4", "mem": "10M", "storage": "1TiB"}, ("0m", "9Mi", "1048576Mi")),
    ]
    for conditions, (cpu, mem, storage) in cases:
        c = submit(env, conditions=conditions)["spec"]["conditions"]
        assert (c["cpu"], c["mem"], c["storage"]) == (cpu, mem, storage)
    c = submit(env, conditions={"gpu": {"name": "a100", "mem": "2Gi", "count": 2, "nodecount": 5}})["spec"]
    assert c["conditions"]["gpu"] == {"name": "a100", "mem": "2048Mi", "count": 2, "nodecount": 0}


def test_submit_by_user(env: Env) -> None:
    p = submit(env, prvkey=env.user_prvkey)
    assert p["initiatorid"] == id_of(env.user_prvkey) and p["initiatorname"] == env.username


@pytest.mark.parametrize("priority", [50001, -50001, 1_000_000])
def test_submit_priority_out_of_range(env: Env, priority: int) -> None:
    result = _submit_raw(env, make_spec(env, priority=priority))
    expect_error(result, 400, "Failed to submit function spec, priority outside range [-50000, 50000]")
    assert _list(env, 0) is None


@pytest.mark.parametrize(
    "conditions",
    [{"cpu": "abcm"}, {"cpu": "1.5m"}, {"mem": "12"}, {"mem": "5Qi"}, {"storage": "x"}, {"gpu": {"mem": "7"}}],
)
def test_submit_bad_resources(env: Env, conditions: dict[str, Any]) -> None:
    status, failure = _submit_raw(env, make_spec(env, conditions=conditions))
    assert status == 400 and failure["status"] == 400
    if "cpu" in conditions:
        assert failure["message"] == "Error converting CPU to int"
    assert _list(env, 0) is None


def test_submit_refusals(env: Env) -> None:
    expect_error(
        raw_call(env.server, {"msgtype": "submitfuncspecmsg", "spec": None}, env.executor_prvkey),
        400,
        "Failed to submit process spec, msg.FunctionSpec is nil",
    )
    expect_error(
        _submit_raw(env, make_spec(env), generate_prvkey()),
        403,
        f"Access denied, not a member of Colony with name <{env.colonyname}>",
    )
    # The colony owner is not a member; an unapproved executor is not an approved member.
    assert _submit_raw(env, make_spec(env), env.colony_prvkey)[0] == 403
    _, pending = env.add_executor(approve=False)
    assert _submit_raw(env, make_spec(env), pending)[0] == 403
    expect_error(
        _submit_raw(env, make_spec(env, conditions={"colonyname": "no-such-colony"})),
        403,
        "Colony with name <no-such-colony> does not exists",
    )
    assert _list(env, 0) is None


# --------------------------------------------------------------------------------------------
# assignprocessmsg


def test_assign_reply(env: Env) -> None:
    submitted = submit(env, maxexectime=30, env={"k": "v"})
    p = _assigned(env)
    assert p["attributes"][0]["state"] == 1  # attribute states follow the process
    assert p["processid"] == submitted["processid"]
    assert p["state"] == 1 and p["isassigned"] is True
    assert p["assignedexecutorid"] == id_of(env.executor_prvkey)
    start = parse_ns(p["starttime"])
    assert start > parse_ns(p["submissiontime"])
    assert parse_ns(p["execdeadline"]) == start + 30 * 1_000_000_000
    stored = get(env, p["processid"])
    assert stored["state"] == 1 and stored["starttime"] == p["starttime"]
    assert stored["attributes"][0]["state"] == 1


def test_assign_fifo_within_priority(env: Env) -> None:
    ids = [submit(env)["processid"] for _ in range(5)]
    assert [_assigned(env)["processid"] for _ in range(5)] == ids
    expect_error(assign(env), 404, "No process available for assignment")


def test_assign_priority_order(env: Env) -> None:
    low = submit(env, priority=-5)["processid"]
    normal = submit(env, priority=0)["processid"]
    high = submit(env, priority=5)["processid"]
    higher = submit(env, priority=6)["processid"]
    assert [_assigned(env)["processid"] for _ in range(4)] == [higher, high, normal, low]


def test_assign_executornames_targeting(env: Env) -> None:
    other_name, other_key = env.add_executor()
    targeted = submit(env, conditions={"executornames": [other_name]})["processid"]
    expect_error(assign(env), 404, "No process available for assignment")
    untargeted = submit(env)["processid"]
    # The targeted process is older, so its own executor gets it first; the untargeted one is
    # still there for anybody.
    assert _assigned(env, other_key)["processid"] == targeted
    assert _assigned(env)["processid"] == untargeted
    # Targeted processes get no precedence over older untargeted ones.
    first = submit(env)["processid"]
    second = submit(env, conditions={"executornames": [other_name, "someone-else"]})["processid"]
    assert _assigned(env, other_key)["processid"] == first
    assert _assigned(env, other_key)["processid"] == second
    # ["*"] reads back as [] and means anybody.
    star = submit(env, conditions={"executornames": ["*"]})["processid"]
    assert _assigned(env)["processid"] == star


def test_assign_executortype_must_match(env: Env) -> None:
    submit(env, executortype=env.executortype + "-other")
    submit(env, executortype=env.executortype.upper())
    expect_error(assign(env), 404, "No process available for assignment")
    _, other_key = env.add_executor(env.executortype + "-other")
    assert _assigned(env, other_key)["spec"]["conditions"]["executortype"] == env.executortype + "-other"


def test_assign_location_filter(env: Env) -> None:
    _, north = env.add_executor(locationname="north")
    south = submit(env, conditions={"locationname": "south"})["processid"]
    expect_error(assign(env, north), 404, "No process available for assignment")
    # Neither can an executor without a location take a located process.
    expect_error(assign(env), 404, "No process available for assignment")
    here = submit(env, conditions={"locationname": "NORTH"})["processid"]
    assert _assigned(env, north)["processid"] == here
    anywhere = submit(env)["processid"]
    assert _assigned(env, north)["processid"] == anywhere
    _, south_key = env.add_executor(locationname="South")
    assert _assigned(env, south_key)["processid"] == south


def test_assign_available_cpu_mem(env: Env) -> None:
    big = submit(env, conditions={"cpu": "1000m", "mem": "1Gi"})["processid"]
    for fields in (
        {"availablecpu": "500m"},
        {"availablecpu": "4"},  # no "m": zero millicores
        {"availablemem": "512Mi"},
        {"availablecpu": "2000m", "availablemem": "1023Mi"},
    ):
        expect_error(assign(env, **fields), 404, "No process available for assignment")
    small = submit(env)["processid"]
    assert _assigned(env, availablecpu="4", availablemem="1Mi")["processid"] == small
    assert _assigned(env, availablecpu="1000m", availablemem="1Gi")["processid"] == big


def test_assign_bad_available_resources(env: Env) -> None:
    submit(env)
    status, failure = assign(env, availablecpu="xm")
    assert status == 400 and failure == {"status": 400, "message": "Error converting CPU to int"}
    status, _ = assign(env, availablemem="lots")
    assert status == 400
    assert _list(env, 1) is None


def test_assign_long_poll_wakes_on_submit(env: Env) -> None:
    started = time.monotonic()
    poll = Background(lambda: assign(env, timeout=10))
    time.sleep(0.3)
    assert poll.is_alive()
    submitted_at = time.monotonic()
    pid = submit(env)["processid"]
    status, p = poll.result()
    assert status == 200 and p["processid"] == pid
    assert poll.finished_at - submitted_at < 1.0
    assert poll.finished_at - started < 5


def test_assign_long_poll_wakes_the_executor_that_can_take_it(env: Env) -> None:
    target_name, target_key = env.add_executor()
    _, north_key = env.add_executor(locationname="north")
    anyone = Background(lambda: assign(env, timeout=8))  # waits longest: first in line
    time.sleep(0.2)
    targeted = Background(lambda: assign(env, target_key, timeout=8))
    north = Background(lambda: assign(env, north_key, timeout=8))
    time.sleep(0.3)
    assert anyone.is_alive() and targeted.is_alive() and north.is_alive()
    submitted_at = time.monotonic()
    pid = submit(env, conditions={"executornames": [target_name]})["processid"]
    status, p = targeted.result()
    assert status == 200 and p["processid"] == pid and targeted.finished_at - submitted_at < 1.0
    submitted_at = time.monotonic()
    pid = submit(env, conditions={"locationname": "North"})["processid"]
    status, p = north.result()
    assert status == 200 and p["processid"] == pid and north.finished_at - submitted_at < 1.0
    assert anyone.is_alive()
    submitted_at = time.monotonic()
    pid = submit(env)["processid"]
    status, p = anyone.result()
    assert status == 200 and p["processid"] == pid and anyone.finished_at - submitted_at < 1.0


def test_assign_long_poll_times_out(env: Env) -> None:
    started = time.monotonic()
    expect_error(assign(env, timeout=1), 404, "No process available for assignment")
    assert 0.9 <= time.monotonic() - started < 3


def test_assign_timeouts(env: Env) -> None:
    expect_error(assign(env, timeout=0), 400, "Invalid timeout value, timeout cannot be zero")
    started = time.monotonic()
    expect_error(assign(env, timeout=-1), 404, "No process available for assignment")
    expect_error(assign(env, timeout=-100), 404, "No process available for assignment")
    assert time.monotonic() - started < 1


def test_assign_by_user_or_outsider(env: Env) -> None:
    submit(env)
    expect_error(assign(env, env.user_prvkey), 500, "Failed to assign process, executor not found")
    expect_error(
        assign(env, generate_prvkey()), 403, f"Access denied, not a member of Colony with name <{env.colonyname}>"
    )
    assert assign(env, env.colony_prvkey)[0] == 403
    _, pending = env.add_executor(approve=False)
    assert assign(env, pending)[0] == 403
    assert _list(env, 1) is None and len(_list(env, 0)) == 1


def test_assign_is_exclusive_under_concurrency(env: Env) -> None:
    n = 40
    keys = [env.executor_prvkey] + [env.add_executor()[1] for _ in range(5)]
    for _ in range(n // 2):
        submit(env)
    got: list[str] = []
    lock = threading.Lock()
    errors: list[Any] = []

    def worker(key: str, timeout: int) -> None:
        while True:
            with lock:
                if len(got) >= n:
                    return
            status, p = assign(env, key, timeout=timeout)
            if status == 200:
                with lock:
                    got.append(p["processid"])
            elif status == 404:
                if timeout < 0:
                    time.sleep(0.01)
            else:
                errors.append((status, p))
                return

    threads = [
        threading.Thread(target=worker, args=(key, -1 if i % 2 else 1), daemon=True) for i, key in enumerate(keys * 2)
    ]
    for t in threads:
        t.start()
    for _ in range(n - n // 2):
        submit(env)
    for t in threads:
        t.join(30)
    assert not errors
    assert len(got) == n and len(set(got)) == n
    running = _list(env, 1)
    assert sorted(_ids(running)) == sorted(got)
    assert _list(env, 0) is None


# --------------------------------------------------------------------------------------------
# closesuccessfulmsg / closefailedmsg / setoutputmsg


def test_close_successful(env: Env) -> None:
    pid = submit(env, env={"k": "v"})["processid"]
    _assigned(env)
    assert _close(env, pid, ["r", 1, {"x": None}]) == (200, {})
    p = get(env, pid)
    assert p["state"] == 2 and p["out"] == ["r", 1, {"x": None}] and p["errors"] == []
    assert p["attributes"][0]["state"] == 2
    assert p["isassigned"] is True and p["assignedexecutorid"] == id_of(env.executor_prvkey)
    assert parse_ns(p["endtime"]) >= parse_ns(p["starttime"]) > 0
    # A second close is accepted (upstream quirk); an empty out keeps the output.
    assert _close(env, pid, []) == (200, {})
    assert get(env, pid)["out"] == ["r", 1, {"x": None}]


def test_close_refusals(env: Env) -> None:
    what = "Failed to close process as successful"
    waiting = submit(env)["processid"]
    expect_error(_close(env, waiting, ["x"]), 403, f"{what}, process is not assigned")
    expect_error(_close(env, "0" * 64, []), 500, f"{what}, process is nil")
    pid = _assigned(env)["processid"]
    _, other = env.add_executor()
    expect_error(_close(env, pid, ["x"], other), 403, f"{what}, not allowed to close process as successful")
    expect_error(_close(env, pid, ["x"], env.user_prvkey), 403, f"{what}, not allowed to close process as successful")
    expect_error(
        _close(env, pid, ["x"], generate_prvkey()),
        403,
        f"Access denied, not a member of Colony with name <{env.colonyname}>",
    )
    assert get(env, pid)["state"] == 1 and get(env, pid)["out"] == []
    assert _fail(env, pid, ["boom"]) == (200, {})
    expect_error(_close(env, pid, ["x"]), 400, "Tried to set failed process as successful")
    assert get(env, pid)["state"] == 3


def test_close_cancelled_process(env: Env) -> None:
    pid = submit(env)["processid"]
    _assigned(env)
    assert _cancel(env, pid) == (200, {})
    expect_error(_close(env, pid, []), 400, "Tried to set cancelled process as successful")
    expect_error(_fail(env, pid, []), 400, "Tried to set cancelled process as failed")
    expect_error(_set_output(env, pid, ["x"]), 403, "Failed to set output, process is not running")
    assert get(env, pid)["state"] == 4


def test_close_failed(env: Env) -> None:
    what = "Failed to close process as failed"
    pid = submit(env)["processid"]
    expect_error(_fail(env, pid, ["e"]), 403, f"{what}, process is not assigned")
    expect_error(_fail(env, "1" * 64, ["e"]), 500, f"{what}, process is nil")
    _assigned(env)
    _, other = env.add_executor()
    expect_error(_fail(env, pid, ["e"], other), 403, f"{what}, not allowed to close process as failed")
    assert _fail(env, pid, ["e1", "e2"]) == (200, {})
    p = get(env, pid)
    assert p["state"] == 3 and p["errors"] == ["e1", "e2"] and parse_ns(p["endtime"]) > 0
    expect_error(_fail(env, pid, ["again"]), 400, "Tried to set failed process as failed")
    assert get(env, pid)["errors"] == ["e1", "e2"]

    pid = submit(env)["processid"]
    _assigned(env)
    assert _close(env, pid, None) == (200, {})
    expect_error(_fail(env, pid, ["late"]), 400, "Tried to set successful process as failed")
    assert get(env, pid)["state"] == 2 and get(env, pid)["errors"] == []


def test_close_failed_null_errors_stored_as_empty(env: Env) -> None:
    pid = submit(env, env={"k": "v"})["processid"]
    _assigned(env)
    assert _fail(env, pid, None) == (200, {})
    p = get(env, pid)
    assert p["state"] == 3 and p["errors"] == [] and p["attributes"][0]["state"] == 3
    assert _list(env, 3)[0]["errors"] == []


def test_set_output_and_close(env: Env) -> None:
    pid = submit(env)["processid"]
    _assigned(env)
    assert _set_output(env, pid, ["a", "b"]) == (200, {})
    assert get(env, pid)["out"] == ["a", "b"]
    assert _set_output(env, pid, ["c"]) == (200, {})  # replaces, does not append
    assert get(env, pid)["out"] == ["c"]
    assert _set_output(env, pid, []) == (200, {})  # no-op
    assert _set_output(env, pid, None) == (200, {})
    assert get(env, pid)["out"] == ["c"]
    # Closing with an empty out keeps what setoutput stored.
    assert _close(env, pid, []) == (200, {})
    assert get(env, pid)["out"] == ["c"]

    pid = submit(env)["processid"]
    _assigned(env)
    assert _set_output(env, pid, ["old"]) == (200, {})
    assert _close(env, pid, ["new"]) == (200, {})  # a non-empty out replaces
    assert get(env, pid)["out"] == ["new"]


def test_set_output_refusals(env: Env) -> None:
    wrong = "Failed to close process as successful, not allowed to close process as successful"
    waiting = submit(env)["processid"]
    expect_error(_set_output(env, waiting, ["x"]), 403, wrong)
    expect_error(_set_output(env, "2" * 64, ["x"]), 500, "Failed to set output, process is nil")
    pid = _assigned(env)["processid"]
    _, other = env.add_executor()
    expect_error(_set_output(env, pid, ["x"], other), 403, wrong)
    assert _close(env, pid, ["done"]) == (200, {})
    expect_error(_set_output(env, pid, ["x"]), 403, "Failed to set output, process is not running")
    assert get(env, pid)["out"] == ["done"]


# --------------------------------------------------------------------------------------------
# getprocessmsg / getprocessesmsg / getprocesshistmsg


def test_get_process(env: Env) -> None:
    pid = submit(env)["processid"]
    assert get(env, pid, env.user_prvkey)["processid"] == pid
    expect_error(
        raw_call(env.server, {"msgtype": "getprocessmsg", "processid": "3" * 64}, env.executor_prvkey),
        404,
        "Failed to get process, process not found",
    )
    expect_error(
        raw_call(env.server, {"msgtype": "getprocessmsg", "processid": pid}, generate_prvkey()),
        403,
        f"Access denied, not a member of Colony with name <{env.colonyname}>",
    )


def test_get_processes_validation(env: Env) -> None:
    msg = {"msgtype": "getprocessesmsg", "colonyname": env.colonyname, "count": 101, "state": 0}
    expect_error(raw_call(env.server, msg, env.executor_prvkey), 400, "Count is larger than MaxCount limit <100>")
    for state in (-1, 5, 99):
        msg = {"msgtype": "getprocessesmsg", "colonyname": env.colonyname, "count": 10, "state": state}
        expect_error(raw_call(env.server, msg, env.executor_prvkey), 400, "Failed to get processes, invalid msg.State")
    msg = {"msgtype": "getprocessesmsg", "colonyname": env.colonyname, "count": 10, "state": 0}
    assert raw_call(env.server, msg, generate_prvkey())[0] == 403
    assert raw_call(env.server, msg, env.colony_prvkey)[0] == 403
    for state in range(5):
        assert _list(env, state) is None  # empty list replies are null


def test_get_processes_ordering(env: Env) -> None:
    b_name, b_key = env.add_executor()
    # WAITING by prioritytime: priority beats submission order.
    p1 = submit(env, conditions={"executornames": [b_name]})["processid"]
    p2 = submit(env, priority=1, conditions={"executornames": [env.executorname]})["processid"]
    p3 = submit(env, conditions={"executornames": [b_name]})["processid"]
    assert _ids(_list(env, 0)) == [p2, p1, p3]
    assert _ids(_list(env, 0, count=2)) == [p2, p1]
    # RUNNING by starttime: p1 (b) then p3 (b) then p2 (us), unlike the priority order.
    assert _assigned(env, b_key)["processid"] == p1
    assert _assigned(env, b_key)["processid"] == p3
    assert _assigned(env)["processid"] == p2
    assert _ids(_list(env, 1)) == [p1, p3, p2]
    # SUCCESS by endtime, newest first.
    assert _close(env, p3, [], b_key)[0] == 200
    assert _close(env, p2, [])[0] == 200
    assert _close(env, p1, [], b_key)[0] == 200
    assert _ids(_list(env, 2)) == [p1, p2, p3]
    assert _ids(_list(env, 2, count=1)) == [p1]
    # CANCELLED and FAILED by endtime, newest first as well.
    c1, c2 = submit(env)["processid"], submit(env)["processid"]
    assert _cancel(env, c1)[0] == 200 and _cancel(env, c2)[0] == 200
    assert _ids(_list(env, 4)) == [c2, c1]
    assert _list(env, 3) is None


def test_get_processes_filters(env: Env) -> None:
    other_type = env.executortype + "-b"
    by_exec = submit(env, label="blue")["processid"]
    by_user = submit(env, prvkey=env.user_prvkey, label="red")["processid"]
    other = submit(env, executortype=other_type, label="red")["processid"]
    assert sorted(_ids(_list(env, 0))) == sorted([by_exec, by_user, other])
    assert _ids(_list(env, 0, executortype=other_type)) == [other]
    assert sorted(_ids(_list(env, 0, executortype=env.executortype))) == sorted([by_exec, by_user])
    assert _ids(_list(env, 0, label="blue")) == [by_exec]
    assert sorted(_ids(_list(env, 0, label="red"))) == sorted([by_user, other])
    assert _list(env, 0, label="green") is None
    assert _ids(_list(env, 0, initiator=env.username)) == [by_user]
    # One filter only: executortype > initiator > label.
    assert _ids(_list(env, 0, executortype=other_type, label="blue")) == [other]
    assert _ids(_list(env, 0, initiator=env.username, label="blue")) == [by_user]
    # The initiator filter takes user names only.
    msg = {
        "msgtype": "getprocessesmsg",
        "colonyname": env.colonyname,
        "count": 10,
        "state": 0,
        "initiator": env.executorname,
    }
    expect_error(raw_call(env.server, msg, env.executor_prvkey), 400, f"User <{env.executorname}> does not exist")


def test_get_process_history(env: Env) -> None:
    _, other = env.add_executor()
    mine = submit(env)["processid"]
    theirs = submit(env)["processid"]
    waiting = submit(env)["processid"]
    assert _assigned(env)["processid"] == mine
    assert _assigned(env, other)["processid"] == theirs
    assert _close(env, mine, [])[0] == 200
    assert _close(env, theirs, [], other)[0] == 200

    def hist(state: int, seconds: int = 60, executorid: str = "", prvkey: str | None = None) -> Any:
        msg = {
            "msgtype": "getprocesshistmsg",
            "colonyname": env.colonyname,
            "executorid": executorid,
            "seconds": seconds,
            "state": state,
        }
        return call_ok(env, msg, prvkey)

    assert _ids(hist(2)) == [mine, theirs]  # oldest submission first
    assert _ids(hist(2, executorid=id_of(other))) == [theirs]
    assert _ids(hist(2, executorid=id_of(env.executor_prvkey), prvkey=env.user_prvkey)) == [mine]
    assert _ids(hist(0)) == [waiting]
    assert hist(3) is None
    assert hist(2, seconds=0) is None  # nothing was submitted in the last 0 seconds
    msg = {"msgtype": "getprocesshistmsg", "colonyname": env.colonyname, "executorid": "", "seconds": 60, "state": 2}
    expect_error(
        raw_call(env.server, msg, generate_prvkey()),
        403,
        f"Access denied, not a member of Colony with name <{env.colonyname}>",
    )


# --------------------------------------------------------------------------------------------
# removeprocessmsg / removeallprocessesmsg


def test_remove_process(env: Env) -> None:
    def remove(pid: str, prvkey: str | None = None) -> tuple[int, Any]:
        msg = {"msgtype": "removeprocessmsg", "processid": pid, "all": False}
        return raw_call(env.server, msg, prvkey or env.executor_prvkey)

    running = submit(env, env={"k": "v"})["processid"]
    _assigned(env)
    expect_error(remove(running), 400, "Failed to remove process, cannot remove a running process")
    assert get(env, running)["state"] == 1
    waiting = submit(env, env={"k": "v"})["processid"]
    expect_error(
        remove(waiting, generate_prvkey()), 403, f"Access denied, not a member of Colony with name <{env.colonyname}>"
    )
    assert remove(waiting, env.user_prvkey) == (200, {})
    status, _ = raw_call(env.server, {"msgtype": "getprocessmsg", "processid": waiting}, env.executor_prvkey)
    assert status == 404
    expect_error(remove(waiting), 500, "Failed to remove process, process is nil")
    assert _close(env, running, [])[0] == 200
    assert remove(running) == (200, {})
    assert _list(env, 2) is None and _list(env, 0) is None


def _processes_in_every_state(env: Env) -> dict[int, str]:
    """One process per state 0-4 (the RUNNING one stays running)."""
    ids = {}
    ids[2] = submit(env)["processid"]
    ids[3] = submit(env)["processid"]
    ids[1] = submit(env)["processid"]
    for expected in (ids[2], ids[3], ids[1]):
        assert _assigned(env)["processid"] == expected
    assert _close(env, ids[2], [])[0] == 200
    assert _fail(env, ids[3], [])[0] == 200
    ids[4] = submit(env)["processid"]
    assert _cancel(env, ids[4])[0] == 200
    ids[0] = submit(env)["processid"]
    return ids


def _states_present(env: Env) -> set[int]:
    return {state for state in range(5) if _list(env, state) is not None}


@pytest.mark.parametrize("state", [0, 2, 3, 4])
def test_remove_all_processes_by_state(env: Env, state: int) -> None:
    ids = _processes_in_every_state(env)
    assert _owner(env, "removeallprocessesmsg", state=state) == (200, {})
    assert _states_present(env) == {0, 1, 2, 3, 4} - {state}
    status, _ = raw_call(env.server, {"msgtype": "getprocessmsg", "processid": ids[state]}, env.executor_prvkey)
    assert status == 404


def test_remove_all_processes_all_states_and_refusals(env: Env) -> None:
    _processes_in_every_state(env)
    expect_error(_owner(env, "removeallprocessesmsg", state=1), 400, "Not possible to remove running processes")
    expect_error(_owner(env, "removeallprocessesmsg", state=7), 400, "Invalid state when deleting all processes")
    expect_error(
        _owner(env, "removeallprocessesmsg", env.executor_prvkey, state=-1), 403, "Access denied, not colony owner"
    )
    expect_error(
        _owner(env, "removeallprocessesmsg", env.user_prvkey, state=-1), 403, "Access denied, not colony owner"
    )
    assert _states_present(env) == {0, 1, 2, 3, 4}
    # A missing state decodes as 0: waiting only.
    assert _owner(env, "removeallprocessesmsg") == (200, {})
    assert _states_present(env) == {1, 2, 3, 4}
    assert _owner(env, "removeallprocessesmsg", state=-1) == (200, {})
    # Every finished or waiting process is gone (the running one is left alone here; upstream
    # deletes it too).
    assert _states_present(env) <= {1}
    assert _list(env, 0) is None and _list(env, 2) is None and _list(env, 3) is None and _list(env, 4) is None


def test_remove_all_processes_other_colony_untouched(env: Env, server: Any) -> None:
    gen = make_env(server)
    other = next(gen)
    try:
        theirs = submit(other)["processid"]
        submit(env)
        assert _owner(env, "removeallprocessesmsg", state=-1) == (200, {})
        assert _list(env, 0) is None
        assert get(other, theirs)["state"] == 0
    finally:
        gen.close()


# --------------------------------------------------------------------------------------------
# cancelprocessmsg


def test_cancel_process(env: Env) -> None:
    waiting = submit(env, env={"k": "v"})["processid"]
    expect_error(_cancel(env, "4" * 64), 500, "Failed to cancel process, process is nil")
    expect_error(
        _cancel(env, waiting, generate_prvkey()),
        403,
        f"Access denied, not a member of Colony with name <{env.colonyname}>",
    )
    assert _cancel(env, waiting, env.user_prvkey) == (200, {})  # any member, not only the submitter
    p = get(env, waiting)
    assert p["state"] == 4 and parse_ns(p["endtime"]) > 0 and p["isassigned"] is False
    assert p["attributes"][0]["state"] == 4
    expect_error(_cancel(env, waiting), 400, "Tried to cancel already cancelled process")
    expect_error(assign(env), 404, "No process available for assignment")  # never assigned again

    running = submit(env)["processid"]
    _assigned(env)
    assert _cancel(env, running) == (200, {})
    p = get(env, running)
    assert p["state"] == 4 and p["assignedexecutorid"] == id_of(env.executor_prvkey) and p["isassigned"] is True

    done = submit(env)["processid"]
    _assigned(env)
    assert _close(env, done, [])[0] == 200
    expect_error(_cancel(env, done), 400, "Tried to cancel successful process")
    failed = submit(env)["processid"]
    _assigned(env)
    assert _fail(env, failed, [])[0] == 200
    expect_error(_cancel(env, failed), 400, "Tried to cancel failed process")


# --------------------------------------------------------------------------------------------
# pauseassignmentsmsg / resumeassignmentsmsg / getpausestatusmsg


def _pause_status(env: Env, prvkey: str | None = None) -> Any:
    msg = {"msgtype": "getpausestatusmsg", "colonyname": env.colonyname}
    status, envelope, payload = raw_post(env.server, build_request(msg, prvkey or env.executor_prvkey))
    assert status == 200 and envelope["payloadtype"] == "pausestatusreplymsg" and envelope["error"] is False
    assert payload["msgtype"] == "pausestatusreplymsg" and payload["colonyname"] == env.colonyname
    return payload["ispaused"]


def test_pause_resume_status(env: Env) -> None:
    assert _pause_status(env) is False
    expect_error(_owner(env, "pauseassignmentsmsg", env.executor_prvkey), 403, "Access denied, not colony owner")
    expect_error(_owner(env, "resumeassignmentsmsg", env.user_prvkey), 403, "Access denied, not colony owner")
    assert _owner(env, "pauseassignmentsmsg") == (200, {})
    assert _pause_status(env) is True
    assert _pause_status(env, env.user_prvkey) is True
    _, pending = env.add_executor(approve=False)
    assert _pause_status(env, pending) is True  # approval not required
    msg = {"msgtype": "getpausestatusmsg", "colonyname": env.colonyname}
    assert raw_call(env.server, msg, generate_prvkey())[0] == 403
    assert _owner(env, "resumeassignmentsmsg") == (200, {})
    assert _pause_status(env) is False


def test_paused_assign(env: Env) -> None:
    assert _owner(env, "pauseassignmentsmsg") == (200, {})
    pid = submit(env)["processid"]  # submissions continue while paused
    expect_error(assign(env, timeout=-1), 503, "No processes available: colony assignments are paused")
    started = time.monotonic()
    expect_error(assign(env, timeout=1), 408, "Assignment timeout: colony assignments are paused")
    assert 0.9 <= time.monotonic() - started < 3
    assert get(env, pid)["state"] == 0

    poll = Background(lambda: assign(env, timeout=10))
    time.sleep(0.3)
    assert poll.is_alive()
    resumed_at = time.monotonic()
    assert _owner(env, "resumeassignmentsmsg") == (200, {})
    status, p = poll.result()
    assert status == 200 and p["processid"] == pid
    assert poll.finished_at - resumed_at < 1.0


def test_pause_is_per_colony(env: Env, server: Any) -> None:
    gen = make_env(server)
    other = next(gen)
    try:
        assert _owner(env, "pauseassignmentsmsg") == (200, {})
        pid = submit(other)["processid"]
        assert _assigned(other)["processid"] == pid
    finally:
        assert _owner(env, "resumeassignmentsmsg") == (200, {})
        gen.close()


def test_assign_abandoned_by_client_takes_nothing(env: Env) -> None:
    """A long-poll whose client went away must not claim a process nobody will receive."""
    body = build_request(
        {"msgtype": "assignprocessmsg", "colonyname": env.colonyname, "timeout": 10}, env.executor_prvkey
    )
    with httpx.Client() as gone, pytest.raises(httpx.ReadTimeout):
        gone.post(f"{env.server.url}/api", content=body, timeout=httpx.Timeout(5, read=0.3))
    time.sleep(0.2)
    pid = submit(env)["processid"]
    time.sleep(0.2)
    status, p = assign(env)
    assert status == 200 and p["processid"] == pid
    # The same for a poll that waits for the colony to be resumed.
    assert _owner(env, "pauseassignmentsmsg") == (200, {})
    pid = submit(env)["processid"]
    with httpx.Client() as gone, pytest.raises(httpx.ReadTimeout):
        gone.post(f"{env.server.url}/api", content=body, timeout=httpx.Timeout(5, read=0.3))
    time.sleep(0.2)
    assert _owner(env, "resumeassignmentsmsg") == (200, {})
    time.sleep(0.2)
    status, p = assign(env)
    assert status == 200 and p["processid"] == pid
