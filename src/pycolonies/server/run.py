"""Run the server under uvicorn (uvloop + httptools where available)."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

from .app import ColoniesApp, create_app
from .config import ServerConfig
from .context import ServerContext

__all__ = ["run_server"]


def _http_protocol() -> Any:
    if importlib.util.find_spec("httptools") is None:
        return "h11"
    from .http import CoalescingHttpToolsProtocol

    return CoalescingHttpToolsProtocol


def run_server(
    config: ServerConfig,
    *,
    bootstrap: Callable[[ServerContext], Awaitable[None]] | None = None,
    log_level: str = "warning",
) -> None:
    """Serve until interrupted."""
    logging.basicConfig(
        level=getattr(logging, log_level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    app = create_app(config, bootstrap=bootstrap)
    uv_config = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http=_http_protocol(),
        ws="websockets-sansio",
        log_level=log_level,
        access_log=False,
        ssl_certfile=config.tls_cert or None,
        ssl_keyfile=config.tls_key or None,
        timeout_keep_alive=120,
        backlog=2048,
        timeout_graceful_shutdown=10,
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )
    _Server(uv_config, app).run()


class _Server(uvicorn.Server):
    """uvicorn's server, releasing assign long-polls as soon as shutdown begins."""

    def __init__(self, config: uvicorn.Config, app: ColoniesApp) -> None:
        super().__init__(config)
        self.colonies_app = app

    async def shutdown(self, sockets: Any = None) -> None:
        self.colonies_app.begin_shutdown()
        await super().shutdown(sockets)
