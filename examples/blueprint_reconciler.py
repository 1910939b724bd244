"""Declarative lights: a blueprint kind ``Light``, a reconciler that "switches" them, and a client
that states what it wants and watches the status follow.

Self-contained (run it with ``colonies dev`` running; its ``COLONIES_*`` variables override the
defaults below): it adds the definition (colony owner's key), starts a reconciler in a thread,
adds a blueprint, changes its spec, and prints the status after each step; then removes
everything and prints the lamps left, ``{}`` (the last line).
"""

import json
import os
import threading
import time

from pycolonies import Colonies
from pycolonies.executor.reconciler import Reconciler

host = os.environ.get("COLONIES_SERVER_HOST", "localhost")
port = int(os.environ.get("COLONIES_SERVER_PORT", "50080"))
colonyname = os.environ.get("COLONIES_COLONY_NAME", "dev")
colony_prvkey = os.environ.get(
    "COLONIES_COLONY_PRVKEY", "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"
)
prvkey = os.environ.get("COLONIES_PRVKEY", "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05")

lamps = {}  # the "world" the reconciler manages

reconciler = Reconciler(
    Colonies(host, port), colonyname, colony_prvkey=colony_prvkey, executortype="light-reconciler", poll_timeout=1
)


@reconciler.kind("Light")
def light(blueprint):
    lamps[blueprint["metadata"]["name"]] = dict(blueprint["spec"])
    return lamps[blueprint["metadata"]["name"]]  # the observed state becomes the status


@reconciler.cleanup("Light")
def light_removed(name):
    lamps.pop(name, None)


serving = threading.Thread(target=reconciler.run, kwargs={"handle_signals": False}, daemon=True)
serving.start()

client = Colonies(host, port, prvkey=prvkey)
client.add_blueprint_definition(
    {
        "kind": "BlueprintDefinition",
        "metadata": {"name": "lights", "colonyname": colonyname},
        "spec": {
            "names": {"kind": "Light"},
            "schema": {"properties": {"power": {"type": "boolean"}, "brightness": {"type": "number"}}},
            "handler": {"executorType": "light-reconciler", "functionName": "reconcile"},
        },
    },
    colony_prvkey,
)


def status_becomes(spec):
    deadline = time.monotonic() + 30
    while client.get_blueprint(colonyname, "kitchen").get("status") != spec:
        if time.monotonic() > deadline:
            raise SystemExit("the reconciler did not catch up")
        time.sleep(0.1)
    print(json.dumps(spec), flush=True)


kitchen = {"kind": "Light", "metadata": {"name": "kitchen", "colonyname": colonyname}, "spec": {"power": True}}
client.add_blueprint(kitchen)
status_becomes({"power": True})
kitchen["spec"] = {"power": False, "brightness": 30}
client.update_blueprint(kitchen)
status_becomes({"power": False, "brightness": 30})

client.remove_blueprint(colonyname, "kitchen")
deadline = time.monotonic() + 30
while "kitchen" in lamps and time.monotonic() < deadline:  # the cleanup process switches it off
    time.sleep(0.1)
client.remove_blueprint_definition(colonyname, "lights", colony_prvkey)
reconciler.stop()
serving.join(10)  # it unregisters on the way out
print(json.dumps(lamps))
