"""Push delivery as use cases: match new documents, send what is due, read the inbox, a feed, the numbers.

One mechanism feeds the outbox for every write, whatever made it (a form, the
API, an upload, ``kb ingest`` in another process, a lifecycle move): the
**change log**. ``match`` reads the changes past the matcher's durable cursor,
up to what this process has indexed (``Indexer.seq``: every change at or below
it is committed and searchable, none can still appear below it, so the real
searcher can judge them), and writes the notifications and the new cursor in
one transaction (``kb.notify.outbox.record``). A change is thus matched once
and never lost: the same guarantee as writing the outbox in the writer's own
transaction, without a hook in every write path (uploads commit file by file,
``kb ingest`` runs without the app layer). Stage gates are the exception: the
phase change and its notifications *are* written in one transaction
(``app.projects.enter_phase``).

Access is decided again when a message is sent, as its recipient is then: a
disabled account gets nothing more, a document restricted since (or deleted)
is left out, and a message left with nothing is withheld, not sent.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.briefs import make as make_brief
from app.caller import Caller
from kb.engine import KnowledgeBase
from kb.errors import NotFound
from kb.identity.access import Principal
from kb.identity.accounts import principal_of
from kb.notify import atom, egress, email, outbox, subscriptions, webhook
from kb.notify.content import Content, Item, describe, items_of, summary_of, word
from kb.notify.matching import matches
from kb.pmo import projects, saved_briefs
from kb.pmo.brief import BriefRequest
from kb.record.models import Document, Role, Status, utcnow
from kb.record.notifications import Message, Notification, Subscription

CHANGES_PER_PASS = 5000


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def principals(kb: KnowledgeBase) -> dict[str, Principal]:
    """Every active account as the notifier acts for it (disabled accounts are absent: they get nothing)."""
    return {u.login: principal_of(u, "notify") for u in kb.accounts.users() if u.active}


def principal(kb: KnowledgeBase, login: str) -> Principal | None:
    """The account as it is now (None when disabled or gone): read for every message, so a change counts at once."""
    try:
        user = kb.accounts.user(login)
    except NotFound:
        return None
    return principal_of(user, "notify") if user.active else None


def match(kb: KnowledgeBase, *, now: dt.datetime | None = None) -> int:
    """Queue a notification for every subscription each change past the cursor matches; how many were queued."""
    db = kb.store.db
    queued = 0
    # match only what is searchable (the watermark below); a command's indexes load here and catch up first
    kb.indexer.catch_up()
    while True:
        start, top = outbox.cursor(db), kb.indexer.seq
        if top <= start:
            return queued
        changes = [c for c in kb.store.changes_since(start, limit=CHANGES_PER_PASS) if (c.seq or 0) <= top]
        end = int(changes[-1].seq or top) if len(changes) == CHANGES_PER_PASS else top
        when: dict[str, dt.datetime] = {}
        for c in changes:
            if c.op.value == "upsert":
                when[c.document_id] = _aware(c.at)
        docs = [d for d in kb.store.get_many(list(when)) if d.status is Status.published]
        rows = _notifications(kb, docs, when, now or utcnow()) if docs else []
        queued += outbox.record(db, expected=start, seq=end, notifications=rows)


def _notifications(
    kb: KnowledgeBase, docs: Sequence[Document], when: dict[str, dt.datetime], now: dt.datetime
) -> list[Notification]:
    subs = subscriptions.active(kb.store.db)
    if not subs:
        return []
    found = matches(
        subscriptions=subs,
        documents=docs,
        principals=principals(kb),
        searcher=kb.searcher,
        vocabulary=kb.searcher.folding.vocabulary,
        projects=projects.aliases(kb.store.db),
    )
    return [
        Notification(
            key=f"m:{m.subscription.id}:{m.document.id}:{m.document.content_hash}",
            recipient=m.subscription.owner,
            subscription_id=m.subscription.id,
            reason="match",
            document_id=m.document.id,
            channel=m.subscription.channel,
            due_at=outbox.due_time(m.subscription.rhythm, now),
        )
        for m in found
        if when[m.document.id] >= _aware(m.subscription.created_at)  # only what changed since it was made
    ]


@dataclass
class Report:
    """What one pass did: notifications queued, phases entered, messages by outcome."""

    queued: int = 0
    phases: list[tuple[str, str]] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, object]:
        return {"queued": self.queued, "phases": [f"{p}: {ph}" for p, ph in self.phases], **self.outcomes}


def worker_name() -> str:
    """Who holds a lease: host, process and thread (the scheduler and a request may both send)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def deliver(
    kb: KnowledgeBase, *, now: dt.datetime | None = None, worker: str | None = None, batch: int = 50
) -> Counter[str]:
    """Form due messages and send every one that is due, batch by batch; the outcomes counted."""
    db, settings = kb.store.db, kb.settings
    worker = worker or worker_name()
    counted: Counter[str] = Counter()
    while outbox.form(db, now=now or utcnow()):
        pass
    while True:
        at = now or utcnow()
        claimed = outbox.claim(db, now=at, worker=worker, lease=settings.notify_lease_seconds, limit=batch)
        if not claimed:
            return counted
        for m in claimed:
            counted[_deliver_one(kb, m, now=now, worker=worker)] += 1


