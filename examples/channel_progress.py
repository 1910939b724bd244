"""A function that reports progress over a channel while it runs, and a client that follows it.

Self-contained (run it with ``colonies dev`` running; its ``COLONIES_*`` variables override the
defaults below): it starts a Python executor in a thread, submits ``count_to`` with a channel
``progress``, prints each progress entry as it arrives, acknowledges the end (so the executor may
close the process: closing removes the channel) and prints the result last, ``done``.
"""

import os
import threading

from pycolonies import Colonies, func_spec
from pycolonies.executor import PythonExecutor
from pycolonies.executor.channels import Channel

host = os.environ.get("COLONIES_SERVER_HOST", "localhost")
port = int(os.environ.get("COLONIES_SERVER_PORT", "50080"))
colonyname = os.environ.get("COLONIES_COLONY_NAME", "dev")
colony_prvkey = os.environ.get(
    "COLONIES_COLONY_PRVKEY", "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"
)
prvkey = os.environ.get("COLONIES_PRVKEY", "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05")


def count_to(n, ctx):
    from pycolonies.executor.channels import channel

    progress = channel(ctx, "progress")
    for i in range(1, n + 1):
        progress.send(f"{i}/{n}")
    progress.finish(timeout=30)  # append "end", wait for the client's acknowledgement
    return "done"


executor = PythonExecutor(
    Colonies(host, port), colonyname, colony_prvkey=colony_prvkey, executortype="channel-example", poll_timeout=1
)
serving = threading.Thread(target=executor.run, kwargs={"handle_signals": False}, daemon=True)
serving.start()

client = Colonies(host, port, prvkey=prvkey)
spec = func_spec(func=count_to, args=[3], colonyname=colonyname, executortype="channel-example", maxexectime=60)
spec.channels = ["progress"]
process = client.submit_func_spec(spec)
print("Process", process.processid, "submitted", flush=True)

progress = Channel(client, process, "progress")
for entry in progress:  # follows the channel until the "end" entry
    if entry["type"] == "data":
        print("progress", entry["payload"].decode(), flush=True)
progress.acknowledge()

process = client.wait(process, 60)
executor.stop()
serving.join(10)  # it unregisters on the way out
print(process.output[0])
