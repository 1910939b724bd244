"""``Colonies``: the blocking client (httpx.Client, websockets.sync), a drop-in for upstream's."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from ..errors import ColoniesError, SubscriptionTimeoutError, TransportError
from ..fs import ColonyFS, SyncResult
from ..fs.storage import Stores, fs_environment
from ..fs.transfer import BOTH_IDS, BOTH_IDS_DELETE
from ..models import Process
from ..rpc import build_request
from . import core
from .channels import DEFAULT_SEGMENT, follow_sync
from .core import ASSIGN_MARGIN, DEFAULT_TIMEOUT, BaseClient, Call, Op
from .subscriptions import Subscription, open_sync
from .tls import Verify, certificate_hint, verify_from_env

__all__ = ["Colonies", "colonies_client"]

P = ParamSpec("P")
_NOTHING: Any = object()
T = TypeVar("T")


def _rpc(builder: Callable[Concatenate[BaseClient, P], Op[T]]) -> Callable[Concatenate[Colonies, P], T]:
    def method(self: Colonies, *args: P.args, **kwargs: P.kwargs) -> T:
        return core.run_sync(builder(self, *args, **kwargs), self._send)

    return core.method_like(builder, method, "Colonies", __name__)


class Colonies(BaseClient):
    """A ColonyOS client. ``Colonies(host, port, tls)`` as upstream, plus an optional default
    ``prvkey`` used by every method whose ``prvkey`` argument is omitted. Thread-safe; keeps one
    pool of keep-alive connections. Close it with ``close()`` or use it in a ``with`` block.

    ``verify`` (with ``tls``): True verifies the server's certificate against the usual CA bundle;
    a path to a CA bundle trusts that CA instead (for a self-signed server); False skips
    verification (development only); an ``ssl.SSLContext`` is used as it is. It applies to the
    RPCs and the WebSocket subscriptions alike (pycolonies.client.tls)."""

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
        self._http = httpx.Client(timeout=timeout, verify=self.ssl_context)
        self._fs_lock = threading.Lock()
        self._fs_stores: dict[tuple[tuple[str, str], ...], Stores] = {}

    # transport --------------------------------------------------------------------------------

    def _send(self, call: Call[Any]) -> Any:
        body = self._encode(call)
        timeout = httpx.Timeout(self.timeout, read=self._read_timeout(call))
        try:
            reply = self._http.post(self.url, content=body, timeout=timeout)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            reason = f"{exc or type(exc).__name__}{certificate_hint(exc)}"
            raise TransportError(f"Cannot reach {self.url}: {reason}") from exc
        return core.parse_http_reply(reply.status_code, reply.content)

    def _subscribe(
        self,
        msg: dict[str, Any],
        prvkey: str | None,
        parse: Callable[[Any], T],
        lifetime: float,
        is_end: Callable[[Any], bool] | None = None,
    ) -> Subscription[T]:
        envelope = build_request(msg, self._key(prvkey))
        return open_sync(
            self.ws_url,
            envelope,
            parse,
            lifetime,
            is_end=is_end,
            open_timeout=self.timeout,
            ssl_context=self.ssl_context if self.tls else None,
        )

    def close(self, processid: str | None = None, output: Any = None, prvkey: str | None = None) -> Any:
        """``close(processid, output, prvkey)`` closes a process as successful (upstream);
        ``close()`` without arguments closes this client's connections."""
        if processid is None and output is None and prvkey is None:
            self._http.close()
            return None
        return core.run_sync(core.close(self, processid or "", output, prvkey), self._send)

    def __enter__(self) -> Colonies:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._http.close()

    # WebSocket subscriptions ------------------------------------------------------------------

    def wait(self, process: Process | dict[str, Any] | str, timeout: int, prvkey: str | None = None) -> Process:
        """Block until ``process`` is SUCCESSFUL (at most ``timeout`` s), then return it re-read.

        Raises SubscriptionTimeoutError when the server ends the subscription first (for
        example because the process failed).
        """
        processid, executortype, colonyname = core.process_target(process)
        msg = core.subscribe_process_msg(processid, executortype, self.SUCCESSFUL, timeout, colonyname)
        with self._subscribe(msg, prvkey, core.as_raw, max(timeout, 0) + ASSIGN_MARGIN) as sub:
            if next(sub, _NOTHING) is _NOTHING:
                raise SubscriptionTimeoutError(f"Process {processid} did not become successful within {timeout} s")
        return self.get_process(processid, prvkey)

    def subscribe_process(
        self,
        processid: Process | dict[str, Any] | str,
        state: int,
        timeout: int,
        prvkey: str | None = None,
        *,
        executortype: str = "",
    ) -> Subscription[Process]:
        """Pushes of one process each time it enters ``state``, for ``timeout`` seconds.

        Connects immediately; iterate the returned Subscription (it ends at the timeout).
        """
        pid, ptype, colonyname = core.process_target(processid)
        msg = core.subscribe_process_msg(pid, executortype or ptype, state, timeout, colonyname)
        return self._subscribe(msg, prvkey, core.as_process, max(timeout, 0) + ASSIGN_MARGIN)

    def subscribe_processes(
        self, executortype: str, state: int, timeout: int, prvkey: str | None = None, *, colonyname: str = ""
    ) -> Subscription[Process]:
        """Pushes of processes of ``executortype`` entering ``state`` (signer: an executor)."""
        msg = core.subscribe_processes_msg(executortype, state, timeout, colonyname)
        return self._subscribe(msg, prvkey, core.as_process, max(timeout, 0) + ASSIGN_MARGIN)

    def subscribe_channel(
        self,
        processid: str,
        channel_name: str,
        prvkey: str | None = None,
        after_seq: int = 0,
        timeout: int = 30,
        callback: Callable[[list[dict[str, Any]]], Any] | None = None,
    ) -> list[dict[str, Any]] | None:
        """Stream channel entries until the subscription times out.

        With ``callback``, each batch is passed to it (returning False stops) and None is
        returned; without, all entries are returned as a list.
        """
        msg = core.subscribe_channel_msg(processid, channel_name, after_seq, timeout)
        lifetime = (timeout if timeout > 0 else 30) + ASSIGN_MARGIN
        received: list[dict[str, Any]] = []
        with self._subscribe(msg, prvkey, core.decode_entries, lifetime, is_end=lambda p: not p) as sub:
            for entries in sub:
                if callback is None:
                    received.extend(entries)
                elif callback(entries) is False:
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
    ) -> Iterator[dict[str, Any]]:
        """The channel's entries one at a time, from log index ``after_index`` on, as they come.

        Ends after an entry of type ``end`` (unless ``until_end`` is False), after ``timeout``
        seconds (None: no limit), or when the process closes. Payloads are bytes, as
        ``channel_read`` returns them. See pycolonies.client.channels.
        """
        return follow_sync(self, processid, channel_name, prvkey, after_index, timeout, until_end, segment)

    # ColonyFS: file contents in S3 or a local object store (pycolonies.fs) ---------------------

    def fs(self, colonyname: str, prvkey: str | None = None) -> ColonyFS:
        """A ColonyFS client for ``colonyname``, signing with ``prvkey`` (default: the client's
        key). The object store comes from the environment when first needed (AWS_S3_*,
        COLONIES_FS_BACKEND, COLONIES_FS_DIR; see docs/files.md); stores are reused while those
        variables stay the same."""
        environment = fs_environment(os.environ)
        with self._fs_lock:
            stores = self._fs_stores.get(environment)
            if stores is None:
                stores = self._fs_stores[environment] = Stores(dict(environment))
        return ColonyFS(self, colonyname, prvkey, stores=stores)

    def upload_file(
        self, colonyname: str, prvkey: str | None = None, filepath: str | None = None, label: str | None = None
    ) -> Any:
        """Upload the file at ``filepath`` to the object store and register it under ``label``
        (``addfilemsg``); returns the registered File (dict)."""
        if filepath is None or label is None:
            raise ValueError("upload_file needs a filepath and a label")
        return self.fs(colonyname, prvkey).upload_file(filepath, label)

    def upload_data(
        self,
        colonyname: str,
        prvkey: str | None = None,
        filename: str | None = None,
        data: bytes | None = None,
        label: str | None = None,
    ) -> Any:
        """Upload ``data`` (bytes) as file ``filename`` under ``label``; returns the registered File."""
        if filename is None or data is None or label is None:
            raise ValueError("upload_data needs a filename, data and a label")
        return self.fs(colonyname, prvkey).upload_data(filename, data, label)

    def download_file(
        self,
        colonyname: str,
        prvkey: str | None = None,
        dst: str | None = None,
        label: str | None = None,
        fileid: str | None = None,
        filename: str | None = None,
        latest: bool = True,
    ) -> str:
        """Download a file (by ``fileid``, or by ``label`` and ``filename``) into directory ``dst``
        (created if missing; default: the current directory); returns ``dst/<name>``. The content
        is checked against the registered SHA-256 before it is moved into place."""
        if fileid is not None and filename is not None:
            raise ValueError(BOTH_IDS)
        path = self.fs(colonyname, prvkey).download_file(dst or ".", label, fileid, filename, latest)
        return str(path)

    def download_data(
        self,
        colonyname: str,
        prvkey: str | None = None,
        label: str | None = None,
        fileid: str | None = None,
        filename: str | None = None,
        latest: bool = True,
    ) -> bytes:
        """A file's content (by ``fileid``, or by ``label`` and ``filename``), checksum-verified."""
        if fileid is not None and filename is not None:
            raise ValueError(BOTH_IDS)
        return self.fs(colonyname, prvkey).download_data(label, fileid, filename, latest)

    def delete_file(
        self,
        colonyname: str,
        prvkey: str | None = None,
        label: str | None = None,
        fileid: str | None = None,
        filename: str | None = None,
    ) -> None:
        """Delete a file version (``fileid``) or every version of ``label``/``filename``: the
        objects first, then the metadata (``removefilemsg``)."""
        if fileid is not None and filename is not None:
            raise ValueError(BOTH_IDS_DELETE)
        self.fs(colonyname, prvkey).delete_file(label, fileid, filename)

    def sync(self, dir: str, label: str, keeplocal: bool, colonyname: str, prvkey: str | None = None) -> SyncResult:
        """Synchronise directory ``dir`` with ``label`` and the labels below it, in both
        directions; on conflicts keep the local version (``keeplocal``) or the server's. Never
        deletes. Pure Python: no libcfslib/CFSLIB needed."""
        return self.fs(colonyname, prvkey).sync(dir, label, keeplocal)

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