def _deliver_one(kb: KnowledgeBase, m: Message, *, now: dt.datetime | None, worker: str) -> str:
    db, settings = kb.store.db, kb.settings

    def finish(outcome: outbox.Outcome) -> str:
        return outbox.finish(
            db, m, outcome, now=now or utcnow(), worker=worker, max_attempts=settings.notify_max_attempts
        )

    who = principal(kb, m.recipient)
    if who is None:
        return finish(outbox.Outcome("withheld", "the account is disabled or gone"))
    notes = outbox.items(db, m.id or 0)
    if notes and notes[0].reason == "gate":
        return _deliver_gate(kb, m, notes[0], who)
    try:
        sub = subscriptions.get(db, m.subscription_id or 0)
    except NotFound:
        return finish(outbox.Outcome("withheld", "the subscription is gone"))
    if not sub.active:
        return finish(outbox.Outcome("withheld", "unsubscribed before it was sent"))
    docs = visible_documents(kb, who, [n.document_id for n in notes if n.document_id])
    if not docs:
        return finish(outbox.Outcome("withheld", "nothing in it the recipient may see now"))
    content = match_content(kb, sub, docs, digest=sub.rhythm != "now")
    delivered = tuple(d.id for d in docs)
    try:
        if m.channel == "email":
            if not settings.smtp_url:
                raise RuntimeError("KB_SMTP_URL is not set: no email can be sent")
            domain = settings.smtp_from.rpartition("@")[2] or "kb.local"
            email.send(
                settings.smtp_url,
                email.compose(content, to=sub.address, sender=settings.smtp_from, key=m.key, domain=domain),
            )
        elif m.channel == "webhook":
            event = "kb.digest" if sub.rhythm != "now" else "kb.match"
            webhook.post(
                sub.address,
                webhook.body(content, format=sub.format, key=m.key, event=event),
                secret=sub.secret,
                key=m.key,
                allowed=egress.Allowed.of(settings.webhook_allow_hosts),
                proxy=settings.webhook_proxy,
            )
    except egress.Refused as e:  # the address leads somewhere the server may not post: trying again changes nothing
        return finish(outbox.Outcome("failed", f"{type(e).__name__}: {e}", final=True))
    except Exception as e:  # any failure of the far end is recorded, retried, and shown to the owner
        return finish(outbox.Outcome("failed", f"{type(e).__name__}: {e}"))
    return finish(outbox.Outcome("sent", delivered=delivered))


