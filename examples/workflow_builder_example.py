"""The workflow builder (a pycolonies addition): ``Workflow.add`` and ``>>``.

A diamond: ``gen_nums`` returns (1, 2); ``double`` and ``square`` both get (1, 2) and return
(2, 4) and (1, 4); ``total`` gets their outputs concatenated in dependency order, (2, 4, 1, 4),
and returns 11. Run ``python_executor.py`` first (with ``colonies dev``). The ``COLONIES_*``
variables printed by ``colonies dev`` override the defaults below.
"""

import os

from pycolonies import Colonies, Workflow

client = Colonies(
    os.environ.get("COLONIES_SERVER_HOST", "localhost"), int(os.environ.get("COLONIES_SERVER_PORT", "50080")), tls=False
)
colonyname = os.environ.get("COLONIES_COLONY_NAME", "dev")
prvkey = os.environ.get("COLONIES_PRVKEY", "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05")


def gen_nums():
    return 1, 2


def double(*nums):
    return tuple(2 * n for n in nums)


def square(*nums):
    return tuple(n * n for n in nums)


def total(*nums):
    return sum(nums)


wf = Workflow(colonyname=colonyname)
options = {"executortype": "python-executor", "maxexectime": 60, "maxwaittime": 60}

# add() builds the spec with func_spec, appends it and returns it; after= takes specs or names
gen = wf.add(gen_nums, **options)
dbl = wf.add(double, after=gen, **options)
sq = wf.add(square, after="gen_nums", **options)

# or declare the edges with >>: a >> b, a >> [b, c], [b, c] >> d
last = wf.add(total, **options)
[dbl, sq] >> last

processgraph = client.submit_workflow(wf, prvkey)
print("Workflow", processgraph.processgraphid, "submitted", flush=True)

process = client.find_process("total", processgraph.processids, prvkey)
process = client.wait(process, 60, prvkey)
print(process.output[0])
