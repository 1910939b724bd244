"""The Python code-injection executor, run against ``colonies dev``.

Start ``colonies dev`` first, then run this file and one of ``submit_python.py``,
``workflow_example.py``, ``mapreduce_example.py`` or ``workflow_builder_example.py`` in another
shell. It registers a new executor of type ``python-executor`` in colony ``dev`` (with the colony
key), runs the Python function each process carries, and unregisters on Ctrl-C.

This file only fills in the dev defaults; the executor is ``pycolonies.executor.python`` (also
runnable as ``python -m pycolonies.executor.python``). The ``COLONIES_*`` variables printed by
``colonies dev`` override the defaults below.
"""

import os
import sys

from pycolonies.executor.python import main

os.environ.setdefault("COLONIES_SERVER_HOST", "localhost")
os.environ.setdefault("COLONIES_SERVER_PORT", "50080")
os.environ.setdefault("COLONIES_COLONY_NAME", "dev")
os.environ.setdefault("COLONIES_COLONY_PRVKEY", "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514")

if __name__ == "__main__":
    sys.exit(main())
