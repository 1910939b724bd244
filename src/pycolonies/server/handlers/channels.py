"""Channel messages (protocol ext/10-channels.md): append and read. The subscription is served on
``/pubsub`` (see ``pycolonies.server.pubsub``)."""

from __future__ import annotations

from typing import Any

from ...messages import ChannelAppendMsg, ChannelReadMsg
from .. import channels
from . import Call, handler


@handler("channelappendmsg", ChannelAppendMsg, "append to channel")
async def channel_append(call: Call, msg: ChannelAppendMsg) -> Any:
    await channels.append(call.ctx, call.rid, msg)
    return {}


@handler("channelreadmsg", ChannelReadMsg, "read from channel")
async def channel_read(call: Call, msg: ChannelReadMsg) -> Any:
    return await channels.read(call.ctx, call.rid, msg)
