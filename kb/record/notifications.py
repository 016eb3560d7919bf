"""Tables of push delivery: subscriptions, the project register, the outbox and what was tried.

The outbox is two tables. A ``Notification`` is one thing a recipient should
hear about (a new document matching one subscription, or a project entering a
phase); its ``key`` is unique, so the same match is never queued twice, even
when two replicas run the matcher at once. A ``Message`` is one delivery to one
recipient on one channel (an email, a webhook post, an inbox entry) carrying
one or more notifications (a digest carries a week's). Its ``key`` is fixed
when the message is formed and sent with it (``Message-ID``, the
``X-KB-Idempotency-Key`` header), so a message retried after a crash is the same
message and its receiver can drop the copy. ``DeliveryAttempt`` keeps every try
with its outcome, for the owner and the PMO.

Imported by ``kb.record.models`` so that every table is on the metadata the
migrations are checked against.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from kb.record.models import utcnow


class Subscription(SQLModel, table=True):
    """What one user follows, how (channel) and how often (rhythm).

    ``topic``: ``search`` (``query`` and ``filters``), ``tag``, ``category``,
    ``phase``, ``project``, ``kind`` (``target`` names the value) or
    ``document`` (``target`` is a document id: its new versions). ``channel``:
    ``inbox``, ``email`` (to ``address``), ``webhook`` (to ``address``, signed with
    ``secret``, body in ``format``) or ``feed`` (Atom, at a URL holding
    ``feed_token``). ``rhythm``: ``now``, ``daily`` or ``weekly``. ``secret`` also
    signs the unsubscribe link, so a new secret revokes old links.
    """

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=200, index=True)
    topic: str = Field(max_length=32, index=True)
    target: str = Field(default="", max_length=500)
    query: str = Field(default="", sa_column=Column(Text, nullable=False))
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    channel: str = Field(max_length=16)
    rhythm: str = Field(default="now", max_length=16)
    address: str = Field(default="", max_length=1000)
    format: str = Field(default="json", max_length=16)
    language: str = Field(default="ja", max_length=8)
    secret: str = Field(max_length=64)
    feed_token: str = Field(max_length=64, unique=True, index=True)
    active: bool = True
    created_at: dt.datetime = Field(default_factory=utcnow)


class Project(SQLModel, table=True):
    """A project in the register: its phase now, who is in it, when each phase is planned to start."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True, index=True)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    phase: str = Field(default="", max_length=200)
    phase_since: dt.datetime | None = None
    pm: str = Field(default="", max_length=200)
    members: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # phase → ISO date it is planned to start; the scheduler enters it on that day
    planned: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Notification(SQLModel, table=True):
    """One thing one recipient should hear about; ``message_id`` is set when it is put into a message."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    recipient: str = Field(max_length=200, index=True)
    subscription_id: int | None = Field(default=None, index=True)
    reason: str = Field(max_length=16)  # match | gate
    document_id: str | None = Field(default=None, max_length=64, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    channel: str = Field(max_length=16)
    due_at: dt.datetime = Field(default_factory=utcnow, index=True)
    message_id: int | None = Field(default=None, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    """One delivery on one channel; ``state``: pending, sent, failed (gave up) or withheld (nothing visible)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    recipient: str = Field(max_length=200, index=True)
    subscription_id: int | None = Field(default=None, index=True)
    channel: str = Field(max_length=16)
    state: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_at: dt.datetime = Field(default_factory=utcnow, index=True)
    lease_until: dt.datetime | None = None
    claimed_by: str = Field(default="", max_length=200)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False))
    # what was sent, for the inbox and the PMO's reach count: document ids, and the saved brief of a gate
    delivered: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    brief_id: int | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None
    read_at: dt.datetime | None = None


class DeliveryAttempt(SQLModel, table=True):
    """One try to deliver a message: started, then sent, failed (with the reason) or withheld."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(index=True)
    at: dt.datetime = Field(default_factory=utcnow)
    worker: str = Field(default="", max_length=200)
    outcome: str = Field(max_length=16)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class NotifyCursor(SQLModel, table=True):
    """How far the matcher has read the change log (one row, ``name`` = ``matcher``): durable, so a restart
    neither skips changes nor matches them twice."""

    name: str = Field(primary_key=True, max_length=32)
    seq: int = 0
    updated_at: dt.datetime = Field(default_factory=utcnow)
