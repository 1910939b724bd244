"""``colonies dev``: the server on 127.0.0.1:50080 with upstream's well-known dev identities."""

from __future__ import annotations

from ..crypto import id_of
from .context import ServerContext

__all__ = [
    "DEV_COLONY",
    "DEV_COLONY_PRVKEY",
    "DEV_EXECUTOR",
    "DEV_PRVKEY",
    "DEV_SERVER_PRVKEY",
    "bootstrap_dev",
    "dev_exports",
]

# The keys of upstream's docker-compose.env: public test keys, never for production use.
DEV_SERVER_PRVKEY = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"
DEV_COLONY = "dev"
DEV_COLONY_PRVKEY = "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"
DEV_PRVKEY = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05"
DEV_EXECUTOR = "dev-executor"
DEV_EXECUTOR_TYPE = "cli"
DEV_USER = "myuser"
APPROVED = 1


async def bootstrap_dev(ctx: ServerContext) -> None:
    """Create colony ``dev``, executor ``dev-executor`` (approved) and user ``myuser``, all idempotent."""
    store = ctx.store
    await store.add_colony({"name": DEV_COLONY, "colonyid": id_of(DEV_COLONY_PRVKEY)})
    user_id = id_of(DEV_PRVKEY)
    if await store.get_executor(DEV_COLONY, DEV_EXECUTOR) is None:
        await store.add_executor(
            {
                "executorid": user_id,
                "colonyname": DEV_COLONY,
                "executorname": DEV_EXECUTOR,
                "executortype": DEV_EXECUTOR_TYPE,
                "state": APPROVED,
                "requirefuncreg": False,
                "commissiontime": ctx.now(),
                "lastheardfromtime": 0,
                "locationname": "",
                "capabilities": {"hardware": None, "software": None},
                "allocations": {"projects": None},
                "blueprintid": "",
                "blueprintgen": 0,
            },
            replace=False,
        )
    await store.set_executor_state(DEV_COLONY, DEV_EXECUTOR, APPROVED)
    if await store.get_user_by_id(DEV_COLONY, user_id) is None:
        await store.add_user({"colonyname": DEV_COLONY, "userid": user_id, "name": DEV_USER, "email": "", "phone": ""})


def dev_exports(host: str, port: int) -> str:
    """The ``export`` lines a second shell needs to talk to the dev server."""
    lines = {
        "COLONIES_SERVER_HOST": host,
        "COLONIES_SERVER_PORT": str(port),
        "COLONIES_SERVER_HTTP_PORT": str(port),
        "COLONIES_TLS": "false",
        "COLONIES_SERVER_TLS": "false",
        "COLONIES_SERVER_ID": id_of(DEV_SERVER_PRVKEY),
        "COLONIES_SERVER_PRVKEY": DEV_SERVER_PRVKEY,
        "COLONIES_COLONY_NAME": DEV_COLONY,
        "COLONIES_COLONY_ID": id_of(DEV_COLONY_PRVKEY),
        "COLONIES_COLONY_PRVKEY": DEV_COLONY_PRVKEY,
        "COLONIES_PRVKEY": DEV_PRVKEY,
        "COLONIES_EXECUTOR_NAME": DEV_EXECUTOR,
    }
    return "\n".join(f"export {k}={v}" for k, v in lines.items())
