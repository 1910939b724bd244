"""The Python code-injection executor against the real server: the seed README's workflow (3),
upstream's dynamic map-reduce (15), failures (error text + traceback, the loop keeps serving, the
graph fails), identities (registered here or pre-registered), and ``python -m
pycolonies.executor.python`` with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pycolonies import Colonies, Process, Workflow, func_spec
from pycolonies.executor import Executor, ExecutorConfigError, ExecutorError, PythonExecutor, Settings
from pycolonies.executor.python import main

from ..conftest import Env

PYTHON = "python-executor"


@contextmanager
def serving(executor: Executor) -> Iterator[Executor]:
    """``executor.run()`` in a thread; stopped (and unregistered) on exit."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            executor.run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not executor._started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield executor
    finally:
        executor.stop()
        thread.join(10)
        assert not thread.is_alive(), "the executor did not stop"
        assert not errors, errors


def python_executor(env: Env, **kwargs: Any) -> PythonExecutor:
    kwargs.setdefault("colony_prvkey", env.colony_prvkey)
    client = Colonies("127.0.0.1", env.server.port, tls=False)
    return PythonExecutor(client, env.colonyname, poll_timeout=1, **kwargs)


def finished(env: Env, processid: str, timeout: float = 10) -> Process:
    deadline = time.monotonic() + timeout
    while True:
        process = env.client.get_process(processid, env.user_prvkey)
        if process.state in (Colonies.SUCCESSFUL, Colonies.FAILED):
            return process
        assert time.monotonic() < deadline, f"process {processid} still in state {process.state}"
        time.sleep(0.02)


def submit(env: Env, func: Any, args: list[Any] | None = None, **kwargs: Any) -> Process:
    spec = func_spec(func=func, args=args or [], colonyname=env.colonyname, executortype=PYTHON, **kwargs)
    spec.maxexectime = 30
    return env.client.submit_func_spec(spec, env.user_prvkey)


def find_executor(env: Env, name: str) -> dict[str, Any]:
    return next(e for e in env.client.list_executors(env.colonyname, env.user_prvkey) if e["executorname"] == name)


# ------------------------------------------------------------------------------------------------
# The seed README's workflow and upstream's map-reduce


def gen_nums(ctx={}):  # noqa: B006 - the README's functions, verbatim
    return 1, 2


def sum_nums(n1, n2, ctx={}):  # noqa: B006
    return n1 + n2


def test_readme_workflow_returns_3(env: Env) -> None:
    client, prvkey, colonyname = env.client, env.user_prvkey, env.colonyname
    with serving(python_executor(env)):
        # the README's "Workflows" section, verbatim except for the colony name
        wf = Workflow(colonyname=colonyname)

        f1 = func_spec(
            func=gen_nums,
            args=[],
            colonyname=colonyname,
            executortype="python-executor",
            maxexectime=60,
            maxwaittime=60,
        )
        wf.functionspecs.append(f1)

        f2 = func_spec(
            func=sum_nums,
            args=[],
            colonyname=colonyname,
            executortype="python-executor",
            maxexectime=60,
            maxwaittime=60,
        )
        f2.conditions.dependencies.append("gen_nums")
        wf.functionspecs.append(f2)

        processgraph = client.submit_workflow(wf, prvkey)

        process = client.find_process("sum_nums", processgraph.processids, prvkey)
        process = client.wait(process, 10, prvkey)
    assert process.output == [3]
    assert process.input == [1, 2]
    first = client.find_process("gen_nums", processgraph.processids, prvkey)
    assert first.output == [1, 2] and first.state == Colonies.SUCCESSFUL
    assert client.get_processgraph(processgraph.processgraphid, prvkey).state == Colonies.SUCCESSFUL


