"""Who is asking, from where, through which channel: the first argument of every use case after ``kb``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kb.identity.access import Principal

Channel = Literal["web", "api", "cli"]


@dataclass(frozen=True)
class Caller:
    """The principal (login, role, groups, how they were identified), their address and the channel.

    ``address`` is the client's IP for web and API requests (behind a trusted
    proxy, the forwarded one) and ``"local"`` for the CLI; it goes to the audit
    log and the login rate limits.
    """

    principal: Principal
    channel: Channel
    address: str | None = None

    @classmethod
    def local(cls, principal: Principal) -> Caller:
        """A command run on the server itself (``kb …``)."""
        return cls(principal, "cli", "local")

    @property
    def login(self) -> str | None:
        """The account's login, or None for an anonymous or system caller (what ``created_by`` records)."""
        return self.principal.login or None
