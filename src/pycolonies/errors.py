"""Exception types. Every failure of an RPC call is a ``ColoniesConnectionError`` (upstream's name,
so upstream code that catches it keeps working); server error replies are subclasses that carry the
HTTP status and the server's message."""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "BadRequestError",
    "ColoniesConnectionError",
    "ColoniesError",
    "ConflictError",
    "NotFoundError",
    "ServerError",
    "SubscriptionTimeoutError",
    "TransportError",
    "error_for_status",
]


class ColoniesError(Exception):
    """Base of every pycolonies error. ``status`` is the HTTP status (0 when none was received)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


class ColoniesConnectionError(ColoniesError):
    """Any failed RPC call (upstream pycolonies raises this for server errors too)."""


class TransportError(ColoniesConnectionError):
    """The server could not be reached, or answered with something that is not an RPC reply."""


class SubscriptionTimeoutError(ColoniesConnectionError):
    """A WebSocket subscription ended (server timeout or closed socket) before the awaited push."""


class ServerError(ColoniesConnectionError):
    """The server answered with an error reply ``{status, message}``."""


class BadRequestError(ServerError):
    """400: malformed message, validation failure or an illegal state change."""


class AccessDeniedError(ServerError):
    """403: bad signature or the signer may not do this."""


class NotFoundError(ServerError):
    """404: no such object, or no process was available for assignment."""


class ConflictError(ServerError):
    """408/503: assignments of the colony are paused."""


_BY_STATUS: dict[int, type[ServerError]] = {
    400: BadRequestError,
    403: AccessDeniedError,
    404: NotFoundError,
    408: ConflictError,
    503: ConflictError,
}


def error_for_status(status: int, message: str) -> ServerError:
    """The exception instance for an error reply."""
    return _BY_STATUS.get(status, ServerError)(message, status)