def _deliver_gate(kb: KnowledgeBase, m: Message, note: Notification, who: Principal) -> str:
    """A stage gate: the phase's kickoff brief made as the member sees the store, saved for them, in their inbox.

    The brief is saved in the same transaction that marks the message sent, so
    a retry after a crash never saves a second one.
    """
    project_name, phase = str(note.payload.get("project", "")), str(note.payload.get("phase", ""))
    try:
        project = projects.get(kb.store.db, project_name)
    except NotFound:
        return _finish_gate(kb, m, outbox.Outcome("withheld", "the project left the register"))
    description = project.description or f"{project.name} {phase}"
    request = BriefRequest(description=description, phase=phase)
    made = make_brief(kb, caller=Caller(who, "cli", "notify"), request=request, audited=False)
    # saved in the member's name (a reader's too: the brief is theirs to read); it shows what they may see
    saver = who if who.allows(Role.contributor) else Principal(who.login, Role.contributor, who.groups, "notify")
    with kb.store.transaction():
        row = saved_briefs.save(kb.store, made, project=project.name, read=[], by=saver)
        delivered = tuple(i.document.id for i in made.items())
        return _finish_gate(kb, m, outbox.Outcome("sent", delivered=delivered, brief_id=row.id))


def _finish_gate(kb: KnowledgeBase, m: Message, outcome: outbox.Outcome) -> str:
    return outbox.finish(
        kb.store.db, m, outcome, now=utcnow(), worker=m.claimed_by, max_attempts=kb.settings.notify_max_attempts
    )


def visible_documents(kb: KnowledgeBase, who: Principal, doc_ids: Sequence[str]) -> list[Document]:
    """The published documents of ``doc_ids`` that ``who`` may see now, in the given order."""
    found = {d.id: d for d in kb.store.get_many(list(dict.fromkeys(doc_ids)))}
    return [
        d
        for i in dict.fromkeys(doc_ids)
        if (d := found.get(i)) is not None and d.status is Status.published and who.can_see(d.groups)
    ]


def unsubscribe_url(kb: KnowledgeBase, sub: Subscription) -> str:
    base = kb.settings.public_url.rstrip("/")
    return f"{base}/unsubscribe/{sub.id}?token={subscriptions.unsubscribe_token(sub)}"


def match_content(kb: KnowledgeBase, sub: Subscription, docs: Sequence[Document], *, digest: bool) -> Content:
    lang = sub.language
    what = describe(sub.topic, sub.target, sub.query, lang)
    subject = word("subject_digest" if digest else "subject_match", lang, n=len(docs), what=what)
    return Content(
        subject=subject,
        intro=word("intro_match", lang, what=what),
        items=items_of(docs, kb.settings.public_url),
        language=lang,
        unsubscribe=unsubscribe_url(kb, sub),
        footer=word("footer", lang),
        extra={"subscription": str(sub.id)},
    )


def run(kb: KnowledgeBase, *, now: dt.datetime | None = None) -> Report:
    """One pass, as cron's ``kb notify run`` and the server's scheduler do it: planned phases entered, new
    documents matched, what is due sent."""
    from app.projects import enter_due_phases  # the stage gates use this module's outbox; no import cycle at load

    report = Report()
    report.phases = enter_due_phases(kb, today=(now or utcnow()).date(), now=now)
    report.queued = match(kb, now=now)
    report.outcomes = deliver(kb, now=now)
    return report


# -- what a signed-in reader sees ----------------------------------------------------------------------------


@dataclass
class InboxEntry:
    message: Message
    subject: str
    items: list[Item]
    link: str = ""


