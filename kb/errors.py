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
    """Input that cannot be accepted; the message names the place (file, line) and the problem.

    ``place`` names a spot that is not a line (``row 12, column 'date'``,
    ``page 3``, ``paragraph 7``); the message reads ``file:line: place: reason``.
    """

    status = 422

    def __init__(
        self, message: str, *, source: str | None = None, line: int | None = None, place: str | None = None
    ) -> None:
        prefix = ""
        if source:
            prefix = source + (f":{line}" if line else "") + ": "
        elif line:
            prefix = f"line {line}: "
        super().__init__(prefix + (f"{place}: " if place else "") + message)
        self.source = source
        self.line = line
        self.place = place or (f"line {line}" if line else None)
        self.reason = message


class IndexOutOfDate(KbError):
    """A derived index does not match the store (other embedder, missing changes) and must be rebuilt."""

    status = 503


class Unauthorized(KbError):
    """No credentials, or credentials that are not valid (wrong password, revoked token, expired session)."""

    status = 401


class Forbidden(KbError):
    """Valid credentials, but the action is beyond the caller's role or ownership."""

    status = 403


class PasswordChangeRequired(Forbidden):
    """The account still has the one-time password a PMO admin issued: it must choose its own before anything else.

    The web layer sends a browser to the account page instead of showing a 403 page.
    """


class TooManyRequests(KbError):
    """Too many failed logins for one account or address in the lockout window; try again later."""

    status = 429
