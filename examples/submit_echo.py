"""Submit an ``echo`` process and wait for its result (run ``echo_executor.py`` first).

Written the way upstream pycolonies' examples are; the ``COLONIES_*`` variables printed by
``colonies dev`` override the defaults below.
"""

import os

from pycolonies import Colonies, func_spec

client = Colonies(
    os.environ.get("COLONIES_SERVER_HOST", "localhost"), int(os.environ.get("COLONIES_SERVER_PORT", "50080")), tls=False
)
colonyname = os.environ.get("COLONIES_COLONY_NAME", "dev")
prvkey = os.environ.get("COLONIES_PRVKEY", "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05")

spec = func_spec(
    func="echo",
    args=["hello world"],
    colonyname=colonyname,
    executortype="echo-executor",
    maxexectime=10,
    maxretries=3,
    maxwaittime=100,
)

process = client.submit_func_spec(spec, prvkey)
print("Process", process.processid, "submitted", flush=True)

# wait for the process to be executed
process = client.wait(process, 100, prvkey)
print(process.output[0])
