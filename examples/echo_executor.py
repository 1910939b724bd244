"""An echo executor written the way upstream pycolonies' examples are.

Start ``colonies dev`` first, then run this file and ``submit_echo.py`` in other shells. It
registers a new executor of type ``echo-executor`` in colony ``dev`` (colony key), approves it,
registers its function ``echo``, and closes every ``echo`` process with its first argument (or the
first output of its parent in a workflow). Ctrl-C unregisters it.

The ``COLONIES_*`` variables printed by ``colonies dev`` override the defaults below.
"""

import os
import signal
import uuid

from crypto import Crypto
from pycolonies import Colonies

HOST = os.environ.get("COLONIES_SERVER_HOST", "localhost")
PORT = int(os.environ.get("COLONIES_SERVER_PORT", "50080"))
COLONY_NAME = os.environ.get("COLONIES_COLONY_NAME", "dev")
COLONY_PRVKEY = os.environ.get(
    "COLONIES_COLONY_PRVKEY", "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"
)


class EchoExecutor:
    def __init__(self):
        self.colonies = Colonies(HOST, PORT, tls=False)
        crypto = Crypto()
        self.colonyname = COLONY_NAME
        self.colony_prvkey = COLONY_PRVKEY
        self.executor_prvkey = crypto.prvkey()
        self.executorid = crypto.id(self.executor_prvkey)
        self.executorname = "echo-executor-" + uuid.uuid4().hex[:8]
        self.register()

    def register(self):
        executor = {
            "executorname": self.executorname,
            "executorid": self.executorid,
            "colonyname": self.colonyname,
            "executortype": "echo-executor",
        }
        try:
            self.colonies.add_executor(executor, self.colony_prvkey)
            self.colonies.approve_executor(self.colonyname, self.executorname, self.colony_prvkey)
        except Exception as err:
            print(err)
        try:
            self.colonies.add_function(self.colonyname, self.executorname, "echo", self.executor_prvkey)
        except Exception as err:
            print(err)
        print("Executor", self.executorname, "registered", flush=True)

    def start(self):
        while True:
            try:
                # blocks for at most 10 s; with nothing to do, process is None and the next line
                # raises, which the except below swallows (upstream's assign raises instead)
                process = self.colonies.assign(self.colonyname, 10, self.executor_prvkey)
                print("Process", process.processid, "is assigned to executor", flush=True)
                if process.spec.funcname == "echo":
                    # in a workflow, "in" holds the output of the parents: echo that instead of args
                    if process.input is not None and len(process.input) > 0:
                        args = process.input
                    else:
                        args = process.spec.args
                    self.colonies.close(process.processid, [args[0]], self.executor_prvkey)
                else:
                    errors = ["unknown function " + process.spec.funcname]
                    self.colonies.fail(process.processid, errors, self.executor_prvkey)
            except Exception as err:
                print(err, flush=True)

    def unregister(self):
        # a new client: the signal may have interrupted a request on self.colonies
        Colonies(HOST, PORT, tls=False).remove_executor(self.colonyname, self.executorname, self.colony_prvkey)
        print("Executor", self.executorname, "unregistered", flush=True)
        os._exit(0)


def sigint_handler(signum, frame):
    executor.unregister()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, sigint_handler)
    executor = EchoExecutor()
    executor.start()
