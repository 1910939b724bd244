"""Submit a Python function to the code-injection executor and print its result, 3.

Run ``python_executor.py`` first (with ``colonies dev``). ``func_spec(func=sum_nums, ...)`` sends the
function's source along with the process; the executor defines it and calls ``sum_nums(1, 2)``.
The ``COLONIES_*`` variables printed by ``colonies dev`` override the defaults below.
"""

import os

from pycolonies import Colonies, func_spec

client = Colonies(
    os.environ.get("COLONIES_SERVER_HOST", "localhost"), int(os.environ.get("COLONIES_SERVER_PORT", "50080")), tls=False
)
colonyname = os.environ.get("COLONIES_COLONY_NAME", "dev")
prvkey = os.environ.get("COLONIES_PRVKEY", "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05")


def sum_nums(n1, n2, ctx={}):  # noqa: B006 - upstream's example signature
    return n1 + n2


spec = func_spec(
    func=sum_nums,
    args=[1, 2],
    colonyname=colonyname,
    executortype="python-executor",
    maxexectime=60,
    maxretries=3,
    maxwaittime=60,
)

process = client.submit_func_spec(spec, prvkey)
print("Process", process.processid, "submitted", flush=True)

process = client.wait(process, 60, prvkey)
print(process.output[0])
