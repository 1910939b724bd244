"""``AsyncColonies``: the asyncio twin of ``Colonies`` (httpx.AsyncClient, websockets.asyncio).

Same method names, parameters and return values as ``Colonies``, as coroutines; the request
building is shared (``pycolonies.client.core``).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from ..errors import SubscriptionTimeoutError, TransportError
from ..fs import ColonyFS
from ..models import Process
from ..rpc import build_request
from . import core
from .channels import DEFAULT_SEGMENT, follow_async
from .core import ASSIGN_MARGIN, DEFAULT_TIMEOUT, BaseClient, Call, Op
from .subscriptions import AsyncSubscription, open_async
from .sync import Colonies
from .tls import Verify, certificate_hint

__all__ = ["AsyncColonies"]

P = ParamSpec("P")
T = TypeVar("T")
_NOTHING: Any = object()


def _rpc(
    builder: Callable[Concatenate[BaseClient, P], Op[T]],
) -> Callable[Concatenate[AsyncColonies, P], Coroutine[Any, Any, T]]:
    async def method(self: AsyncColonies, *args: P.args, **kwargs: P.kwargs) -> T:
        return await core.run_async(builder(self, *args, **kwargs), self._send)

    return core.method_like(builder, method, "AsyncColonies", __name__)


def _in_thread(name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
    """``Colonies.<name>`` as a coroutine that runs it on a worker thread (the ColonyFS transfers
    are blocking file and S3 I/O), with the blocking method's signature and docs."""
    blocking = getattr(Colonies, name)

    async def method(self: AsyncColonies, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self._blocking(), name), *args, **kwargs)

    functools.update_wrapper(method, blocking)
    del method.__wrapped__  # type: ignore[attr-defined]
    method.__signature__ = inspect.signature(blocking)  # type: ignore[attr-defined]
    method.__qualname__ = f"AsyncColonies.{name}"
    method.__module__ = __name__
    return method


