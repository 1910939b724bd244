"""func_spec, as upstream's test/func_spec_test.py plus the callable branch."""

from __future__ import annotations

import base64
import inspect
from typing import Any

from pycolonies import Fs, FuncSpec, Workflow, func_spec


def test_func_spec_sets_simple_properties() -> None:
    kwargs: dict[str, Any] = {"one": "1", "two": "2", "three": ["3", "4"]}
    spec = func_spec(
        func="sum_nums",
        args=["helloworld"],
        colonyname="colonyname",
        executortype="echo_executor",
        executorname="exec_name",
        priority=0,
        maxexectime=10,
        maxretries=3,
        maxwaittime=100,
        kwargs=kwargs,
    )
    assert isinstance(spec, FuncSpec)
    assert spec.nodename == "sum_nums"
    assert spec.funcname == "sum_nums"
    assert spec.args == ["helloworld"]
    assert spec.conditions.colonyname == "colonyname"
    assert spec.conditions.executortype == "echo_executor"
    assert spec.conditions.executornames == ["exec_name"]
    assert spec.priority == 0
    assert spec.maxexectime == 10
    assert spec.maxretries == 3
    assert spec.maxwaittime == 100
    assert spec.kwargs == kwargs


def test_string_func_defaults_match_upstream() -> None:
    spec = func_spec("echo", ["hi"], "dev", "cli")
    dump = spec.model_dump(by_alias=True)
    assert (dump["priority"], dump["maxexectime"], dump["maxretries"], dump["maxwaittime"]) == (1, -1, -1, -1)
    assert dump["kwargs"] is None
    assert dump["fs"] is None  # upstream passes fs=None explicitly
    assert dump["conditions"]["executornames"] is None
    assert dump["env"] == {}
    assert dump["label"] == ""


def test_string_func_with_code_and_fs() -> None:
    fs = Fs(mount="/cfs", snapshots=None, dirs=None)
    spec = func_spec("run", [], "dev", "python", code="print('hi')\n", fs=fs)
    assert spec.env is not None
    assert base64.b64decode(spec.env["code"]).decode() == "print('hi')\n"
    assert spec.fs == fs


def gen_nums(ctx={}):  # noqa: B006 - the README's example function, verbatim
    return 1, 2


def sum_nums(n1, n2, ctx={}):  # noqa: B006
    return n1 + n2


def test_callable_func() -> None:
    spec = func_spec(func=sum_nums, args=[], colonyname="dev", executortype="python-executor", maxwaittime=60)
    assert spec.nodename == spec.funcname == "sum_nums"
    assert spec.env is not None
    assert spec.env["args_spec"] == "n1,n2,ctx"
    assert base64.b64decode(spec.env["code"]).decode() == inspect.getsource(sum_nums)
    assert spec.maxwaittime == 60
    assert spec.fs is not None and spec.fs.mount == ""  # fs is not passed in this branch


def test_readme_workflow_example() -> None:
    wf = Workflow(colonyname="dev")
    f1 = func_spec(func=gen_nums, args=[], colonyname="dev", executortype="python-executor")
    wf.functionspecs.append(f1)
    f2 = func_spec(func=sum_nums, args=[], colonyname="dev", executortype="python-executor")
    f2.conditions.dependencies.append("gen_nums")
    wf.functionspecs.append(f2)
    dump = wf.model_dump(by_alias=True)
    assert [f["nodename"] for f in dump["functionspecs"]] == ["gen_nums", "sum_nums"]
    assert dump["functionspecs"][0]["conditions"]["dependencies"] == []
    assert dump["functionspecs"][1]["conditions"]["dependencies"] == ["gen_nums"]
