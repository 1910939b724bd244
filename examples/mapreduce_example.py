"""Dynamic workflow (MapReduce): ``map`` adds five ``gen_nums`` processes at run time, each returns
(1, 2), and ``reduce`` sums all ten numbers: 15.

Run ``python_executor.py`` first (with ``colonies dev``). The workflow starts as ``map -> reduce``;
while ``map`` runs it calls ``add_child`` five times through the client the executor hands it in
``ctx``: the first call (``insert=True``) puts ``gen_nums_0`` between map and reduce, the next ones
(``insert=False`` with reduce as the child) add ``gen_nums_1..4`` beside it. ``reduce`` then waits for
all five and receives their outputs, concatenated. The ``COLONIES_*`` variables printed by
``colonies dev`` override the defaults below.
"""

import os

from pycolonies import Colonies, Workflow, func_spec

client = Colonies(
    os.environ.get("COLONIES_SERVER_HOST", "localhost"), int(os.environ.get("COLONIES_SERVER_PORT", "50080")), tls=False
)
colonyname = os.environ.get("COLONIES_COLONY_NAME", "dev")
prvkey = os.environ.get("COLONIES_PRVKEY", "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05")


def map(ctx={}):  # noqa: B006 - runs inside the executor, which passes ctx
    from pycolonies import func_spec

    code = """def gen_nums(ctx={}):
    return 1, 2
"""
    colonies = ctx["client"]  # a client bound to the executor's key
    process = ctx["process"]
    graph = colonies.get_processgraph(process.processgraphid)
    reduce_process = colonies.find_process("reduce", graph.processids)
    insert = True
    for i in range(5):
        spec = func_spec(
            func="gen_nums",
            args=[],
            colonyname=ctx["colonyname"],
            executortype="python-executor",
            maxexectime=60,
            maxwaittime=60,
            code=code,
        )
        colonies.add_child(
            process.processgraphid, process.processid, reduce_process.processid, spec, f"gen_nums_{i}", insert
        )
        insert = False


def reduce(*nums, ctx={}):  # noqa: B006
    return sum(nums)


wf = Workflow(colonyname=colonyname)

f = func_spec(func=map, args=[], colonyname=colonyname, executortype="python-executor", maxexectime=60, maxwaittime=60)
wf.functionspecs.append(f)

f = func_spec(
    func=reduce, args=[], colonyname=colonyname, executortype="python-executor", maxexectime=60, maxwaittime=60
)
f.conditions.dependencies.append("map")
wf.functionspecs.append(f)

processgraph = client.submit_workflow(wf, prvkey)
print("Workflow", processgraph.processgraphid, "submitted", flush=True)

process = client.find_process("reduce", processgraph.processids, prvkey)
process = client.wait(process, 60, prvkey)
print(process.output[0])
