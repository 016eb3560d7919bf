"""Content model: documents, their chunks, the sources they came from, and the change log.

SQLModel classes follow the Base / table / Draft split so the database row, the
data an ingester produces and (later) the API's public schema stay separate.
The SQL database is the only system of record; every derived index follows the
``Change`` table, a monotonic sequence of document changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, model_validator
from sqlalchemy import JSON, Column, Dialect, LargeBinary, String, Text, TypeDecorator
from sqlmodel import Field, SQLModel

from kb.record import storable


class Kind(StrEnum):
    """The five content kinds a PMO keeps."""

    lesson = "lesson"
    retrospective = "retrospective"
    faq = "faq"
    template = "template"
    procedure = "procedure"


class Status(StrEnum):
    """Lifecycle of a document: templates and procedures move draft → in review → published → superseded.

    The moves and who may make them are in ``kb.pmo.lifecycle``.
    """

    draft = "draft"
    in_review = "in_review"
    published = "published"
    superseded = "superseded"
    archived = "archived"


class EnumText(TypeDecorator[StrEnum]):
    """A ``StrEnum`` stored as plain text, so migrations need no database enum types."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def utcnow() -> dt.datetime:
    """Aware UTC now; SQLModel stores it as UTC on SQLite and as timestamptz on PostgreSQL."""
    return dt.datetime.now(dt.UTC)


# Fields whose values make up a document's content; their hash decides whether a
# re-ingested document changed. Timestamps and ids are deliberately not in it.
CONTENT_FIELDS: tuple[str, ...] = (
    "kind",
    "title",
    "body",
    "language",
    "project",
    "phase",
    "tags",
    "owner",
    "status",
    "version",
    "review_by",
    "doc_date",
    "driving_event",
    "lesson",
    "recommendation",
    "impact",
    "category",
    "question",
    "answer",
    "supersedes",
    "parent_id",
    "meta",
    "attachment_id",
    "groups",
)


class DocumentBase(SQLModel):
    """Fields every document has, plus the kind-specific ones (empty where they do not apply)."""

    kind: Kind = Field(sa_column=Column(EnumText(Kind), nullable=False, index=True))
    title: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    language: str = "en"
    project: str | None = Field(default=None, index=True)
    phase: str | None = None
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    owner: str | None = None
    status: Status = Field(default=Status.published, sa_column=Column(EnumText(Status), nullable=False))
    version: str | None = None
    review_by: dt.date | None = None
    doc_date: dt.date | None = None
    # lesson
    driving_event: str | None = Field(default=None, sa_column=Column(Text))
    lesson: str | None = Field(default=None, sa_column=Column(Text))
    recommendation: str | None = Field(default=None, sa_column=Column(Text))
    impact: str | None = None
    category: str | None = None
    # faq
    question: str | None = Field(default=None, sa_column=Column(Text))
    answer: str | None = Field(default=None, sa_column=Column(Text))
    # template / procedure
    supersedes: str | None = None
    # a lesson split out of a retrospective points back at it
    parent_id: str | None = Field(default=None, index=True)
    # front matter keys we do not model, kept so nothing a user wrote is lost
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # the original file (a template's .xlsx, a procedure's .docx), kept for download
    attachment_id: str | None = Field(default=None, foreign_key="attachment.id", max_length=64)
    # restricted to these groups (empty: everyone who may read); see ``kb.identity.access``
    groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Document(DocumentBase, table=True):
    """A stored document. ``id`` is stable across edits of the same source item."""

    id: str = Field(primary_key=True, max_length=64)
    source_path: str | None = Field(default=None, index=True)
    source_key: str | None = None
    content_hash: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    # login of the account that first stored it (None: the CLI or a release before accounts);
    # a contributor may edit and delete what they created
    created_by: str | None = Field(default=None, max_length=200)