def colonies_client(
    native_crypto: bool = False,
) -> tuple[Colonies, str | None, str | None, str | None, str | None]:
    """``(client, colonyname, colony_prvkey, executorname, prvkey)`` from the ``COLONIES_*``
    environment variables, as upstream; the client's default key is ``COLONIES_PRVKEY``.

    Certificate verification (with ``COLONIES_SERVER_TLS=true``) follows our additions
    ``COLONIES_SKIP_TLS_VERIFY=true`` (none) and ``COLONIES_CA_CERT=<path>`` (that CA bundle)."""
    host = os.getenv("COLONIES_SERVER_HOST")
    port = os.getenv("COLONIES_SERVER_PORT")
    if not host or not port:
        raise ColoniesError("COLONIES_SERVER_HOST and COLONIES_SERVER_PORT must be set")
    try:
        port_number = int(port)
    except ValueError:
        raise ColoniesError(f"COLONIES_SERVER_PORT is not a number: {port!r}") from None
    prvkey = os.getenv("COLONIES_PRVKEY")
    verify = verify_from_env()
    client = Colonies(
        host,
        port_number,
        os.getenv("COLONIES_SERVER_TLS") == "true",
        native_crypto=native_crypto,
        prvkey=prvkey or None,
        verify=verify,
    )
    return (
        client,
        os.getenv("COLONIES_COLONY_NAME"),
        os.getenv("COLONIES_COLONY_PRVKEY"),
        os.getenv("COLONIES_EXECUTOR_NAME"),
        prvkey,
    )
