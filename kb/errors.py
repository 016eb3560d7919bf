"""Domain errors: part of the interface, each with an HTTP status and an actionable message.

``kb/`` and ``ingest/`` raise only these; the web layer renders them as HTML or
JSON from one handler, the CLI prints the message and exits non-zero.
"""

from __future__ import annotations


class KbError(Exception):
    """Base of all domain errors. ``status`` is the HTTP status the web layer uses."""

    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(KbError):
    """The named document, chunk or resource does not exist."""

    status = 404


class Conflict(KbError):
    """The request contradicts stored state (e.g. importing over an existing id with other content)."""

    status = 409


class InvalidInput(KbError):
    """Input that cannot be accepted; the message names the place (file, line) and the problem."""

    status = 422

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        place = ""
        if source:
            place = source + (f":{line}" if line else "") + ": "
        elif line:
            place = f"line {line}: "
        super().__init__(place + message)
        self.source = source
        self.line = line
        self.reason = message


class IndexOutOfDate(KbError):
    """A derived index does not match the store (other embedder, missing changes) and must be rebuilt."""

    status = 503