class OriginalFile(BaseModel):
    """A file kept as it arrived, so users can download the original of a template or procedure."""

    filename: str
    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class DocumentDraft(DocumentBase):
    """A document as an ingester or a form produces it, before it is stored.

    ``key`` names the item inside its source (``lesson-2``, ``faq-3``) so the same
    item keeps the same id when the file is edited. ``original``, when given, is
    stored as an ``Attachment`` and ``attachment_id`` set to its SHA-256.
    """

    key: str = "main"
    original: OriginalFile | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _attachment_from_original(self) -> DocumentDraft:
        if self.original is not None:
            self.attachment_id = self.original.digest
        return self

    @model_validator(mode="after")
    def _storable(self) -> DocumentDraft:
        # every way in (API, pages, files, CLI, import) builds a draft: refuse here what no database can hold.
        # InvalidInput is not a ValueError, so pydantic lets it through as the domain error it is.
        for name in type(self).model_fields:
            if name != "original":
                storable.check(getattr(self, name), name)
        return self

    def content_hash(self) -> str:
        """SHA-256 over the content fields in a canonical JSON form."""
        data = self.model_dump(mode="json", include=set(CONTENT_FIELDS))
        if not data["groups"]:  # unrestricted: the hash stays what it was before groups existed
            del data["groups"]
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Chunk(SQLModel, table=True):
    """The unit that is embedded and indexed.

    ``id`` is an integer (never reused: SQLite AUTOINCREMENT, PostgreSQL sequence)
    so vector and lexical indexes can key on it directly.
    """

    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=64)
    position: int
    heading: str = ""
    text: str = Field(sa_column=Column(Text, nullable=False))


class Attachment(SQLModel, table=True):
    """An original file, content-addressed (``id`` is its SHA-256), stored in the database.

    In the database rather than the data dir so every app replica serving one
    PostgreSQL database can hand it out; files are capped by KB_MAX_FILE_BYTES.
    """

    id: str = Field(primary_key=True, max_length=64)
    filename: str
    media_type: str
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)


class Source(SQLModel, table=True):
    """A file that was ingested: its path and the hash of its bytes, for the no-op check."""

    path: str = Field(primary_key=True)
    content_hash: str = Field(max_length=64)
    ingested_at: dt.datetime = Field(default_factory=utcnow)


class ChangeOp(StrEnum):
    upsert = "upsert"
    delete = "delete"


class Change(SQLModel, table=True):
    """One entry of the change log: document ``document_id`` was written or deleted at ``seq``."""

    __table_args__ = {"sqlite_autoincrement": True}

    seq: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(index=True, max_length=64)
    op: ChangeOp = Field(sa_column=Column(EnumText(ChangeOp), nullable=False))
    at: dt.datetime = Field(default_factory=utcnow)


class SearchEvent(SQLModel, table=True):
    """One search as a user ran it, so the PMO sees what people look for and do not find."""

    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    query: str = Field(sa_column=Column(Text, nullable=False))
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    results: int
    at: dt.datetime = Field(default_factory=utcnow, index=True)


class Verdict(StrEnum):
    """What a reader says about a hit or a document: ``outdated`` goes to its owner's review queue."""

    helpful = "helpful"
    not_helpful = "not_helpful"
    outdated = "outdated"


class Feedback(SQLModel, table=True):
    """A reader's verdict on one document (for one query when given on a search hit), with a comment.

    ``helpful`` stays for the analytics that count helpful against not (an
    ``outdated`` verdict is not helpful). An ``outdated`` report is open until
    its owner or a PMO admin marks it dealt with (``resolved_at``).
    """

    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    query: str = Field(sa_column=Column(Text, nullable=False))
    document_id: str = Field(index=True, max_length=64)
    helpful: bool
    verdict: Verdict = Field(default=Verdict.helpful, sa_column=Column(EnumText(Verdict), nullable=False, index=True))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    actor: str | None = Field(default=None, max_length=200)
    at: dt.datetime = Field(default_factory=utcnow)
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = Field(default=None, max_length=200)


class Role(StrEnum):
    """Ordered roles: each may do everything the ones before it may (see ``Role.rank``)."""

    reader = "reader"
    contributor = "contributor"
    pmo_admin = "pmo_admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {Role.reader: 1, Role.contributor: 2, Role.pmo_admin: 3}


