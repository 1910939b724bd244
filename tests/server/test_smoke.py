"""The fixtures work: a server starts, a colony is made, a process goes round trip."""

from __future__ import annotations

from pycolonies import Conditions, FuncSpec

from ..conftest import Env


def test_round_trip(env: Env) -> None:
    spec = FuncSpec(
        funcname="echo",
        args=["hi"],
        conditions=Conditions(colonyname=env.colonyname, executortype=env.executortype),
        maxexectime=-1,
    )
    submitted = env.client.submit_func_spec(spec, env.executor_prvkey)
    assigned = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert assigned is not None and assigned.processid == submitted.processid
    env.client.close(assigned.processid, ["hi"], env.executor_prvkey)
    done = env.client.get_process(submitted.processid, env.executor_prvkey)
    assert done.state == 2 and done.output == ["hi"]
