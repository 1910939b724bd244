"""``colonies function`` and ``colonies process``: submitting from a JSON spec and from flags,
waiting and following, the process tables, get/cancel/remove/removeall, pause/resume, and the
executor side (assign, close, fail) from a shell."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pycolonies import Colonies, Process

from ..conftest import Env
from .conftest import TIME, Cli, Worker, parse_kv, run_process, submit, write_json

PROCESS_COLUMNS = ["FUNCNAME", "ARGS", "KWARGS", "EXECUTOR NAME", "EXECUTOR TYPE", "INITIATOR", "LABEL"]


def columns(time_header: str) -> list[str]:
    return [*PROCESS_COLUMNS[:3], time_header, *PROCESS_COLUMNS[3:]]


def test_function_submit_spec_file(cli: Cli, env: Env, tmp_path: Path) -> None:
    spec = write_json(
        tmp_path / "echo.json",
        {
            "funcname": "echo",
            "args": ["holiday.png", 512],
            "kwargs": {"quality": "high"},
            "env": {"MODE": "fast"},
            "label": "thumbs",
            "priority": 10,
            "maxretries": 2,
            "conditions": {"executortype": env.executortype},
            "func": "typo",
        },
    )
    result = cli.ok("function", "submit", "--spec", str(spec), "--json")
    process = Process(**json.loads(result.stdout))
    assert "Process submitted: " + process.processid in result.stderr
    assert "ignoring unknown keys: func" in result.stderr
    s = process.spec
    assert (s.funcname, s.args, s.kwargs, s.env, s.label) == (
        "echo",
        ["holiday.png", 512],
        {"quality": "high"},
        {"MODE": "fast"},
        "thumbs",
    )
    assert s.conditions.colonyname == env.colonyname  # filled from COLONIES_COLONY_NAME
    assert (s.maxwaittime, s.maxexectime, s.maxretries, s.priority) == (-1, -1, 2, 10)

    # without --json: the confirmation on stderr, nothing on stdout; --label overrides the spec
    result = cli.ok("function", "submit", "--spec", str(spec), "--label", "other")
    assert result.stdout == "" and result.stderr.count("Process submitted: ") == 1
    labels = sorted(p["spec"]["label"] for p in cli.json("process", "psw"))
    assert labels == ["other", "thumbs"]


def test_function_exec_flags(cli: Cli, env: Env) -> None:
    process = cli.json(
        "function", "exec", "--func", "resize", "--args", "a,b", "--args", "c", "--kwargs", "k:v,n:1",
        "--env", "X=1", "--targettype", env.executortype, "--maxexectime", "60", "--priority", "3",
        "--label", "L",
    )  # fmt: skip
    s = process["spec"]
    assert s["funcname"] == "resize" and s["args"] == ["a", "b", "c"] and s["kwargs"] == {"k": "v", "n": "1"}
    assert s["env"] == {"X": "1"} and s["maxexectime"] == 60 and s["priority"] == 3 and s["label"] == "L"
    assert s["conditions"] == {**s["conditions"], "colonyname": env.colonyname, "executortype": env.executortype}

    pinned = cli.json("function", "exec", "--func", "f", "--targetname", env.executorname)
    assert pinned["spec"]["conditions"]["executornames"] == [env.executorname]
    assert "--targettype" in cli.error("function", "exec", "--func", "f")
    assert "key:value" in cli.error("function", "exec", "--func", "f", "--targettype", "t", "--kwargs", "novalue")


def test_process_lists(cli: Cli, env: Env) -> None:
    done = run_process(env)
    waiting = submit(env, "waiter", ["a", "b"], kwargs={"k": "v"})

    headers, rows = cli.table("process", "psw")
    assert headers == columns("SUBMISSION TIME")
    assert len(rows) == 1
    row = dict(zip(headers, rows[0], strict=True))
    assert row["FUNCNAME"] == "waiter" and row["ARGS"] == "a b" and row["KWARGS"] == "k:v"
    assert TIME.match(row["SUBMISSION TIME"]) and row["EXECUTOR TYPE"] == env.executortype
    assert row["INITIATOR"] == env.username

    headers, rows = cli.table("process", "pss", "-i")
    assert headers == ["ID", *columns("END TIME")]
    assert rows[0][0] == done.processid and rows[0][5] == env.executorname  # the assigned executor's name

    assert [p["processid"] for p in cli.json("process", "psw")] == [waiting.processid]
    assert [p["processid"] for p in cli.json("process", "ls", "--state", "successful")] == [done.processid]
    assert cli.json("process", "psf") == []
    assert "No running processes found" in cli.ok("process", "ps").stderr
    assert cli.table("process", "ls", "-s", "waiting")[0] == columns("SUBMISSION TIME")
    assert cli.json("process", "psw", "--executortype", "other") == []
    assert "at most one" in cli.error("process", "psw", "--label", "a", "--initiator", "b")


def test_process_get(cli: Cli, env: Env) -> None:
    done = run_process(env, ["out-1", 2])
    kv = parse_kv(cli.ok("process", "get", "-p", done.processid).stdout)
    assert kv["Id"] == done.processid and kv["State"] == "successful"
    assert kv["AssignedExecutor"] == env.executorname and kv["Output"] == "out-1 2"
    assert kv["Func"] == "echo" and kv["Colony"] == env.colonyname and kv["ExecutorType"] == env.executortype
    assert TIME.match(kv["SubmissionTime"]) and TIME.match(kv["EndTime"])
    got = cli.json("process", "get", "-p", done.processid)
    assert got["processid"] == done.processid and got["out"] == ["out-1", 2] and got["state"] == 2
    assert cli.ok("process", "get", "-p", done.processid, "--out").stdout == "out-1 2\n"


def test_cancel_remove_removeall(cli: Cli, env: Env) -> None:
    a, b, c = submit(env), submit(env), submit(env)
    cli.ok("process", "cancel", "-p", a.processid)
    assert [p["processid"] for p in cli.json("process", "psc")] == [a.processid]
    cli.ok("process", "remove", "-p", b.processid)
    assert [p["processid"] for p in cli.json("process", "psw")] == [c.processid]

    # removeall asks for YES (colony key)
    assert "not confirmed" in cli.error("process", "removeall", "--waiting", input="no\n")
    assert [p["processid"] for p in cli.json("process", "psw")] == [c.processid]
    result = cli.ok("process", "removeall", "--waiting", input="YES\n")
    assert "Type YES" in result.stderr
    assert cli.json("process", "psw") == [] and len(cli.json("process", "psc")) == 1
    cli.ok("process", "removeall", "--yes")
    assert cli.json("process", "psc") == []
    assert "at most one" in cli.error("process", "removeall", "--waiting", "--failed", "--yes")


def test_pause_resume_status(cli: Cli, env: Env) -> None:
    assert cli.json("process", "status") == {"colonyname": env.colonyname, "ispaused": False}
    assert "PAUSED" in cli.ok("process", "pause").stderr
    assert "PAUSED" in cli.ok("process", "status").stdout
    assert env.client.get_pause_status(env.colonyname, env.user_prvkey) is True
    cli.ok("process", "resume")
    assert cli.json("process", "status")["ispaused"] is False
    # the user key is not the colony owner's
    assert "Access denied" in cli.error("process", "pause", COLONIES_COLONY_PRVKEY=env.user_prvkey)


def test_executor_side_from_the_shell(cli: Cli, env: Env) -> None:
    """assign, log add, attribute add, close and fail, signed by the executor's key."""
    as_executor = Cli(env, {"COLONIES_PRVKEY": env.executor_prvkey})
    first, second = submit(env), submit(env)
    assigned = as_executor.json("process", "assign", "--timeout", "5")
    assert assigned["processid"] == first.processid
    as_executor.ok("process", "close", "-p", first.processid, "--out", "x,y")
    assert env.client.get_process(first.processid, env.user_prvkey).output == ["x", "y"]
    as_executor.ok("process", "assign", "--timeout", "5")
    as_executor.ok("process", "fail", "-p", second.processid, "--errors", "bad input")
    assert env.client.get_process(second.processid, env.user_prvkey).errors == ["bad input"]
    assert "no process was assigned" in as_executor.error("process", "assign", "--timeout", "1")


