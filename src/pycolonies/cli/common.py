"""Plumbing shared by every ``colonies`` command: connection settings from flags and environment
variables, the SDK client, which key signs, and turning failures into one ``Error: ...`` line.

A command is a plain function ``def cmd(s: Session, <its own options>)`` registered with
:func:`command`, which adds the options every command of its kind shares (``--host``, ``--port``,
``--tls/--insecure``, ``--skip-tls-verify``, the colony, the signing key, ``--json``) and reads
them the same way everywhere: **a flag beats its environment variable, which beats the default**.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import typer

from ..client import Colonies
from ..client.tls import CA_CERT_ENV, SKIP_VERIFY_ENV, certificate_rejected
from ..crypto import CryptoError, id_of
from ..errors import ColoniesError, ServerError, TransportError
from .output import PROCESS_STATES, Output

__all__ = [
    "CONNECTION",
    "ERROR_EXIT",
    "CliError",
    "Session",
    "Signer",
    "YesOpt",
    "command",
    "confirm",
    "fail",
    "group",
    "list_named",
    "parse_pairs",
    "remove_named",
    "removeall_command",
    "show_record",
    "split_list",
]

ERROR_EXIT = 1
"""Exit status of a command that failed (usage errors exit 2, as click's)."""
INTERRUPTED_EXIT = 130
DEFAULT_PORT = 50080

CONNECTION = "Connection (flags beat environment variables)"
"""The help panel that groups the shared options."""

Signer = Literal["user", "colony", "server"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class KeyKind:
    param: str
    flag: str
    envvar: str
    what: str


KEYS: dict[str, KeyKind] = {
    "user": KeyKind("cli_prvkey", "--prvkey", "COLONIES_PRVKEY", "private key (a user's or an executor's)"),
    "colony": KeyKind("cli_colonyprvkey", "--colonyprvkey", "COLONIES_COLONY_PRVKEY", "colony owner's private key"),
    "server": KeyKind("cli_serverprvkey", "--serverprvkey", "COLONIES_SERVER_PRVKEY", "server owner's private key"),
}


class CliError(Exception):
    """A failure to report as ``Error: <message>`` with a non-zero exit."""

    def __init__(self, message: str, code: int = ERROR_EXIT) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def fail(message: str, code: int = ERROR_EXIT) -> typer.Exit:
    """Print ``Error: message`` on stderr; returns the Exit to raise."""
    Output(json_mode=False).error(message)
    return typer.Exit(code)


def group(help_text: str) -> typer.Typer:
    """A command group: help shown when called without a command."""
    return typer.Typer(help=help_text, no_args_is_help=True)


# ------------------------------------------------------------------------------------------------
# Settings and session


@dataclass
class Settings:
    host: str = "localhost"
    port: int = 50080
    tls: bool = False
    colonyname: str | None = None
    signer: str | None = None
    prvkey: str | None = None
    verify: bool | str = True
    """False: --skip-tls-verify; a path: COLONIES_CA_CERT; True: the usual CA bundle."""

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"


class Session:
    """What a command works with: the settings, the output and (lazily) the client."""

    def __init__(self, settings: Settings, out: Output) -> None:
        self.settings = settings
        self.out = out
        self._client: Colonies | None = None

    @property
    def json(self) -> bool:
        return self.out.json

    @property
    def colony(self) -> str:
        """The colony name (``--colonyname`` or COLONIES_COLONY_NAME)."""
        if not self.settings.colonyname:
            raise CliError("no colony: set COLONIES_COLONY_NAME or pass --colonyname")
        return self.settings.colonyname

    @property
    def key(self) -> str:
        """The private key this command signs with, checked before anything is sent."""
        kind = KEYS[self.settings.signer or "user"]
        key = (self.settings.prvkey or "").strip()
        if not key:
            raise CliError(f"no {kind.what}: set {kind.envvar} or pass {kind.flag}")
        try:
            id_of(key)
        except CryptoError as exc:
            raise CliError(f"the {kind.what} ({kind.flag} / {kind.envvar}) is not valid: {exc}") from None
        return key

    @property
    def client(self) -> Colonies:
        """The SDK client; its default key is this command's signing key."""
        if self._client is None:
            key = self.key if self.settings.signer else None
            s = self.settings
            self._client = Colonies(s.host, s.port, tls=s.tls, prvkey=key, verify=s.verify)
        return self._client

    @property
    def unsigned_client(self) -> Colonies:
        """A client for unsigned requests (version, server info)."""
        if self._client is None:
            s = self.settings
            self._client = Colonies(s.host, s.port, tls=s.tls, verify=s.verify)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


# ------------------------------------------------------------------------------------------------
# The shared options


def _option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def _shared_params(signer: Signer | None, colony: bool, json: bool, server: bool) -> list[inspect.Parameter]:
    params: list[inspect.Parameter] = []
    if json:
        params.append(
            _option(
                "cli_json",
                Annotated[bool, typer.Option("--json", help="Print JSON instead of tables (only JSON on stdout).")],
                False,
            )
        )
    if colony:
        params.append(
            _option(
                "cli_colony",
                Annotated[
                    str | None,
                    typer.Option(
                        "--colonyname",
                        "--colonyid",
                        envvar="COLONIES_COLONY_NAME",
                        help="Colony name (--colonyid is upstream's alias; it also takes the name).",
                        rich_help_panel=CONNECTION,
                        show_default=False,
                    ),
                ],
                None,
            )
        )
    if signer is not None:
        kind = KEYS[signer]
        params.append(
            _option(
                kind.param,
                Annotated[
                    str | None,
                    typer.Option(
                        kind.flag,
                        envvar=kind.envvar,
                        help=f"The {kind.what} that signs the request.",
                        rich_help_panel=CONNECTION,
                        show_default=False,
                    ),
                ],
                None,
            )
        )
    if server:
        params += [
            _option(
                "cli_host",
                Annotated[
                    str,
                    typer.Option(
                        "--host", envvar="COLONIES_SERVER_HOST", help="Server host.", rich_help_panel=CONNECTION
                    ),
                ],
                "localhost",
            ),
            _option(
                "cli_port",
                Annotated[
                    int | None,
                    typer.Option(
                        "--port",
                        min=1,
                        max=65535,
                        help="Server port [env var: COLONIES_SERVER_HTTP_PORT, then COLONIES_SERVER_PORT] "
                        "[default: 50080]",
                        rich_help_panel=CONNECTION,
                        show_default=False,
                    ),
                ],
                None,
            ),
            _option(
                "cli_tls",
                Annotated[
                    bool,
                    typer.Option(
                        "--tls/--insecure",
                        envvar="COLONIES_TLS",
                        help="HTTPS or plain HTTP (the default; unlike upstream, which defaults to HTTPS).",
                        rich_help_panel=CONNECTION,
                    ),
                ],
                False,
            ),
            _option(
                "cli_skip_tls_verify",
                Annotated[
                    bool,
                    typer.Option(
                        "--skip-tls-verify",
                        envvar=SKIP_VERIFY_ENV,
                        help="With --tls: do not verify the server's certificate (a self-signed development "
                        f"server). To trust a private CA instead, set {CA_CERT_ENV} to its certificate file.",
                        rich_help_panel=CONNECTION,
                        show_default=False,
                    ),
                ],
                False,
            ),
        ]
    return params


def command(
    app: typer.Typer,
    name: str,
    *,
    signer: Signer | None = "user",
    colony: bool = False,
    json: bool = False,
    server: bool = True,
    aliases: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Register ``func(session, **own_options)`` as ``name`` (and hidden ``aliases``) on ``app``.

    ``signer``: which key signs (``user`` = COLONIES_PRVKEY, ``colony``, ``server``; None: unsigned
    or no server call); ``colony``: the command works in a colony; ``json``: it has ``--json``;
    ``server``: it talks to a server (adds ``--host``, ``--port``, ``--tls/--insecure``,
    ``--skip-tls-verify``).
    """

    def register(func: F) -> F:
        sig = inspect.signature(func, eval_str=True)
        own = list(sig.parameters.values())[1:]
        params = own + _shared_params(signer, colony, json, server)

        def run(**kwargs: Any) -> None:
            port = kwargs.pop("cli_port", None)
            skip_verify = kwargs.pop("cli_skip_tls_verify", False)
            settings = Settings(
                host=kwargs.pop("cli_host", "localhost"),
                tls=kwargs.pop("cli_tls", False),
                colonyname=kwargs.pop("cli_colony", None),
                signer=signer,
                prvkey=kwargs.pop(KEYS[signer].param, None) if signer else None,
                verify=False if skip_verify else os.environ.get(CA_CERT_ENV, "").strip() or True,
            )
            session = Session(settings, Output(json_mode=kwargs.pop("cli_json", False)))
            with handled_errors(session):
                settings.port = port if port is not None else port_from_env()
                func(session, **kwargs)

        functools.update_wrapper(run, func)
        del run.__wrapped__  # type: ignore[attr-defined]
        run.__signature__ = sig.replace(parameters=params, return_annotation=None)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        app.command(name)(run)
        for alias in aliases:
            app.command(alias, hidden=True)(run)
        return func

    return register


def port_from_env() -> int:
    """COLONIES_SERVER_HTTP_PORT, else COLONIES_SERVER_PORT, else 50080."""
    for name in ("COLONIES_SERVER_HTTP_PORT", "COLONIES_SERVER_PORT"):
        raw = os.environ.get(name, "").strip()
        if raw:
            if not raw.isdigit() or not 1 <= int(raw) <= 65535:
                raise CliError(f"{name}={raw!r} is not a port number (1-65535)")
            return int(raw)
    return DEFAULT_PORT


@contextmanager
def handled_errors(session: Session) -> Iterator[None]:
    """Turn every expected failure into ``Error: ...`` on stderr and a non-zero exit."""
    try:
        yield
    except CliError as exc:
        raise fail(exc.message, exc.code) from None
    except TransportError as exc:
        cause = exc.__cause__
        reason = f"{cause}" if cause is not None and str(cause) else type(cause or exc).__name__
        if certificate_rejected(exc):
            raise fail(
                f"cannot reach the Colonies server at {session.settings.url}: its TLS certificate could not be "
                f"verified ({reason}); pass --skip-tls-verify (or set {SKIP_VERIFY_ENV}=true) for a "
                f"self-signed development server, or set {CA_CERT_ENV} to the CA certificate that signed it"
            ) from None
        raise fail(
            f"cannot reach the Colonies server at {session.settings.url} ({reason}); check "
            "COLONIES_SERVER_HOST, COLONIES_SERVER_PORT and COLONIES_TLS (or --host, --port, --tls)"
        ) from None
    except ServerError as exc:
        raise fail(f"{exc.message} (server replied {exc.status})") from None
    except ColoniesError as exc:
        raise fail(exc.message) from None
    except KeyboardInterrupt:
        raise typer.Exit(INTERRUPTED_EXIT) from None
    finally:
        session.close()


# ------------------------------------------------------------------------------------------------
# Small helpers for commands


def split_list(values: list[str] | None) -> list[str]:
    """Repeated and comma-separated values as one list (``--args a,b --args c``)."""
    items: list[str] = []
    for value in values or ():
        items.extend(part.strip() for part in value.split(","))
    return [item for item in items if item]


def parse_pairs(values: list[str] | None, sep: str, flag: str) -> dict[str, str]:
    """``k<sep>v`` items (comma-separated or repeated) as a dict."""
    pairs: dict[str, str] = {}
    for item in split_list(values):
        key, found, value = item.partition(sep)
        if not found or not key:
            raise CliError(f"{flag} expects key{sep}value items, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def confirm(question: str, yes: bool) -> None:
    """Ask for ``YES`` (as upstream) unless ``--yes`` was given; anything else aborts."""
    if yes:
        return
    sys.stderr.write(f"{question} Type YES to continue: ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip()
    if not sys.stdin.isatty():  # the answer was not typed, so no newline was echoed
        sys.stderr.write("\n")
    if answer != "YES":
        raise CliError("aborted: not confirmed (type YES, or pass --yes)")


def removeall_command(app: typer.Typer, what: str, doc: str, remove: Callable[[Colonies], Callable[..., Any]]) -> None:
    """Register ``removeall`` (help ``doc``) on ``app``: remove all of the colony's ``what``
    (processes or workflows) or, with one of --waiting, --successful, --failed and --cancelled,
    only those in that state, once confirmed. ``remove(client)`` takes the colony and ``state``."""

    def removeall(
        s: Session,
        waiting: bool = False,
        successful: bool = False,
        failed: bool = False,
        cancelled: bool = False,
        yes: bool = False,
    ) -> None:
        chosen = [n for n, flag in ((0, waiting), (2, successful), (3, failed), (4, cancelled)) if flag]
        if len(chosen) > 1:
            raise CliError("choose at most one of --waiting, --successful, --failed and --cancelled")
        state = chosen[0] if chosen else -1
        which = f"{PROCESS_STATES[state]} {what}" if chosen else what
        confirm(f"Remove all {which} of colony {s.colony}?", yes)
        remove(s.client)(s.colony, state=state)
        s.out.info(f"Removed all {which} of colony {s.colony}")

    removeall.__doc__ = doc
    removeall.__annotations__ = {  # the help texts name ``what``, so they are built here, not written
        "s": Session,
        **{
            flag: Annotated[bool, typer.Option(f"--{flag}", help=f"Only {flag} {what}.")]
            for flag in ("waiting", "successful", "failed", "cancelled")
        },
        "yes": YesOpt,
        "return": None,
    }
    command(app, "removeall", signer="colony", colony=True)(removeall)


def list_named(
    s: Session, items: list[Any] | None, what: str, headers: Sequence[str], row: Callable[[Any], Sequence[Any]]
) -> None:
    """The colony's ``what`` (plural: "users") sorted by name: as JSON, ``No <what> found`` when
    there are none, or else a table of ``row(item)``."""
    items = sorted(items or [], key=lambda item: item.get("name", ""))
    if s.json:
        s.out.emit_json(items)
    elif not items:
        s.out.info(f"No {what} found")
    else:
        s.out.table(headers, [row(item) for item in items])


def show_record(s: Session, record: Any, title: str, fields: Sequence[tuple[str, Any]]) -> None:
    """One record: as JSON, or else ``fields`` as a key-value table titled ``title``."""
    if s.json:
        s.out.emit_json(record)
    else:
        s.out.kv(fields, title=title)


def remove_named(
    s: Session, what: str, name: str, yes: bool, remove: Callable[[Colonies], Callable[[str, str], Any]]
) -> None:
    """Remove the colony's ``what`` (singular: "user") called ``name`` once confirmed;
    ``remove(client)`` is the SDK call, which takes the colony and the name."""
    confirm(f"Remove {what} {name} from colony {s.colony}?", yes)
    remove(s.client)(s.colony, name)
    s.out.info(f"{what.capitalize()} removed: {name}")