class User(SQLModel, table=True):
    """An account. ``password_hash`` is an argon2id hash, or None for token-only and proxy-login accounts."""

    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=200, unique=True, index=True)
    display_name: str = Field(default="", max_length=200)
    password_hash: str | None = Field(default=None, max_length=400)
    role: Role = Field(sa_column=Column(EnumText(Role), nullable=False))
    groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_at: dt.datetime = Field(default_factory=utcnow)
    # the UI language the account chose on its own page (None: the browser's)
    language: str | None = Field(default=None, max_length=8)
    # set when a PMO admin issued a one-time password: the account is asked to choose its own at once
    must_change_password: bool = False
    # SHA-256 of a pending invitation link's secret (shown once to the admin) and when the link stops working
    invite_hash: str | None = Field(default=None, max_length=64, unique=True, index=True)
    invite_expires_at: dt.datetime | None = None


class Group(SQLModel, table=True):
    """A named group of users; documents restricted to it are seen only by its members and PMO admins."""

    name: str = Field(primary_key=True, max_length=200)
    description: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A bearer token for the API. Only the SHA-256 of the secret is kept; the secret is shown once.

    ``role_cap`` limits what the token may do below its owner's role (a
    read-only token for a script); the effective role is the lower of the two.
    """

    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    user_id: int = Field(foreign_key="user.id", index=True)
    secret_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)
    role_cap: Role | None = Field(default=None, sa_column=Column(EnumText(Role)))
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


class LoginSession(SQLModel, table=True):
    """A browser session: the SHA-256 of the cookie's random id, its account and its expiry."""

    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime
    address: str | None = Field(default=None, max_length=100)


class AuditEvent(SQLModel, table=True):
    """One write or security event: who, when, what (action and target), from where, and details."""

    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200, index=True)
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=500)
    address: str | None = Field(default=None, max_length=100)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Embedding(SQLModel, table=True):
    """A chunk text's vector under one embedder, stored once for every replica.

    Keyed by the embedder's identity and the SHA-256 of the exact text it
    embedded (``kb.search.indexer.index_text``), so identical texts share a vector
    and a new replica, a rebuild or a second replica reads vectors instead of
    computing them again (embedding is the slow part of indexing). Float32,
    little-endian, ``dim`` values.
    """

    embedder: str = Field(primary_key=True, max_length=200)
    text_hash: str = Field(primary_key=True, max_length=64)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ReviewEvent(SQLModel, table=True):
    """One lifecycle move of a template or procedure (submit, approve, return with a comment, verify …).

    Kept beside the audit log because the document page shows it: who returned a
    draft and why, who verified it last.
    """

    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(index=True, max_length=64)
    action: str = Field(max_length=32)
    from_status: Status = Field(sa_column=Column(EnumText(Status), nullable=False))
    to_status: Status = Field(sa_column=Column(EnumText(Status), nullable=False))
    actor: str = Field(max_length=200)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    at: dt.datetime = Field(default_factory=utcnow)


class ActionStatus(StrEnum):
    """What became of a lesson's recommendation: still open, adopted into a standard, or not adopted."""

    open = "open"
    adopted = "adopted"
    not_adopted = "not_adopted"


class LessonAction(SQLModel, table=True):
    """The action status of one lesson (no row: open).

    Not a document field: re-ingesting the lesson's file must not reset it, and
    it is not part of what the lesson says. ``target_id`` and
    ``target_version`` name the template or procedure version that now carries
    the recommendation.
    """

    lesson_id: str = Field(primary_key=True, max_length=64)
    status: ActionStatus = Field(sa_column=Column(EnumText(ActionStatus), nullable=False))
    target_id: str | None = Field(default=None, index=True, max_length=64)
    target_version: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    actor: str = Field(max_length=200)
    at: dt.datetime = Field(default_factory=utcnow)


class SavedBrief(SQLModel, table=True):
    """A kickoff brief a PM saved to their project: the description, the reading list, and what they ticked.

    ``items`` is the list as it was made (``document_id``, ``kind``, ``title``,
    ``reason``, ``read``), so the PMO later sees which lessons were read before
    kickoff even when the documents have changed since.
    """

    __tablename__ = "brief"  # the table keeps the name it was created with (migration 0007)
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    project: str = Field(max_length=200, index=True)
    description: str = Field(sa_column=Column(Text, nullable=False))
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    items: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, index=True)


from kb.record import notifications as _notifications  # noqa: E402,F401  (the push tables, on the same metadata)
