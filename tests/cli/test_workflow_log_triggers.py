"""``colonies workflow``, ``log``, ``cron`` and ``generator``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pycolonies import Colonies, Process

from ..conftest import Env
from .conftest import TIME, Cli, Worker, parse_kv, parse_table, submit, write_json


def diamond(env: Env, tmp_path: Path) -> Path:
    """The reference doc's diamond-shaped workflow, on the env's executor type."""
    t = env.executortype
    return write_json(
        tmp_path / "workflow.json",
        [
            {"nodename": "fetch", "funcname": "download", "args": ["d"], "conditions": {"executortype": t}},
            {
                "nodename": "stats",
                "funcname": "summarize",
                "conditions": {"executortype": t, "dependencies": ["fetch"]},
            },
            {"nodename": "plot", "funcname": "render", "conditions": {"executortype": t, "dependencies": ["fetch"]}},
            {
                "nodename": "report",
                "funcname": "compose",
                "conditions": {"executortype": t, "dependencies": ["stats", "plot"]},
                "maxexectime": 120,
            },
        ],
    )


def test_workflow_submit_ls_get(cli: Cli, env: Env, tmp_path: Path) -> None:
    graph = cli.json("workflow", "submit", "--spec", str(diamond(env, tmp_path)))
    wid = graph["processgraphid"]
    assert graph["colonyname"] == env.colonyname and len(graph["processids"]) == 4

    headers, rows = cli.table("workflow", "psw")
    assert headers == ["WORKFLOWID", "SUBMISSION TIME", "INITIATOR"]
    assert rows[0][0] == wid and TIME.match(rows[0][1]) and rows[0][2] == env.username
    assert [g["processgraphid"] for g in cli.json("workflow", "ls", "--state", "waiting")] == [wid]
    assert "No running workflows found" in cli.ok("workflow", "ps").stderr

    out = cli.ok("workflow", "get", "--workflowid", wid).stdout
    kv = parse_kv(out)
    assert kv["WorkflowId"] == wid and kv["State"] == "waiting" and kv["InitiatorName"] == env.username
    headers, rows = parse_table(out[out.index("Processes") :])
    assert headers == ["NODENAME", "PROCESSID", "FUNCNAME", "EXECUTOR TYPE", "STATE", "DEPENDENCIES"]
    assert {r[0]: r[5] for r in rows} == {"fetch": "", "stats": "fetch", "plot": "fetch", "report": "stats plot"}
    got = cli.json("workflow", "get", "--processgraphid", wid)
    assert got["processgraphid"] == wid and len(got["edges"]) == 4
    assert {n["data"]["label"] for n in got["nodes"]} == {"fetch", "stats", "plot", "report"}

    # the processes belong to the workflow; maxexectime 0/missing became -1
    report = [env.client.get_process(p, env.user_prvkey) for p in graph["processids"]]
    assert sorted(p.spec.maxexectime for p in report) == [-1, -1, -1, 120]

    cli.ok("workflow", "cancel", "--workflowid", wid)
    assert [g["processgraphid"] for g in cli.json("workflow", "psc")] == [wid]
    cli.ok("workflow", "remove", "--workflowid", wid)
    assert cli.json("workflow", "psc") == []


def test_workflow_wait_and_removeall(cli: Cli, env: Env, tmp_path: Path, worker: Callable[..., Worker]) -> None:
    spec = diamond(env, tmp_path)

    def job(client: Colonies, process: Process) -> None:
        client.close(process.processid, [process.spec.nodename])

    w = worker(job, count=4)
    graph = cli.json("workflow", "submit", "--spec", str(spec), "--wait")
    assert graph["state"] == 2
    w.join()
    assert [g["processgraphid"] for g in cli.json("workflow", "pss")] == [graph["processgraphid"]]
    assert TIME.match(cli.table("workflow", "pss")[1][0][1])
    assert (
        "Workflow finished successfully" in cli.ok("workflow", "wait", "--workflowid", graph["processgraphid"]).stderr
    )

    cli.ok("workflow", "submit", "--spec", str(spec))
    cli.ok("workflow", "removeall", "--yes")
    assert cli.json("workflow", "psw") == [] and cli.json("workflow", "pss") == []


def test_workflow_file_shapes(cli: Cli, env: Env, tmp_path: Path) -> None:
    one = write_json(tmp_path / "one.json", {"funcname": "f", "conditions": {"executortype": "t"}})
    assert "use 'colonies function submit" in cli.error("workflow", "submit", "--spec", str(one))
    empty = write_json(tmp_path / "empty.json", [])
    assert "no function specs" in cli.error("workflow", "submit", "--spec", str(empty))
    wrapped = write_json(
        tmp_path / "wrapped.json",
        {"colonyname": env.colonyname, "functionspecs": [{"nodename": "a", "funcname": "f", "conditions": {}}]},
    )
    assert cli.json("workflow", "submit", "--spec", str(wrapped))["colonyname"] == env.colonyname
    cyclic = write_json(
        tmp_path / "cyclic.json",
        [
            {"nodename": "a", "funcname": "f", "conditions": {"dependencies": ["b"]}},
            {"nodename": "b", "funcname": "f", "conditions": {"dependencies": ["a"]}},
        ],
    )
    assert "server replied" in cli.error("workflow", "submit", "--spec", str(cyclic))


def running(env: Env) -> Process:
    submit(env)
    process = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert process is not None
    return process


def test_log_get_search_add(cli: Cli, env: Env) -> None:
    process = running(env)
    as_executor = Cli(env, {"COLONIES_PRVKEY": env.executor_prvkey})
    for i in range(5):
        as_executor.ok("log", "add", "-p", process.processid, "-m", f"line {i}\n")

    assert cli.ok("log", "get", "-p", process.processid).stdout == "".join(f"line {i}\n" for i in range(5))
    assert cli.ok("log", "get", "-p", process.processid, "--count", "2").stdout == "line 3\nline 4\n"
    assert cli.ok("log", "get", "-p", process.processid, "--count", "2", "--first").stdout == "line 0\nline 1\n"
    logs = cli.json("log", "get", "-p", process.processid)
    assert [entry["message"] for entry in logs] == [f"line {i}\n" for i in range(5)]
    after = cli.ok("log", "get", "-p", process.processid, "--since", str(logs[2]["timestamp"])).stdout
    assert after == "line 3\nline 4\n"
    assert cli.ok("log", "get", "-e", env.executorname).stdout.count("line") == 5
    assert "one of --processid and --executorname" in cli.error("log", "get")

    hits = cli.json("log", "search", "--text", "line 3")
    assert [(h["processid"], h["message"]) for h in hits] == [(process.processid, "line 3\n")]
    kv = parse_kv(cli.ok("log", "search", "-t", "line 3").stdout)
    assert kv["ProcessID"] == process.processid and kv["Text"] == "line 3" and kv["ExecutorName"] == env.executorname
    printed = cli.ok("log", "search", "-t", "line 4", "--print").stdout
    assert printed.count("=================== LOGS ====================") == 2 and "line 0" in printed
    assert "No log lines" in cli.ok("log", "search", "-t", "nothing like this").stderr
    # only the assigned executor may add lines
    assert "only the assigned Executor" in cli.error("log", "add", "-p", process.processid, "-m", "x")


def test_log_follow(cli: Cli, env: Env, worker: Callable[..., Worker]) -> None:
    process = submit(env)

    def job(client: Colonies, p: Process) -> None:
        for i in range(3):
            client.add_log(p.processid, f"step {i}")
            time.sleep(0.2)
        client.close(p.processid, [])

    w = worker(job)
    result = cli.ok("log", "get", "-p", process.processid, "--follow")
    assert result.stdout == "step 0\nstep 1\nstep 2\n"
    w.join()
    lines = cli.ok("log", "get", "-p", process.processid, "--follow", "--json").stdout.splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["step 0", "step 1", "step 2"]


def test_cron(cli: Cli, env: Env, tmp_path: Path) -> None:
    spec = write_json(tmp_path / "wf.json", [{"nodename": "n", "funcname": "f", "conditions": {"executortype": "t"}}])
    cron = cli.json("cron", "add", "--name", "nightly", "--spec", str(spec), "--cron", "0 0 3 * * *", "--waitprevious")
    cronid = cron["cronid"]
    assert cron["name"] == "nightly" and cron["cronexpression"] == "0 0 3 * * *"
    headers, rows = cli.table("cron", "ls")
    assert headers == ["CRONID", "NAME", "INITIATOR"] and rows == [[cronid, "nightly", env.username]]
    out = cli.ok("cron", "get", "--cronid", cronid).stdout
    kv = parse_kv(out)
    assert kv["Name"] == "nightly" and kv["Cron Expression"] == "0 0 3 * * *"
    assert kv["NextRun"] == "-" or TIME.match(kv["NextRun"])  # set by the server's cron loop
    assert kv["WaitForPrevProcessGraph"] == "True"
    assert parse_table(out[out.index("Workflow") :])[1] == [["n", "f", "t", ""]]
    assert cli.json("cron", "get", "--cronid", cronid)["waitforprevprocessgraph"] is True

    cli.ok("cron", "run", "--cronid", cronid)
    deadline = time.monotonic() + 10
    while not cli.json("workflow", "psw") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(cli.json("workflow", "psw")) == 1

    every = cli.json("cron", "add", "--name", "often", "--spec", str(spec), "--interval", "3600")
    assert every["interval"] == 3600
    assert "--cron or --interval" in cli.error("cron", "add", "--name", "x", "--spec", str(spec))
    random = cli.json("cron", "add", "--name", "jitter", "--spec", str(spec), "--interval", "60", "--random")
    assert (random["interval"], random["random"]) == (60, True)
    assert "--random needs --interval" in cli.error(
        "cron", "add", "--name", "y", "--spec", str(spec), "--cron", "0 0 3 * * *", "--random"
    )
    cli.ok("cron", "remove", "--cronid", cronid)
    cli.ok("cron", "remove", "--cronid", random["cronid"])
    assert [c["name"] for c in cli.json("cron", "ls")] == ["often"]


def test_generator(cli: Cli, env: Env, tmp_path: Path) -> None:
    spec = write_json(tmp_path / "wf.json", [{"nodename": "n", "funcname": "f", "conditions": {"executortype": "t"}}])
    gen = cli.json("generator", "add", "--name", "batch", "--spec", str(spec), "--trigger", "2")
    gid = gen["generatorid"]
    headers, rows = cli.table("generator", "ls")
    assert headers == ["GENERATORID", "NAME", "INITIATOR"] and rows == [[gid, "batch", env.username]]
    kv = parse_kv(cli.ok("generator", "get", "--generatorid", gid).stdout)
    assert kv["Name"] == "batch" and kv["Trigger"] == "2" and kv["Timeout"] == "-1"
    assert cli.json("generator", "resolve", "--name", "batch")["generatorid"] == gid

    cli.ok("generator", "pack", "--generatorid", gid, "--arg", "a1")
    assert cli.json("generator", "get", "--generatorid", gid)["queuesize"] == 1
    cli.ok("generator", "pack", "--generatorid", gid, "--arg", "a2")
    deadline = time.monotonic() + 10
    graphs: list[Any] = []
    while not graphs and time.monotonic() < deadline:
        time.sleep(0.1)
        graphs = cli.json("workflow", "psw")
    assert len(graphs) == 1
    cli.ok("generator", "remove", "--generatorid", gid)
    assert cli.json("generator", "ls") == []
    assert "No generators found" in cli.ok("generator", "ls").stderr