# upstream's workflow_example3.py map step: it uses the executor's global `colonies` client and
# `func_spec`, and ctx["process"], ctx["executor_prvkey"], ctx["colonyname"]
def map(ctx={}):  # noqa: B006
    code = """def gen_nums(ctx={}):
                return 1, 2"""
    processgraphid = ctx["process"].processgraphid
    map_processid = ctx["process"].processid
    executor_prvkey = ctx["executor_prvkey"]

    processgraph = colonies.get_processgraph(processgraphid, executor_prvkey)  # noqa: F821

    reduce_process = colonies.find_process("reduce", processgraph.processids, executor_prvkey)  # noqa: F821
    reduce_processid = reduce_process.processid

    insert = True
    for i in range(5):
        f = func_spec(
            func="gen_nums",
            args=[],
            colonyname=ctx["colonyname"],
            executortype="python-executor",
            priority=200,
            maxexectime=100,
            maxretries=3,
            maxwaittime=100,
            code=code,
        )

        colonies.add_child(  # noqa: F821
            processgraphid, map_processid, reduce_processid, f, "gen_nums_" + str(i), insert, executor_prvkey
        )

        insert = False


def reduce(*nums, ctx={}):  # noqa: B006
    total = 0
    for n in nums:
        total += n
    return total


def test_upstream_map_reduce_returns_15(env: Env) -> None:
    client, prvkey, colonyname = env.client, env.user_prvkey, env.colonyname
    with serving(python_executor(env)):
        wf = Workflow(colonyname=colonyname)
        f = func_spec(func=map, args=[], colonyname=colonyname, executortype=PYTHON, maxexectime=100, maxwaittime=100)
        wf.functionspecs.append(f)
        f = func_spec(func=reduce, args=[], colonyname=colonyname, executortype=PYTHON, maxexectime=100)
        f.conditions.dependencies.append("map")
        wf.functionspecs.append(f)
        processgraph = client.submit_workflow(wf, prvkey)

        process = client.find_process("reduce", processgraph.processids, prvkey)
        process = client.wait(process, 10, prvkey)
    assert process.output == [15]
    assert process.input == [1, 2] * 5
    graph = client.get_processgraph(processgraph.processgraphid, prvkey)
    assert graph.state == Colonies.SUCCESSFUL and len(graph.processids) == 7
    names = {client.get_process(pid, prvkey).spec.nodename for pid in process.parents}
    assert names == {f"gen_nums_{i}" for i in range(5)}  # insert=True moved reduce below gen_nums_0


# ------------------------------------------------------------------------------------------------
# Calling conventions


def describe(a, b, *, scale=1, ctx):
    return a * scale + b, ctx["colonyname"], ctx["executorname"], ctx["process"].processid, ctx["client"].prvkey


def plain(x):
    return [x, x]


def nothing():
    pass


def nested(n):
    return {"n": n, "squares": [i * i for i in range(n)]}


def test_args_kwargs_ctx_and_return_values(env: Env) -> None:
    executor = python_executor(env)
    with serving(executor):
        described = submit(env, describe, [2, 3], kwargs={"scale": 10})
        as_list = submit(env, plain, ["x"])  # no ctx parameter: called without ctx
        empty = submit(env, nothing)
        structured = submit(env, nested, [3])
        results = [finished(env, p.processid) for p in (described, as_list, empty, structured)]
    assert [p.state for p in results] == [Colonies.SUCCESSFUL] * 4, [p.errors for p in results]
    assert results[0].output == [23, env.colonyname, executor.executorname, described.processid, executor.prvkey]
    assert results[1].output == [["x", "x"]]  # a list is one value; only a tuple spreads
    assert results[2].output == []
    assert results[3].output == [{"n": 3, "squares": [0, 1, 4]}]


def test_nested_functions_and_source_with_imports(env: Env) -> None:
    def inner(word, ctx=None):
        import hashlib

        return hashlib.sha256(word.encode()).hexdigest()[:8], ctx is not None

    with serving(python_executor(env)):
        process = finished(env, submit(env, inner, ["abc"]).processid)
    assert process.output == ["ba7816bf", True], process.errors


# ------------------------------------------------------------------------------------------------
# Failures


def boom(x):
    if x == 7:
        raise ValueError(f"bad value {x}")
    return x


def test_a_raising_function_fails_and_the_executor_keeps_serving(env: Env) -> None:
    with serving(python_executor(env)):
        failed = finished(env, submit(env, boom, [7]).processid)
        after = finished(env, submit(env, boom, [8]).processid)
    assert failed.state == Colonies.FAILED
    assert failed.errors[0] == "ValueError: bad value 7"
    traceback = failed.errors[1]
    assert traceback.startswith("Traceback (most recent call last):")
    assert 'raise ValueError(f"bad value {x}")' in traceback  # the injected source's line
    assert ", in boom" in traceback and "pycolonies/executor" not in traceback
    assert after.state == Colonies.SUCCESSFUL and after.output == [8]