class AsyncColonies(BaseClient):
    """The asyncio ColonyOS client; ``await client.get_process(...)``. Close it with
    ``await client.aclose()`` or use it in ``async with``. ``verify`` as for ``Colonies``."""

    def __init__(
        self,
        host: str = "localhost",
        port: int = 50080,
        tls: bool = False,
        native_crypto: bool = False,
        *,
        prvkey: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        verify: Verify = True,
    ) -> None:
        super().__init__(host, port, tls, native_crypto, prvkey=prvkey, timeout=timeout, verify=verify)
        self._http = httpx.AsyncClient(timeout=timeout, verify=self.ssl_context)
        self._twin: Colonies | None = None

    # transport --------------------------------------------------------------------------------

    async def _send(self, call: Call[Any]) -> Any:
        body = self._encode(call)
        timeout = httpx.Timeout(self.timeout, read=self._read_timeout(call))
        try:
            reply = await self._http.post(self.url, content=body, timeout=timeout)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            reason = f"{exc or type(exc).__name__}{certificate_hint(exc)}"
            raise TransportError(f"Cannot reach {self.url}: {reason}") from exc
        return core.parse_http_reply(reply.status_code, reply.content)

    async def _subscribe(
        self,
        msg: dict[str, Any],
        prvkey: str | None,
        parse: Callable[[Any], T],
        lifetime: float,
        is_end: Callable[[Any], bool] | None = None,
    ) -> AsyncSubscription[T]:
        envelope = build_request(msg, self._key(prvkey))
        return await open_async(
            self.ws_url,
            envelope,
            parse,
            lifetime,
            is_end=is_end,
            open_timeout=self.timeout,
            ssl_context=self.ssl_context if self.tls else None,
        )

    async def aclose(self) -> None:
        """Close this client's connections."""
        await self._http.aclose()
        if self._twin is not None:
            self._twin.close()

    def _blocking(self) -> Colonies:
        """A blocking twin with the same settings, for the ColonyFS methods' worker threads."""
        if self._twin is None:
            self._twin = Colonies(
                self.host, self.port, self.tls, prvkey=self.prvkey, timeout=self.timeout, verify=self.ssl_context
            )
        return self._twin

    # ColonyFS: the blocking implementations on a worker thread (pycolonies.fs) ---------------

    def fs(self, colonyname: str, prvkey: str | None = None) -> ColonyFS:
        """A (blocking) ColonyFS client for ``colonyname`` over a blocking twin of this client;
        call its methods with ``await asyncio.to_thread(...)``."""
        return self._blocking().fs(colonyname, prvkey)

    upload_file = _in_thread("upload_file")
    upload_data = _in_thread("upload_data")
    download_file = _in_thread("download_file")
    download_data = _in_thread("download_data")
    delete_file = _in_thread("delete_file")
    sync = _in_thread("sync")

    async def close(self, processid: str | None = None, output: Any = None, prvkey: str | None = None) -> Any:
        """``await close(processid, output, prvkey)`` closes a process as successful (upstream);
        ``await close()`` without arguments closes this client's connections."""
        if processid is None and output is None and prvkey is None:
            await self.aclose()
            return None
        return await core.run_async(core.close(self, processid or "", output, prvkey), self._send)

    async def __aenter__(self) -> AsyncColonies:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # WebSocket subscriptions ------------------------------------------------------------------

    async def wait(self, process: Process | dict[str, Any] | str, timeout: int, prvkey: str | None = None) -> Process:
        """Wait until ``process`` is SUCCESSFUL (at most ``timeout`` s), then return it re-read.

        Raises SubscriptionTimeoutError when the server ends the subscription first.
        """
        processid, executortype, colonyname = core.process_target(process)
        msg = core.subscribe_process_msg(processid, executortype, self.SUCCESSFUL, timeout, colonyname)
        async with await self._subscribe(msg, prvkey, core.as_raw, max(timeout, 0) + ASSIGN_MARGIN) as sub:
            if await anext(sub, _NOTHING) is _NOTHING:
                raise SubscriptionTimeoutError(f"Process {processid} did not become successful within {timeout} s")
        return await self.get_process(processid, prvkey)

    async def subscribe_process(
        self,
        processid: Process | dict[str, Any] | str,
        state: int,
        timeout: int,
        prvkey: str | None = None,
        *,
        executortype: str = "",
    ) -> AsyncSubscription[Process]:
        """Pushes of one process each time it enters ``state``, for ``timeout`` seconds."""
        pid, ptype, colonyname = core.process_target(processid)
        msg = core.subscribe_process_msg(pid, executortype or ptype, state, timeout, colonyname)
        return await self._subscribe(msg, prvkey, core.as_process, max(timeout, 0) + ASSIGN_MARGIN)

    async def subscribe_processes(
        self, executortype: str, state: int, timeout: int, prvkey: str | None = None, *, colonyname: str = ""
    ) -> AsyncSubscription[Process]:
        """Pushes of processes of ``executortype`` entering ``state`` (signer: an executor)."""
        msg = core.subscribe_processes_msg(executortype, state, timeout, colonyname)
        return await self._subscribe(msg, prvkey, core.as_process, max(timeout, 0) + ASSIGN_MARGIN)

    async def subscribe_channel(
        self,
        processid: str,
        channel_name: str,
        prvkey: str | None = None,
        after_seq: int = 0,
        timeout: int = 30,
        callback: Callable[[list[dict[str, Any]]], Any] | None = None,
    ) -> list[dict[str, Any]] | None:
        """Stream channel entries until the subscription times out; ``callback`` may be async."""
        msg = core.subscribe_channel_msg(processid, channel_name, after_seq, timeout)
        lifetime = (timeout if timeout > 0 else 30) + ASSIGN_MARGIN
        received: list[dict[str, Any]] = []
        sub = await self._subscribe(msg, prvkey, core.decode_entries, lifetime, is_end=lambda p: not p)
        async with sub:
            async for entries in sub:
                if callback is None:
                    received.extend(entries)
                    continue
                result = callback(entries)
                if inspect.isawaitable(result):
                    result = await result
                if result is False:
                    break
        return received if callback is None else None

    def follow_channel(
        self,
        processid: str,
        channel_name: str,
        prvkey: str | None = None,
        *,
        after_index: int = 0,
        timeout: float | None = None,
        until_end: bool = True,
        segment: int = DEFAULT_SEGMENT,
    ) -> AsyncIterator[dict[str, Any]]:
        """The channel's entries one at a time (``async for``), from log index ``after_index`` on.

        Ends after an entry of type ``end`` (unless ``until_end`` is False), after ``timeout``
        seconds (None: no limit), or when the process closes. See pycolonies.client.channels.
        """
        return follow_async(self, processid, channel_name, prvkey, after_index, timeout, until_end, segment)

    # RPC methods (one line each; the logic is in core) -----------------------------------------

    version = _rpc(core.version)
    server_info = _rpc(core.server_info)
    server_stats = _rpc(core.server_stats)
    change_server_id = _rpc(core.change_server_id)
    get_cluster = _rpc(core.get_cluster)

    add_colony = _rpc(core.add_colony)
    del_colony = _rpc(core.del_colony)
    list_colonies = _rpc(core.list_colonies)
    get_colony = _rpc(core.get_colony)
    stats = _rpc(core.stats)
    change_colony_id = _rpc(core.change_colony_id)

    add_executor = _rpc(core.add_executor)
    list_executors = _rpc(core.list_executors)
    get_executor = _rpc(core.get_executor)
    get_executor_by_id = _rpc(core.get_executor_by_id)
    approve_executor = _rpc(core.approve_executor)
    reject_executor = _rpc(core.reject_executor)
    remove_executor = _rpc(core.remove_executor)
    update_executor = _rpc(core.update_executor)
    report_allocation = _rpc(core.report_allocation)
    change_executor_id = _rpc(core.change_executor_id)

    add_function = _rpc(core.add_function)
    get_functions_by_executor = _rpc(core.get_functions_by_executor)
    get_functions_by_colony = _rpc(core.get_functions_by_colony)
    remove_function = _rpc(core.remove_function)

    submit_func_spec = _rpc(core.submit_func_spec)
    assign = _rpc(core.assign)
    list_processes = _rpc(core.list_processes)
    get_process = _rpc(core.get_process)
    get_process_history = _rpc(core.get_process_history)
    find_process = _rpc(core.find_process)
    remove_process = _rpc(core.remove_process)
    remove_all_processes = _rpc(core.remove_all_processes)
    cancel_process = _rpc(core.cancel_process)
    fail = _rpc(core.fail)
    set_output = _rpc(core.set_output)
    pause_assignments = _rpc(core.pause_assignments)
    resume_assignments = _rpc(core.resume_assignments)
    get_pause_status = _rpc(core.get_pause_status)

    add_attribute = _rpc(core.add_attribute)
    get_attribute = _rpc(core.get_attribute)

    submit_workflow = _rpc(core.submit_workflow)
    get_processgraph = _rpc(core.get_processgraph)
    get_processgraphs = _rpc(core.get_processgraphs)
    remove_processgraph = _rpc(core.remove_processgraph)
    remove_all_processgraphs = _rpc(core.remove_all_processgraphs)
    cancel_processgraph = _rpc(core.cancel_processgraph)
    get_processes_for_workflow = _rpc(core.get_processes_for_workflow)
    add_child = _rpc(core.add_child)

    add_user = _rpc(core.add_user)
    get_users = _rpc(core.get_users)
    get_user = _rpc(core.get_user)
    get_user_by_id = _rpc(core.get_user_by_id)
    remove_user = _rpc(core.remove_user)
    change_user_id = _rpc(core.change_user_id)

    add_location = _rpc(core.add_location)
    get_locations = _rpc(core.get_locations)
    get_location = _rpc(core.get_location)
    remove_location = _rpc(core.remove_location)

    add_log = _rpc(core.add_log)
    add_executor_log = _rpc(core.add_executor_log)
    get_process_log = _rpc(core.get_process_log)
    get_executor_log = _rpc(core.get_executor_log)
    search_logs = _rpc(core.search_logs)

    get_files = _rpc(core.get_files)
    get_file = _rpc(core.get_file)
    get_file_labels = _rpc(core.get_file_labels)
    create_snapshot = _rpc(core.create_snapshot)
    get_snapshots = _rpc(core.get_snapshots)
    get_snapshot_by_name = _rpc(core.get_snapshot_by_name)
    get_snapshot_by_id = _rpc(core.get_snapshot_by_id)
    remove_snapshot_by_name = _rpc(core.remove_snapshot_by_name)
    remove_snapshot_by_id = _rpc(core.remove_snapshot_by_id)
    remove_all_snapshots = _rpc(core.remove_all_snapshots)

    add_cron = _rpc(core.add_cron)
    get_cron = _rpc(core.get_cron)
    get_crons = _rpc(core.get_crons)
    del_cron = _rpc(core.del_cron)
    run_cron = _rpc(core.run_cron)

    add_generator = _rpc(core.add_generator)
    get_generator = _rpc(core.get_generator)
    resolve_generator = _rpc(core.resolve_generator)
    get_generators = _rpc(core.get_generators)
    pack_generator = _rpc(core.pack_generator)
    remove_generator = _rpc(core.remove_generator)

    channel_append = _rpc(core.channel_append)
    channel_read = _rpc(core.channel_read)

    add_blueprint_definition = _rpc(core.add_blueprint_definition)
    get_blueprint_definition = _rpc(core.get_blueprint_definition)
    get_blueprint_definitions = _rpc(core.get_blueprint_definitions)
    remove_blueprint_definition = _rpc(core.remove_blueprint_definition)
    add_blueprint = _rpc(core.add_blueprint)
    get_blueprint = _rpc(core.get_blueprint)
    get_blueprints = _rpc(core.get_blueprints)
    update_blueprint = _rpc(core.update_blueprint)
    remove_blueprint = _rpc(core.remove_blueprint)
    update_blueprint_status = _rpc(core.update_blueprint_status)
    reconcile_blueprint = _rpc(core.reconcile_blueprint)
    get_blueprint_history = _rpc(core.get_blueprint_history)
