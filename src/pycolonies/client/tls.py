"""Certificate verification for the clients' HTTPS and WSS connections.

A client's ``verify`` setting becomes one ``ssl.SSLContext`` (:func:`ssl_context`) that every
transport of the client uses: httpx for RPCs, the executor's lean asyncio transport, and the
WebSocket subscriptions. ``verify`` is ``True`` (the CA bundle httpx uses: ``SSL_CERT_FILE`` or
``SSL_CERT_DIR`` when set, else certifi's), ``False`` (no verification, for a development server
with a self-signed certificate), the path of a CA bundle file or directory (the secure way to
trust a self-signed or private CA), or a ready ``ssl.SSLContext``.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from typing import TypeAlias

from ..errors import ColoniesError

__all__ = [
    "CA_CERT_ENV",
    "SKIP_VERIFY_ENV",
    "Verify",
    "certificate_hint",
    "certificate_rejected",
    "ssl_context",
    "verify_from_env",
]

Verify: TypeAlias = bool | str | os.PathLike[str] | ssl.SSLContext
"""What a client's ``verify`` accepts."""

SKIP_VERIFY_ENV = "COLONIES_SKIP_TLS_VERIFY"
"""``true``: do not verify the server's certificate (a pycolonies addition)."""
CA_CERT_ENV = "COLONIES_CA_CERT"
"""The CA bundle to verify the server's certificate with (a pycolonies addition)."""

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def ssl_context(verify: Verify = True) -> ssl.SSLContext:
    """The client-side SSL context for ``verify`` (module docstring). A missing or unreadable CA
    bundle raises ColoniesError naming it."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if verify is True:
        return _default_context()
    path = os.fspath(verify)
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise ColoniesError(f"Cannot load the CA bundle {path!r}: {exc.strerror or exc}") from exc


def _default_context() -> ssl.SSLContext:
    # As httpx's default: SSL_CERT_FILE / SSL_CERT_DIR, else certifi's bundle (else the system's).
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    try:
        import certifi  # a dependency of httpx
    except ImportError:  # pragma: no cover
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def verify_from_env(environ: Mapping[str, str] | None = None) -> bool | str:
    """``verify`` from the environment: False when ``COLONIES_SKIP_TLS_VERIFY`` is true, else the
    path in ``COLONIES_CA_CERT`` when set, else True. Raises ColoniesError for a value of
    ``COLONIES_SKIP_TLS_VERIFY`` that is not a boolean."""
    env = os.environ if environ is None else environ
    raw = env.get(SKIP_VERIFY_ENV, "").strip().lower()
    if raw in _TRUE:
        return False
    if raw not in _FALSE:
        raise ColoniesError(f"{SKIP_VERIFY_ENV}={env[SKIP_VERIFY_ENV]!r} is not true or false")
    return env.get(CA_CERT_ENV, "").strip() or True


def certificate_rejected(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the client rejecting the server's certificate."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(cause):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def certificate_hint(exc: BaseException) -> str:
    """What to add to the message of a transport error caused by a rejected certificate."""
    if not certificate_rejected(exc):
        return ""
    return (
        "; the server's TLS certificate could not be verified: pass its CA bundle as verify=<path> "
        f"(or set {CA_CERT_ENV}), or skip verification with verify=False (or {SKIP_VERIFY_ENV}=true)"
    )
