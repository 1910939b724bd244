"""An executor written with the framework: ``async def`` functions, eight processes at a time.

Start ``colonies dev`` first, then run this file and ``submit_async.py`` in another shell. It
registers a new executor of type ``async-executor`` in colony ``dev`` (with the colony key),
registers its two functions, and serves until Ctrl-C, which lets running functions finish and
unregisters it.

* ``slow_square`` is ``async def``: it runs in the executor's event loop, so eight of them wait
  together (``concurrency=8``) and eight one-second squares take one second, not eight;
* ``add`` is a plain function: it runs in a worker thread. In the workflow of ``submit_async.py``
  it receives the outputs of its eight parents as its arguments.

Both write to the process log through ``ctx.log`` (``colonies log get -p <processid>``). The
``COLONIES_*`` variables printed by ``colonies dev`` override the defaults below.
"""

import asyncio
import logging
import os

from pycolonies.executor import Executor

os.environ.setdefault("COLONIES_SERVER_HOST", "localhost")
os.environ.setdefault("COLONIES_SERVER_PORT", "50080")
os.environ.setdefault("COLONIES_COLONY_NAME", "dev")
os.environ.setdefault("COLONIES_COLONY_PRVKEY", "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514")

executor = Executor.from_env(executortype="async-executor", concurrency=8)


@executor.function
async def slow_square(n, ctx):
    ctx.log.info("squaring %s", n)
    await asyncio.sleep(1)  # stands for a network call, a database query, ...
    return n * n


@executor.function
def add(*numbers, ctx):
    ctx.log.info("adding %d numbers", len(numbers))
    return sum(numbers)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    executor.run()
