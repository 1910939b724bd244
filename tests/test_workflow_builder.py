"""The workflow builder: ``Workflow.add`` and ``>>`` between FuncSpecs (no server). Upstream's way of
building a workflow must keep working and serialise exactly as before."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from pycolonies import FuncSpec, Workflow, func_spec


def gen_nums(ctx={}):  # noqa: B006 - the README's example functions, verbatim
    return 1, 2


def sum_nums(n1, n2, ctx={}):  # noqa: B006
    return n1 + n2


def deps(spec: FuncSpec) -> list[str]:
    return spec.conditions.dependencies


def test_upstream_way_is_unchanged() -> None:
    wf = Workflow(colonyname="dev")
    f1 = func_spec(func=gen_nums, args=[], colonyname="dev", executortype="python-executor", maxexectime=60)
    wf.functionspecs.append(f1)
    f2 = func_spec(func=sum_nums, args=[], colonyname="dev", executortype="python-executor", maxexectime=60)
    f2.conditions.dependencies.append("gen_nums")
    wf.functionspecs.append(f2)
    dump = wf.model_dump(by_alias=True)
    assert list(dump) == ["colonyname", "functionspecs"]
    assert [s["nodename"] for s in dump["functionspecs"]] == ["gen_nums", "sum_nums"]
    assert dump["functionspecs"][1]["conditions"]["dependencies"] == ["gen_nums"]
    assert Workflow(colonyname="dev", functionspecs=[f1, f2]).model_dump() == wf.model_dump()


def test_add_builds_the_same_specs_as_func_spec() -> None:
    built = Workflow(colonyname="dev")
    g = built.add(gen_nums, executortype="python-executor", maxexectime=60, maxwaittime=60)
    s = built.add(sum_nums, after=g, executortype="python-executor", maxexectime=60, maxwaittime=60)

    by_hand = Workflow(colonyname="dev")
    by_hand.functionspecs.append(
        func_spec(
            func=gen_nums, args=[], colonyname="dev", executortype="python-executor", maxexectime=60, maxwaittime=60
        )
    )
    f2 = func_spec(
        func=sum_nums, args=[], colonyname="dev", executortype="python-executor", maxexectime=60, maxwaittime=60
    )
    f2.conditions.dependencies.append("gen_nums")
    by_hand.functionspecs.append(f2)

    assert built.model_dump(by_alias=True) == by_hand.model_dump(by_alias=True)
    assert built.functionspecs == [g, s]  # add returns the very spec it appended
    assert base64.b64decode(g.env["code"]).decode().startswith("def gen_nums")


def test_add_by_name_with_args_kwargs_and_nodename() -> None:
    wf = Workflow(colonyname="dev")
    a = wf.add("echo", args=["hi"], nodename="first", executortype="cli", kwargs={"k": "v"}, priority=5)
    b = wf.add("echo", args=["again"], nodename="second", after="first", executortype="cli")
    assert (a.funcname, a.nodename, a.args, a.kwargs, a.priority) == ("echo", "first", ["hi"], {"k": "v"}, 5)
    assert a.conditions.colonyname == "dev" and a.conditions.executortype == "cli"
    assert (b.nodename, deps(b)) == ("second", ["first"])


def test_add_a_prepared_spec_or_dict_and_older_dependencies_keyword() -> None:
    wf = Workflow(colonyname="dev")
    root = wf.add(func_spec("root", [], "", "cli"))
    assert root.conditions.colonyname == "dev"  # filled in from the workflow when empty
    leaf = wf.add(
        {"nodename": "leaf", "funcname": "leaf", "conditions": {"executortype": "cli"}}, dependencies=["root"]
    )
    assert isinstance(leaf, FuncSpec) and deps(leaf) == ["root"]
    with pytest.raises(TypeError):
        wf.add(func_spec("x", [], "dev", "cli"), executortype="cli")


def test_after_accepts_specs_names_and_iterables_once_each() -> None:
    wf = Workflow(colonyname="dev")
    a, b = wf.add("a", executortype="t"), wf.add("b", executortype="t")
    c = wf.add("c", after=[a, "b", a], executortype="t")
    assert deps(c) == ["a", "b"]
    c.after(b, "a")
    assert deps(c) == ["a", "b"]
    with pytest.raises(ValueError, match="itself"):
        c.after(c)


def test_rshift_chains_fans_out_and_fans_in() -> None:
    wf = Workflow(colonyname="dev")
    a, b, c, d, e = (wf.add(n, executortype="t") for n in "abcde")
    assert (a >> b >> c) is c
    assert deps(b) == ["a"] and deps(c) == ["b"]
    fanned = a >> [d, e]
    assert fanned == [d, e] and deps(d) == ["a"] and deps(e) == ["a"]
    sink = wf.add("sink", executortype="t")
    assert ([c, d, e] >> sink) is sink
    assert deps(sink) == ["c", "d", "e"]
    assert a >> [d, e] >> sink is sink  # idempotent: no duplicate edges
    assert deps(sink) == ["c", "d", "e"] and deps(d) == ["a"]


def test_rshift_rejects_what_is_not_a_spec() -> None:
    spec = func_spec("a", [], "dev", "t")
    bad: Any = "b"
    with pytest.raises(TypeError):
        spec >> bad
    with pytest.raises(TypeError):
        [spec, bad] >> spec
    with pytest.raises(ValueError, match="nodename"):
        FuncSpec() >> spec


def test_add_refuses_duplicates_and_missing_settings() -> None:
    wf = Workflow(colonyname="dev")
    wf.add(gen_nums, executortype="python-executor")
    with pytest.raises(ValueError, match="Duplicate nodename: gen_nums"):
        wf.add(gen_nums, executortype="python-executor")
    wf.add(gen_nums, nodename="gen_nums2", executortype="python-executor")  # renamed: fine
    with pytest.raises(TypeError, match="executortype"):
        wf.add(sum_nums)
    with pytest.raises(ValueError, match="nodename"):
        wf.add(FuncSpec(funcname="x"))
    assert [s.nodename for s in wf.functionspecs] == ["gen_nums", "gen_nums2"]


def test_node_looks_up_by_name() -> None:
    wf = Workflow(colonyname="dev")
    g = wf.add(gen_nums, executortype="python-executor")
    assert wf.node("gen_nums") is g
    with pytest.raises(KeyError):
        wf.node("nope")


def test_builder_leaves_the_wire_form_alone() -> None:
    wf = Workflow(colonyname="dev")
    a = wf.add("a", executortype="t")
    a >> wf.add("b", executortype="t")
    dump = wf.model_dump(by_alias=True)
    assert list(dump) == ["colonyname", "functionspecs"]
    assert set(dump["functionspecs"][0]) == set(FuncSpec.model_fields)
    assert Workflow.model_validate(dump) == wf
