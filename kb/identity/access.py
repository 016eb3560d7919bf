"""Who is asking, and what they may see and change: one place for every role and visibility rule.

The web layer turns credentials into a ``Principal`` (``web.auth``); the CLI
acts as ``CLI`` (whoever can run it owns the data dir). Everything that reads
or writes documents on someone's behalf asks this module, so a later feature
(the kickoff brief, the dashboard) gets the same rules by passing the same
principal.

Visibility: a document with ``groups`` is seen only by members of one of those
groups and by PMO admins; an outsider gets exactly what they would get if it
did not exist (404, no hit, no count). Search enforces it inside both legs
through ``Filters.visible_to`` (see ``kb.search.searcher``), never by hiding hits
afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from kb.errors import Forbidden, NotFound, PasswordChangeRequired, Unauthorized
from kb.record.models import Document, DocumentDraft, Kind, Role, Status
from kb.record.store import Store, WriteResult

# Kinds only a PMO admin may publish, supersede or archive; others submit them as drafts for review.
STANDARD_KINDS = (Kind.template, Kind.procedure)


@dataclass(frozen=True)
class Principal:
    """The caller of one request or command.

    ``role`` is None for an anonymous caller when anonymous access is off
    (``KB_ANONYMOUS_ROLE=none``): they may do nothing but log in. ``via`` says
    how they were identified (session, token, proxy, cli, anonymous) for the
    audit log.
    """

    login: str
    role: Role | None
    groups: frozenset[str] = field(default_factory=frozenset)
    via: str = "anonymous"
    # what the header shows (the login when the account has none); never used to decide anything
    display_name: str = ""
    # a PMO admin issued this account a one-time password: every page asks them to choose their own
    must_change_password: bool = False

    @property
    def authenticated(self) -> bool:
        return self.via != "anonymous"

    @property
    def is_admin(self) -> bool:
        return self.role is Role.pmo_admin

    def allows(self, role: Role) -> bool:
        return self.role is not None and self.role.at_least(role)

    @property
    def visible_to(self) -> tuple[str, ...] | None:
        """The search filter value: None sees everything (PMO admins), else the groups whose documents it sees."""
        return None if self.is_admin else tuple(sorted(self.groups))

    def can_see(self, groups: Sequence[str]) -> bool:
        return self.is_admin or not groups or not self.groups.isdisjoint(groups)

    def can_edit(self, doc: Document) -> bool:
        """PMO admins edit anything; contributors what they created (and can still see)."""
        if self.is_admin:
            return True
        return (
            self.allows(Role.contributor)
            and doc.created_by is not None
            and doc.created_by == self.login
            and self.can_see(doc.groups)
        )

    @property
    def label(self) -> str:
        """How the audit log names the caller."""
        return self.login or "anonymous"


ANONYMOUS = Principal("", None)
CLI = Principal("cli", Role.pmo_admin, via="cli")


def require(principal: Principal, role: Role) -> None:
    """401 when nobody is logged in and that is why; 403 when the role is too low."""
    if principal.allows(role):
        return
    if not principal.authenticated:
        raise Unauthorized("log in first: this needs an account")
    have = principal.role.value if principal.role else "none"
    raise Forbidden(
        f"this needs the {role.value} role; you are {have}. Ask your PMO admin for the {role.value} role "
        "if your work needs it."
    )


def require_own_password(principal: Principal) -> None:
    """Refuse a browser session whose account still has the one-time password a PMO admin issued.

    Whoever knows that password (the admin, and whoever saw it handed over) could
    otherwise keep using the account; only choosing one's own lifts it. An API
    token is not refused: its user made it, so it is not the admin's secret.
    """
    if principal.via == "session" and principal.must_change_password:
        raise PasswordChangeRequired(
            "this account still has the one-time password a PMO admin issued: choose your own password on the "
            "account page (/account) first"
        )


def visible(principal: Principal, doc: Document) -> Document:
    """``doc`` if the principal may see it; otherwise the same NotFound as for a document that does not exist."""
    if not principal.can_see(doc.groups):
        raise NotFound(f"no document with id {doc.id!r}")
    return doc


D = TypeVar("D")


def only_visible(principal: Principal, docs: Iterable[D], groups_of: Callable[[D], Sequence[str]]) -> list[D]:
    return [d for d in docs if principal.can_see(groups_of(d))]


def check_edit(principal: Principal, doc: Document) -> None:
    """Raise unless ``principal`` may change or delete ``doc`` (seen first: an outsider gets 404)."""
    visible(principal, doc)
    require(principal, Role.contributor)
    if not principal.can_edit(doc):
        raise Forbidden("only its creator or a PMO admin may change or delete this document")


def admit(principal: Principal, draft: DocumentDraft) -> DocumentDraft:
    """The draft as ``principal`` may store it, or Forbidden.

    - Restricting to a group is allowed to its members (and PMO admins): a
      contributor cannot hide a document in a group they cannot see.
    - A template or procedure from a non-admin is stored as a draft for PMO
      review, whatever status it named: only PMO admins publish, supersede or
      archive standards. (A file cannot always say ``status: draft``, so
      refusing would leave contributors no way to submit a Word template.)
    """
    require(principal, Role.contributor)
    outside = sorted(set(draft.groups) - principal.groups) if not principal.is_admin else []
    if outside:
        raise Forbidden(f"you are not a member of the group(s) {', '.join(outside)}; you cannot restrict to them")
    if draft.kind in STANDARD_KINDS and draft.status is not Status.draft and not principal.is_admin:
        return draft.model_copy(update={"status": Status.draft})
    return draft


class GuardedStore:
    """The upload's ``SourceWriter`` (``kb.record.roles``) on behalf of ``principal``: the ingest pipeline writes
    uploads through it, and it offers nothing else (no read or write reaches the store unguarded).

    ``replace_source`` admits every draft (see ``admit``),
    refuses to replace documents the principal may see but not edit (uploading
    a file of the same name as someone else's visible one), and records the
    principal as the creator of what it adds.

    A name already taken by documents the principal may not see is never
    answered with a refusal, nor with "updated" or "unchanged": each would tell
    an outsider that a restricted file of that name exists (and "unchanged",
    that its bytes are these). The upload goes to the principal's own source
    instead (``own_source``), exactly as if the name were free, and
    ``source_hash`` answers for that source; nothing of the hidden file is
    read, replaced or reported. The principal's later uploads of the name keep
    going to their own source, so they update their file, not the hidden one.
    """

    def __init__(self, store: Store, principal: Principal) -> None:
        self._store = store
        self.principal = principal

    def source_hash(self, path: str) -> str | None:
        return self._store.source_hash(self._source(path))

    def replace_source(
        self, path: str, content_hash: str, drafts: Sequence[DocumentDraft], *, by: str | None = None
    ) -> WriteResult:
        """Store the upload's drafts as the principal (the creator is always the principal: ``by``, when given,
        must name them)."""
        if by is not None and by != (self.principal.login or None):
            raise Forbidden("an upload is stored as the person uploading it, never as someone else")
        path = self._source(path)
        for doc in self._store.documents_of_source(path):
            if not self.principal.can_edit(doc):
                raise Forbidden(
                    "a file of this name was stored by someone else; only they or a PMO admin may replace it"
                )
        admitted = [admit(self.principal, d) for d in drafts]
        return self._store.replace_source(path, content_hash, admitted, by=self.principal.login or None)

    def documents_of_source(self, path: str) -> list[Document]:
        """The documents of the source an upload of ``path`` writes to, as far as the principal may see them."""
        return [d for d in self._store.documents_of_source(self._source(path)) if self.principal.can_see(d.groups)]

    def attached_sources(self, path: str) -> list[str]:
        """The sources of files attached to the upload ``path`` that the principal's upload of ``path`` wrote
        (named as uploaded: ``upload:plan.eml#a.xlsx``), whichever source each went to (see ``_source``)."""
        found = []
        for stored in (path, own_source(path, self.principal.login)):
            for attached in self._store.attached_sources(self._source(stored)):
                named = path + attached[len(self._source(stored)) :]
                if self._source(named) == attached and named not in found:
                    found.append(named)
        return found

    def remove_source(self, path: str) -> WriteResult:
        """Remove what the principal's upload of ``path`` stored, when they may edit all of it (else nothing)."""
        path = self._source(path)
        docs = self._store.documents_of_source(path)
        if not all(self.principal.can_edit(doc) for doc in docs):
            raise Forbidden("a file of this name was stored by someone else; only they or a PMO admin may remove it")
        return self._store.remove_source(path)

    def _source(self, path: str) -> str:
        """``path``, or the principal's own source for it when ``path`` holds only documents hidden from them."""
        own = own_source(path, self.principal.login)
        if own == path or self._store.source_hash(own) is not None:
            return own
        docs = self._store.documents_of_source(path)
        seen = [d for d in docs if self.principal.can_see(d.groups)]
        # documents the principal sees decide (an edit, or the refusal they can understand); only when every
        # document of the name is hidden does the upload go elsewhere, as it would were the name free
        return own if docs and not seen else path


def own_source(path: str, login: str) -> str:
    """The source key of ``login``'s upload named as ``path`` (``upload:<name>`` → ``upload:~<login>/<name>``).

    Upload names never hold a ``/`` (``ingest.uploads.safe_filename``), so no
    plain upload key equals one of these, and the file name stays the last part.
    A path that is not an upload's, or a caller with no login, keeps ``path``.
    """
    prefix, colon, name = path.partition(":")
    if prefix != "upload" or not colon or not login or "/" in name:
        return path
    return f"upload:~{login}/{name}"