def inbox(kb: KnowledgeBase, *, caller: Caller, limit: int = 100) -> list[InboxEntry]:
    """The caller's inbox, each entry with the documents they may see now (a restricted one is left out)."""
    who = caller.principal
    entries: list[InboxEntry] = []
    lang_of = {s.id: s for s in subscriptions.of_owner(kb.store.db, who.login)}
    for m in outbox.inbox(kb.store.db, who.login, limit=limit):
        docs = visible_documents(kb, who, m.delivered)
        sub = lang_of.get(m.subscription_id or -1)
        if m.brief_id is not None:
            subject = f"#{m.brief_id}"
            note = outbox.items(kb.store.db, m.id or 0)
            if note:
                subject = word("subject_gate", "ja" if sub is None else sub.language, **_gate_words(note[0]))
            entries.append(InboxEntry(m, subject, items_of(docs, ""), f"/briefs/{m.brief_id}"))
        elif sub is not None:
            what = describe(sub.topic, sub.target, sub.query, sub.language)
            entries.append(InboxEntry(m, what, items_of(docs, "")))
    return entries


def _gate_words(note: Notification) -> dict[str, str]:
    return {"project": str(note.payload.get("project", "")), "phase": str(note.payload.get("phase", ""))}


def unread(kb: KnowledgeBase, *, caller: Caller) -> int:
    """Unread inbox entries (the number in the header); 0 for an anonymous caller."""
    login = caller.principal.login
    return outbox.unread(kb.store.db, login) if login and caller.principal.authenticated else 0


def open_entry(kb: KnowledgeBase, *, caller: Caller, message_id: int) -> str:
    """Mark an inbox entry read and say where it leads: its brief, or its first document the caller may see."""
    m = outbox.message(kb.store.db, message_id)
    if m is None or m.recipient != caller.principal.login or m.channel != "inbox":
        raise NotFound(f"no inbox entry {message_id}")
    outbox.mark_read(kb.store.db, message_id, now=utcnow())
    if m.brief_id is not None:
        return f"/briefs/{m.brief_id}"
    docs = visible_documents(kb, caller.principal, m.delivered)
    return f"/documents/{docs[0].id}" if docs else "/inbox"


def feed(kb: KnowledgeBase, *, token: str) -> bytes:
    """The Atom feed at a subscription's secret URL, with what its owner may see now (no login: the URL is
    the key). A disabled owner's feed is gone."""
    sub = subscriptions.by_feed_token(kb.store.db, token)
    who = principal(kb, sub.owner)
    if who is None or not sub.active:
        raise NotFound("no such feed")
    notes = outbox.feed_entries(kb.store.db, sub.id or 0)
    docs = {d.id: d for d in visible_documents(kb, who, [n.document_id for n in notes if n.document_id])}
    base = kb.settings.public_url.rstrip("/")
    entries = [
        atom.Entry(
            id=f"urn:kb:notification:{n.key}",
            title=d.title,
            url=f"{base}/documents/{d.id}",
            summary=summary_of(d),
            updated=_aware(n.created_at),
        )
        for n in notes
        if (d := docs.get(n.document_id or "")) is not None
    ]
    updated = max((e.updated for e in entries), default=_aware(sub.created_at))
    return atom.feed(
        feed_id=f"urn:kb:subscription:{sub.id}",
        title=describe(sub.topic, sub.target, sub.query, sub.language),
        self_url=f"{base}/feeds/{token}.atom",
        entries=entries,
        updated=updated,
    )


def numbers(kb: KnowledgeBase) -> outbox.Numbers:
    """Subscriptions per topic, delivery failures, lessons' reach: the PMO dashboard's push panel."""
    return outbox.numbers(kb.store.db)


def push_panel(kb: KnowledgeBase) -> tuple[outbox.Numbers, dict[str, str], dict[str, str]]:
    """The dashboard's push panel: the numbers, the titles of the lessons in its reach table, and the display
    names of the recipients of failed deliveries (by login, as the library names owners)."""
    found = numbers(kb)
    titles = {d.id: d.title for d in kb.store.get_many([doc_id for doc_id, _ in found.reach])}
    return found, titles, kb.accounts.display_names(m.recipient for m in found.failures)
