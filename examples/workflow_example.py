"""The seed README's workflow: ``gen_nums`` returns (1, 2), ``sum_nums`` gets them as its args
and returns 3.

Run ``python_executor.py`` first (with ``colonies dev``). The workflow is built as upstream builds
it: ``Workflow(colonyname=...)``, ``func_spec(func=<function>, ...)``, the edge as the child's
``conditions.dependencies``. The ``COLONIES_*`` variables printed by ``colonies dev`` override the
defaults below.
"""

import os

from pycolonies import Colonies, Workflow, func_spec

client = Colonies(
    os.environ.get("COLONIES_SERVER_HOST", "localhost"), int(os.environ.get("COLONIES_SERVER_PORT", "50080")), tls=False
)
colonyname = os.environ.get("COLONIES_COLONY_NAME", "dev")
prvkey = os.environ.get("COLONIES_PRVKEY", "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05")


def gen_nums(ctx={}):  # noqa: B006 - the README's function, verbatim
    return 1, 2


def sum_nums(n1, n2, ctx={}):  # noqa: B006
    return n1 + n2


wf = Workflow(colonyname=colonyname)

f1 = func_spec(
    func=gen_nums, args=[], colonyname=colonyname, executortype="python-executor", maxexectime=60, maxwaittime=60
)
wf.functionspecs.append(f1)

f2 = func_spec(
    func=sum_nums, args=[], colonyname=colonyname, executortype="python-executor", maxexectime=60, maxwaittime=60
)
f2.conditions.dependencies.append("gen_nums")
wf.functionspecs.append(f2)

processgraph = client.submit_workflow(wf, prvkey)
print("Workflow", processgraph.processgraphid, "submitted", flush=True)

# the last node's output is the result
process = client.find_process("sum_nums", processgraph.processids, prvkey)
process = client.wait(process, 60, prvkey)
print(process.output[0])
