"""Server messages: version, server info, statistics, change server id, cluster."""

from __future__ import annotations

from typing import Any

from ...messages import ChangeServerIdMsg, Msg, VersionMsg
from ...rpc import RPCError
from ..auth import require_server_owner
from ..context import ServerContext
from ..store.records import FAILED, RUNNING, SUCCESS, WAITING
from . import Call, handler

UNREGISTERED = 3


def version_reply(ctx: ServerContext) -> dict[str, Any]:
    return {"buildversion": ctx.config.build_version, "buildtime": ctx.build_time, "msgtype": "versionmsg"}


def server_info(ctx: ServerContext) -> dict[str, Any]:
    backend: dict[str, Any] = {"type": "http", "port": ctx.config.port, "host": ctx.config.host}
    if ctx.config.tls:
        backend["tls"] = True
    return {"buildversion": ctx.config.build_version, "buildtime": ctx.build_time, "backends": [backend]}


@handler("versionmsg", VersionMsg, "get version")
async def version(call: Call, msg: VersionMsg) -> Any:
    return version_reply(call.ctx)


@handler("getstatisticsmsg", Msg, "get statistics")
async def statistics(call: Call, msg: Msg) -> Any:
    await require_server_owner(call.ctx, call.rid)
    store = call.ctx.store
    procs = await store.count_processes(None)
    execs = await store.count_executors(None)
    stats = dict.fromkeys(
        (
            "colonies",
            "executors",
            "activeexecutors",
            "unregisteredexecutors",
            "waitingprocesses",
            "runningprocesses",
            "successfulprocesses",
            "failedprocesses",
            "cancelledprocesses",
            "waitingworkflows",
            "runningworkflows",
            "successfulworkflows",
            "failedworkflows",
            "cancelledworkflows",
        ),
        0,
    )
    stats["colonies"] = await store.count_colonies()
    stats["executors"] = sum(n for state, n in execs.items() if state != UNREGISTERED)
    stats["waitingprocesses"] = procs.get(WAITING, 0)
    stats["runningprocesses"] = procs.get(RUNNING, 0)
    stats["successfulprocesses"] = procs.get(SUCCESS, 0)
    stats["failedprocesses"] = procs.get(FAILED, 0)
    # upstream's server-wide statistics leave every other counter (cancelled included) at 0
    return stats


@handler("changeserveridmsg", ChangeServerIdMsg, "change server Id")
async def change_server_id(call: Call, msg: ChangeServerIdMsg) -> Any:
    if not msg["serverid"]:
        raise RPCError(400, "Failed to change colony Id, colony Id is empty")
    await require_server_owner(call.ctx, call.rid)
    await call.ctx.store.set_server_id(msg["serverid"])
    return {"serverid": msg["serverid"], "msgtype": msg["msgtype"]}


@handler("getclustermsg", Msg, "get cluster")
async def cluster(call: Call, msg: Msg) -> Any:
    await require_server_owner(call.ctx, call.rid)
    cfg = call.ctx.config
    node = {"name": "pycolonies", "host": cfg.host, "apiport": cfg.port}
    return {"nodes": [node], "leader": node}