def test_processes_it_cannot_run_fail_with_a_clear_error(env: Env) -> None:
    def returns_object():
        return object()

    cases = {
        "no code": func_spec("echo", ["hi"], env.colonyname, PYTHON, maxexectime=30),
        "wrong name": func_spec("wanted", [], env.colonyname, PYTHON, maxexectime=30, code="def other():\n    pass\n"),
        "syntax": func_spec("broken", [], env.colonyname, PYTHON, maxexectime=30, code="def broken(:\n"),
        "not json": func_spec(returns_object, [], env.colonyname, PYTHON, maxexectime=30),
    }
    with serving(python_executor(env)):
        submitted = {k: env.client.submit_func_spec(s, env.user_prvkey) for k, s in cases.items()}
        done = {k: finished(env, p.processid) for k, p in submitted.items()}
        still_fine = finished(env, submit(env, plain, [1]).processid)
    assert {k: p.state for k, p in done.items()} == dict.fromkeys(cases, Colonies.FAILED)
    assert done["no code"].errors[0] == "CodeError: Process for 'echo' has no code: spec.env['code'] is empty"
    assert done["wrong name"].errors[0] == "CodeError: The code does not define a function named 'wanted'"
    assert done["syntax"].errors[0].startswith("CodeError: The code of broken does not compile")
    assert done["not json"].errors[0].startswith("Output cannot be sent: ")
    assert still_fine.output == [[1, 1]]


def fails(*values):
    raise RuntimeError("middle step failed")


def test_a_failing_node_fails_its_graph_and_descendants_only(env: Env) -> None:
    with serving(python_executor(env)):
        wf = Workflow(colonyname=env.colonyname)
        options = {"executortype": PYTHON, "maxexectime": 30}
        first = wf.add(gen_nums, **options)
        middle = wf.add(fails, after=first, **options)
        wf.add(sum_nums, after=middle, **options)
        wf.add(plain, nodename="independent", args=["side"], **options)
        graph = env.client.submit_workflow(wf, env.user_prvkey)
        by_name = {
            p.spec.nodename: p for p in (finished(env, pid) for pid in reversed(graph.processids))
        }  # the leaf first: it fails when its parent does
    assert by_name["gen_nums"].state == Colonies.SUCCESSFUL
    assert by_name["fails"].state == Colonies.FAILED
    assert by_name["fails"].errors[0] == "RuntimeError: middle step failed"
    assert by_name["sum_nums"].state == Colonies.FAILED
    assert by_name["sum_nums"].errors == [f"Parent process {by_name['fails'].processid} failed"]
    assert by_name["independent"].state == Colonies.SUCCESSFUL and by_name["independent"].output == [["side", "side"]]
    assert env.client.get_processgraph(graph.processgraphid, env.user_prvkey).state == Colonies.FAILED


# ------------------------------------------------------------------------------------------------
# Identity and lifecycle


def test_registers_itself_adds_functions_and_unregisters_on_stop(env: Env) -> None:
    executor = python_executor(env)
    with serving(executor):
        registered = find_executor(env, executor.executorname)
        assert (registered["state"], registered["executortype"]) == (1, PYTHON)
        assert registered["executorid"] == executor.executorid
        finished(env, submit(env, gen_nums).processid)
        functions = env.client.get_functions_by_executor(env.colonyname, executor.executorname, env.user_prvkey)
        assert [f["funcname"] for f in functions] == ["gen_nums"]
    assert find_executor(env, executor.executorname)["state"] == 3  # unregistered


def test_uses_a_pre_registered_identity_and_leaves_it_registered(env: Env) -> None:
    executor = python_executor(env, colony_prvkey=None, prvkey=env.executor_prvkey)
    with serving(executor):
        assert (executor.executorname, executor.executortype) == (env.executorname, env.executortype)
        spec = func_spec(func=sum_nums, args=[4, 5], colonyname=env.colonyname, executortype=env.executortype)
        process = finished(env, env.client.submit_func_spec(spec, env.user_prvkey).processid)
    assert process.output == [9] and process.assignedexecutorid == executor.executorid
    assert find_executor(env, env.executorname)["state"] == 1