def close_with(output: list[str], logs: tuple[str, ...] = ()) -> Callable[[Colonies, Process], None]:
    def job(client: Colonies, process: Process) -> None:
        for line in logs:
            client.add_log(process.processid, line)
        client.close(process.processid, output)

    return job


def test_submit_wait_out_and_follow(cli: Cli, env: Env, worker: Callable[..., Worker], tmp_path: Path) -> None:
    spec = write_json(tmp_path / "f.json", {"funcname": "echo", "conditions": {"executortype": env.executortype}})
    w = worker(close_with(["hello", "world"]))
    result = cli.ok("function", "submit", "--spec", str(spec), "--wait", "--out")
    assert result.stdout == "hello world\n"
    w.join()

    w = worker(close_with(["r"], logs=("step 1\n", "step 2")))
    result = cli.ok("function", "exec", "--func", "echo", "--targettype", env.executortype, "--follow", "--out")
    assert result.stdout == "step 1\nstep 2\nr\n"
    w.join()

    w = worker(close_with(["z"]))
    got = cli.json("function", "submit", "--spec", str(spec), "--wait")
    assert got["state"] == 2 and got["out"] == ["z"]
    w.join()

    # --follow --json: stdout is the finished process only, the log lines go to stderr
    w = worker(close_with(["j"], logs=("log line",)))
    result = cli.ok("function", "submit", "--spec", str(spec), "--follow", "--json")
    assert json.loads(result.stdout)["out"] == ["j"] and "log line" in result.stderr
    w.join()


