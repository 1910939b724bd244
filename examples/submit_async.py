"""Submit a workflow to ``async_executor.py``: eight ``slow_square`` nodes (one second each) feed
``add``, which prints 0² + 1² + ... + 7² = 140. The eight squares run at the same time, so the
workflow takes about one second.

Run ``async_executor.py`` first (with ``colonies dev``). The ``COLONIES_*`` variables printed by
``colonies dev`` override the defaults below.
"""

import os
import time

from pycolonies import Colonies, Workflow

client = Colonies(
    os.environ.get("COLONIES_SERVER_HOST", "localhost"), int(os.environ.get("COLONIES_SERVER_PORT", "50080")), tls=False
)
colonyname = os.environ.get("COLONIES_COLONY_NAME", "dev")
prvkey = os.environ.get("COLONIES_PRVKEY", "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05")

wf = Workflow(colonyname=colonyname)
options = {"executortype": "async-executor", "maxexectime": 30, "maxwaittime": 30}
squares = [wf.add("slow_square", nodename=f"square_{n}", args=[n], **options) for n in range(8)]
wf.add("add", after=squares, **options)

started = time.monotonic()
processgraph = client.submit_workflow(wf, prvkey)
print("Workflow", processgraph.processgraphid, "submitted", flush=True)

process = client.find_process("add", processgraph.processids, prvkey)
process = client.wait(process, 60, prvkey)
print(f"8 squares and their sum in {time.monotonic() - started:.1f} s", flush=True)
print(process.output[0])