def test_identity_errors(env: Env) -> None:
    client = Colonies("127.0.0.1", env.server.port, tls=False)
    with pytest.raises(ExecutorConfigError):
        PythonExecutor(client, env.colonyname)
    stranger = PythonExecutor(client, env.colonyname, prvkey="11" * 32)
    with pytest.raises(ExecutorError, match="not a registered executor"):
        stranger.start()
    first = python_executor(env, executorname="taken")
    first.start()
    try:
        with pytest.raises(ExecutorError, match="Cannot register executor taken"):
            python_executor(env, executorname="taken").start()
    finally:
        first.shutdown()


def test_settings_from_env() -> None:
    dev = {
        "COLONIES_SERVER_HOST": "example.org",
        "COLONIES_SERVER_PORT": "4000",
        "COLONIES_SERVER_TLS": "true",
        "COLONIES_COLONY_NAME": "dev",
        "COLONIES_COLONY_PRVKEY": "aa" * 32,
        "COLONIES_PRVKEY": "bb" * 32,
        "COLONIES_EXECUTOR_NAME": "dev-executor",
    }
    settings = Settings.from_env(dev, executortype=PYTHON)
    # with the colony key: a fresh identity, not colonies dev's own dev-executor
    assert (settings.host, settings.port, settings.tls) == ("example.org", 4000, True)
    assert (settings.colony_prvkey, settings.prvkey, settings.executorname) == ("aa" * 32, None, None)
    assert settings.executortype == PYTHON
    own = Settings.from_env({**dev, "COLONIES_COLONY_PRVKEY": "", "COLONIES_EXECUTOR_TYPE": "gpu"}, executortype=PYTHON)
    assert (own.colony_prvkey, own.prvkey, own.executorname, own.executortype) == (
        None,
        "bb" * 32,
        "dev-executor",
        "gpu",
    )
    assert Settings.from_env({"COLONIES_COLONY_NAME": "c", "COLONIES_PRVKEY": "k"}, executortype="t").port == 50080
    for broken, message in (
        ({}, "COLONIES_COLONY_NAME"),
        ({"COLONIES_COLONY_NAME": "c"}, "COLONIES_COLONY_PRVKEY"),
        ({"COLONIES_COLONY_NAME": "c", "COLONIES_PRVKEY": "k", "COLONIES_SERVER_PORT": "x"}, "COLONIES_SERVER_PORT"),
    ):
        with pytest.raises(ExecutorConfigError, match=message):
            Settings.from_env(broken, executortype=PYTHON)


def test_main_reports_bad_settings_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in list(os.environ):
        if key.startswith("COLONIES_"):
            monkeypatch.delenv(key)
    assert main([]) == 1
    assert capsys.readouterr().err == "Error: COLONIES_COLONY_NAME is not set\n"


def test_module_entry_point_runs_functions_and_stops_on_sigterm(env: Env, tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COLONIES_")}
    environ.update(
        COLONIES_SERVER_HOST="127.0.0.1",
        COLONIES_SERVER_PORT=str(env.server.port),
        COLONIES_COLONY_NAME=env.colonyname,
        COLONIES_COLONY_PRVKEY=env.colony_prvkey,
    )
    log = tmp_path / "executor.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pycolonies.executor.python"], env=environ, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 15
        while " registered in colony " not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        name = log.read_text().split("Executor ", 1)[1].split()[0]
        process = finished(env, submit(env, sum_nums, [20, 22]).processid)
        assert process.output == [42]
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)  # while it long-polls (10 s): it must stop at once
        assert proc.wait(10) == 0, log.read_text()
        assert time.monotonic() - started < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text = log.read_text()
    assert f"Connecting to http://127.0.0.1:{env.server.port}/api, colony {env.colonyname}" in text
    assert f"Process {process.processid} assigned: sum_nums(20, 22)" in text
    assert f"Process {process.processid} closed: [42]" in text
    assert "SIGTERM received, stopping" in text and f"Executor {name} unregistered" in text
    assert "Traceback" not in text
    assert find_executor(env, name)["state"] == 3