def test_submit_wait_failure(cli: Cli, env: Env, worker: Callable[..., Worker]) -> None:
    def job(client: Colonies, process: Process) -> None:
        client.fail(process.processid, ["it broke"])

    w = worker(job)
    line = cli.error("function", "exec", "--func", "echo", "--targettype", env.executortype, "--wait")
    assert "failed: it broke" in line
    w.join()
    # nobody runs it: --timeout ends --follow and --wait
    for flag in ("--follow", "--wait"):
        line = cli.error("function", "exec", "--func", "echo", "--targettype", "nobody", flag, "--timeout", "0.3")
        assert "did not finish within 0.3 s" in line


def test_process_wait(cli: Cli, env: Env, worker: Callable[..., Worker], monkeypatch: pytest.MonkeyPatch) -> None:
    process = submit(env)
    assert "did not finish within 0.3 s" in cli.error("process", "wait", "-p", process.processid, "--timeout", "0.3")

    # a spinner is drawn only on terminals; pretend both streams are one
    from pycolonies.cli import output

    monkeypatch.setattr(output, "_isatty", lambda stream: True)
    w = worker(close_with(["ok"]))
    assert cli.ok("process", "wait", "-p", process.processid, "--out").stdout.strip().endswith("ok")
    w.join()
    monkeypatch.undo()
    assert cli.json("process", "wait", "-p", process.processid)["out"] == ["ok"]

    cancelled = submit(env)
    env.client.cancel_process(cancelled.processid, env.user_prvkey)
    assert f"process {cancelled.processid} cancelled" in cli.error("process", "wait", "-p", cancelled.processid)


def test_function_ls_register_remove(cli: Cli, env: Env) -> None:
    as_executor = Cli(env, {"COLONIES_PRVKEY": env.executor_prvkey})
    fn = as_executor.json("function", "register", "--func", "train", COLONIES_EXECUTOR_NAME=env.executorname)
    assert fn["funcname"] == "train" and fn["executorname"] == env.executorname
    kv = parse_kv(cli.ok("function", "ls").stdout)
    assert kv["FunctionName"] == "train" and kv["ExecutorType"] == env.executortype
    assert kv["Executors"] == env.executorname and kv["Call counter"] == "0"
    assert [f["funcname"] for f in cli.json("function", "ls")] == ["train"]
    # executor get shows it too
    assert "Function: train" in cli.ok("executor", "get", "--name", env.executorname).stdout
    as_executor.ok("function", "remove", "--functionid", fn["functionid"])
    assert cli.json("function", "ls") == []
    assert "No functions found" in cli.ok("function", "ls").stderr
