"""ASGI wiring only: ``POST /api``, ``GET /health``, the ``/pubsub`` WebSocket, CORS, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from ..rpc import error_reply
from .api import handle_rpc
from .bridge import start_bridge
from .config import ServerConfig
from .context import ServerContext
from .controllers import Controllers
from .events import DEPARTURE
from .handlers import load_all
from .pubsub import serve_pubsub
from .store import connect_store

__all__ = ["ColoniesApp", "create_app", "open_context"]

_TEXT = "text/plain; charset=utf-8"


class _Connection:
    """The client of one request, watched for disconnection only once a long-poll asks (once the
    body is read, ``receive`` returns only when the client goes away)."""

    __slots__ = ("callbacks", "gone", "receive", "task")

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.gone = False
        self.callbacks: list[Callable[[], None]] = []
        self.task: asyncio.Task[None] | None = None

    def on_gone(self, callback: Callable[[], None]) -> Callable[[], None]:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._watch())
        self.callbacks.append(callback)

        def unhook() -> None:
            with contextlib.suppress(ValueError):
                self.callbacks.remove(callback)

        return unhook

    async def _watch(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass
        self.gone = True
        for callback in list(self.callbacks):
            callback()

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def open_context(config: ServerConfig) -> ServerContext:
    """Open the store and make sure the server id is recorded (first start creates everything)."""
    store = await connect_store(
        config.store_url, sqlite_synchronous=config.sqlite_synchronous, pool_size=config.db_pool_size
    )
    stored = await store.get_server_id()
    if config.server_id and config.server_id != stored:
        await store.set_server_id(config.server_id)
    elif stored is None:
        await store.close()
        raise ValueError("no server id: set COLONIES_SERVER_ID (or COLONIES_SERVER_PRVKEY) on first start")
    return ServerContext(config=config, store=store)


class ColoniesApp:
    """``POST /api`` served straight from ASGI (the hot path); everything else through Starlette."""

    def __init__(self, starlette: Starlette, holder: dict[str, ServerContext], limit: int) -> None:
        self.starlette = starlette
        self.holder = holder
        self.limit = limit

    def begin_shutdown(self) -> None:
        """Answer waiting long-polls now so that a graceful shutdown does not wait for their timeouts."""
        ctx = self.holder.get("ctx")
        if ctx is not None:
            ctx.hub.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/api" or scope["method"] != "POST":
            await self.starlette(scope, receive, send)
            return
        cors = any(name == b"origin" for name, _ in scope["headers"])
        body = await self._read_body(scope, receive)
        if body is None:
            status, reply = 413, error_reply(413, f"Request body larger than the limit of {self.limit} bytes")
        else:
            connection = _Connection(receive)
            token = DEPARTURE.set(connection)
            try:
                status, reply = await handle_rpc(self.holder["ctx"], body)
            finally:
                DEPARTURE.reset(token)
                connection.stop()
        headers = [(b"content-type", _TEXT.encode()), (b"content-length", str(len(reply)).encode())]
        if cors:
            headers.append((b"access-control-allow-origin", b"*"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": reply})

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def create_app(
    config: ServerConfig, *, bootstrap: Callable[[ServerContext], Awaitable[None]] | None = None
) -> ColoniesApp:
    """The ASGI app. The store is opened at start-up, then ``bootstrap`` runs (``colonies dev`` uses it
    to register the dev colony and identities)."""
    load_all()
    holder: dict[str, ServerContext] = {}
    limit = config.max_body_bytes

    async def health(request: Request) -> Response:
        return Response(b"", 200)

    async def pubsub(ws: WebSocket) -> None:
        await serve_pubsub(holder["ctx"], ws)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        context = await open_context(config)
        if bootstrap is not None:
            await bootstrap(context)
        holder["ctx"] = context
        bridge = await start_bridge(context)  # replicas on a shared (PostgreSQL) store; None on SQLite
        controllers = Controllers(context, is_leader=bridge.is_leader if bridge is not None else None)
        controllers.start()
        try:
            yield
        finally:
            await controllers.stop()
            if bridge is not None:
                await bridge.stop()
            await context.store.close()

    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
            allow_headers=["Origin", "Content-Length", "Content-Type"],
            max_age=43200,
        ),
    ]
    routes = [
        Route("/health", health, methods=["GET"]),
        WebSocketRoute("/pubsub", pubsub),
    ]
    return ColoniesApp(Starlette(routes=routes, middleware=middleware, lifespan=lifespan), holder, limit)
