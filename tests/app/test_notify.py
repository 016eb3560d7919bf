"""Push delivery end to end against a real SMTP server and a real webhook receiver."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import documents, notify, projects, subscriptions
from app.caller import Caller
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.errors import Forbidden, InvalidInput
from kb.identity.access import CLI, Principal
from kb.notify import egress, outbox
from kb.pmo import saved_briefs
from kb.record.models import Role
from tests.conftest import HashingEmbedder, migrated
from tests.receivers import Mailbox, Receiver, self_signed, smtp_server, webhook_receiver

ADMIN = Caller.local(CLI)
QUERY = "vendor selection delays"


@pytest.fixture
def mail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Mailbox]]:
    with smtp_server(tmp_path) as (url, box, cert):
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test server's certificate, as a CA would
        yield url, box


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def kb(settings: Settings, mail: tuple[str, Mailbox]) -> Iterator[KnowledgeBase]:
    # the webhook receiver listens on 127.0.0.1: allowed, as a company allows its chat relay on the LAN
    configured = settings.model_copy(
        update={"smtp_url": mail[0], "public_url": "http://kb.example", "min_dense_score": 0.5,
                "webhook_allow_hosts": ["127.0.0.1"]}
    )  # fmt: skip
    migrated(configured)
    base = KnowledgeBase.open(configured, embedder=HashingEmbedder())
    for login, role, groups in (("alice", Role.contributor, []), ("bob", Role.contributor, ["board"])):
        base.accounts.add_user(login, role=role, groups=groups)
    yield base
    base.close()


def caller(kb: KnowledgeBase, login: str) -> Caller:
    user = kb.accounts.user(login)
    return Caller(Principal(login, user.role, frozenset(user.groups), "session"), "web", "127.0.0.1")


def lesson(kb: KnowledgeBase, title: str, **extra: Any) -> str:
    fields = {"kind": "lesson", "title": title, "body": title, **extra}
    return documents.create(kb, caller=ADMIN, fields=fields).id


def follow(kb: KnowledgeBase, login: str, channel: str, address: str = "", **extra: Any) -> int:
    fields: dict[str, Any] = {"topic": "search", "query": QUERY, "channel": channel, "address": address, **extra}
    sub = subscriptions.subscribe(kb, caller=caller(kb, login), **fields)
    assert sub.id is not None
    return sub.id


def verify(secret: str, got: Any) -> bool:
    stamp = got.headers["x-kb-timestamp"]
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + got.body, hashlib.sha256).hexdigest()
    return bool(got.headers["x-kb-signature"] == f"sha256={expected}")


def test_a_matching_lesson_sends_one_email_and_one_signed_webhook_per_subscriber(
    kb: KnowledgeBase, mail: tuple[str, Mailbox], hook: Receiver
) -> None:
    box = mail[1]
    follow(kb, "alice", "email", "alice@example.com", language="en")
    web_id = follow(kb, "alice", "webhook", hook.url, format="slack")
    follow(kb, "bob", "email", "bob@example.com", language="ja")
    lesson(kb, "Cafeteria menu changes")  # matches nobody
    doc = lesson(kb, "Vendor selection delays the schedule")
    report = notify.run(kb)
    assert report.outcomes["sent"] == 3
    assert sorted(m["To"] for m in box.messages) == ["alice@example.com", "bob@example.com"]
    assert box.logins, "the sender logged in (after STARTTLS: the server refuses AUTH before it)"
    english = next(m for m in box.messages if m["To"] == "alice@example.com")
    text = english.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Vendor selection delays the schedule" in text and f"http://kb.example/documents/{doc}" in text
    assert "Cafeteria" not in text
    html = english.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Vendor selection delays the schedule" in html and "Unsubscribe" in html
    japanese = next(m for m in box.messages if m["To"] == "bob@example.com")
    assert "購読を解除する" in japanese.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert len(hook.received) == 1
    got = hook.received[0]
    secret = subscriptions.own(kb, caller=caller(kb, "alice"), subscription_id=web_id).secret
    assert verify(secret, got)
    assert "Vendor selection delays the schedule" in got.json()["text"] and "blocks" in got.json()
    assert english["Message-ID"].strip("<>").split("@")[0] != got.headers["x-kb-idempotency-key"]
    # a second pass sends nothing again
    assert notify.run(kb).outcomes == {}
    assert len(box.messages) == 2 and len(hook.received) == 1


def test_teams_and_plain_json_bodies(kb: KnowledgeBase, hook: Receiver) -> None:
    follow(kb, "alice", "webhook", hook.url, format="teams")
    follow(kb, "bob", "webhook", hook.url, format="json")
    lesson(kb, "Vendor selection delays the schedule")
    notify.run(kb)
    bodies = sorted((h.json() for h in hook.received), key=lambda b: "@type" in b)
    assert bodies[1]["@type"] == "MessageCard" and "Vendor selection" in str(bodies[1]["sections"])
    assert bodies[0]["event"] == "kb.match" and bodies[0]["items"][0]["title"].startswith("Vendor selection")


def test_a_restricted_lesson_never_reaches_an_outsider_by_any_channel(
    kb: KnowledgeBase, mail: tuple[str, Mailbox], hook: Receiver
) -> None:
    box = mail[1]
    for login in ("alice", "bob"):
        follow(kb, login, "email", f"{login}@example.com")
        follow(kb, login, "webhook", hook.url)
        follow(kb, login, "inbox")
    feed = subscriptions.subscribe(kb, caller=caller(kb, "alice"), topic="search", query=QUERY, channel="feed")
    kind = subscriptions.subscribe(kb, caller=caller(kb, "alice"), topic="kind", target="lesson", channel="inbox")
    secret_id = lesson(kb, "Vendor selection delays the board's merger", groups=["board"])
    notify.run(kb)
    assert [m["To"] for m in box.messages] == ["bob@example.com"]
    assert len(hook.received) == 1 and "merger" in hook.received[0].body.decode()
    assert notify.unread(kb, caller=caller(kb, "alice")) == 0
    assert notify.unread(kb, caller=caller(kb, "bob")) == 1
    assert b"merger" not in notify.feed(kb, token=feed.feed_token)
    assert kind.id is not None
    # restricted after it was queued: withheld at send time, even from a member of the old audience
    public_id = lesson(kb, "Vendor selection delays everyone")
    kb.catch_up()
    notify.match(kb)
    documents.update(kb, caller=ADMIN, doc_id=public_id,
                     fields={**documents.get(kb, caller=ADMIN, doc_id=public_id).model_dump(), "groups": ["board"]})  # fmt: skip
    notify.deliver(kb)
    everything = [m["To"] for m in box.messages] + [h.body.decode() for h in hook.received]
    assert "alice@example.com" not in everything and not any("everyone" in b and "alice" in b for b in everything)
    assert all(public_id not in str(e.items) for e in notify.inbox(kb, caller=caller(kb, "alice")))
    assert secret_id


def test_disabling_a_user_stops_their_deliveries_at_once(kb: KnowledgeBase, mail: tuple[str, Mailbox]) -> None:
    follow(kb, "alice", "email", "alice@example.com")
    lesson(kb, "Vendor selection delays the schedule")
    kb.catch_up()
    assert notify.match(kb) == 1  # queued while alice was active
    kb.accounts.update_user("alice", active=False)
    assert notify.deliver(kb) == {"withheld": 1}
    assert mail[1].messages == []


def test_a_weekly_digest_groups_the_weeks_matches_in_one_message(kb: KnowledgeBase, mail: tuple[str, Mailbox]) -> None:
    box = mail[1]
    follow(kb, "alice", "email", "alice@example.com", rhythm="weekly", language="en")
    monday = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    for day, title in enumerate(
        ("Vendor selection delays A", "Vendor selection delays B", "Vendor selection delays C")
    ):
        lesson(kb, title)
        kb.catch_up()
        notify.run(kb, now=monday + dt.timedelta(days=day))
    assert box.messages == []  # nothing before the week ends
    notify.run(kb, now=dt.datetime(2026, 3, 9, 0, 5, tzinfo=dt.UTC))
    assert len(box.messages) == 1
    text = box.bodies()[0]
    assert all(f"Vendor selection delays {x}" in text for x in "ABC")
    assert box.messages[0]["Subject"].startswith("Digest (3)")


def test_the_unsubscribe_link_stops_the_subscription_without_logging_in(
    kb: KnowledgeBase, mail: tuple[str, Mailbox]
) -> None:
    box = mail[1]
    sub_id = follow(kb, "alice", "email", "alice@example.com")
    lesson(kb, "Vendor selection delays the schedule")
    notify.run(kb)
    link = next(line for line in box.bodies()[0].splitlines() if "/unsubscribe/" in line).split(": ", 1)[1]
    assert box.messages[0]["List-Unsubscribe"] == f"<{link}>"
    token = link.split("token=")[1]
    with pytest.raises(Forbidden):
        forged = token[:-1] + ("1" if token.endswith("0") else "0")  # one character changed, whatever it was
        subscriptions.unsubscribe(kb, caller=ADMIN, subscription_id=sub_id, token=forged)
    subscriptions.unsubscribe(kb, caller=ADMIN, subscription_id=sub_id, token=token)
    lesson(kb, "Vendor selection delays the budget")
    notify.run(kb)
    assert len(box.messages) == 1


def test_a_failing_webhook_is_retried_with_backoff_then_given_up_with_the_reason(
    kb: KnowledgeBase, hook: Receiver
) -> None:
    kb.settings.notify_max_attempts = 3
    sub_id = follow(kb, "alice", "webhook", hook.url)
    hook.status = 500
    lesson(kb, "Vendor selection delays the schedule")
    start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    kb.catch_up()
    assert notify.run(kb, now=start).outcomes == {"pending": 1}
    assert notify.deliver(kb, now=start + dt.timedelta(seconds=10)) == {}  # backing off
    assert notify.deliver(kb, now=start + dt.timedelta(seconds=31)) == {"pending": 1}
    assert notify.deliver(kb, now=start + dt.timedelta(seconds=100)) == {"failed": 1}
    mine = subscriptions.mine(kb, caller=caller(kb, "alice"))
    assert [m.subscription.id for m in mine] == [sub_id]
    failed = mine[0].failed[0]
    assert failed.attempts == 3 and "HTTP 500" in failed.last_error
    assert [f.id for f in notify.numbers(kb).failures] == [failed.id]


def test_a_project_entering_migration_sends_its_members_the_migration_brief(kb: KnowledgeBase) -> None:
    lesson(kb, "移行リハーサルを2回実施しなかったため本番移行が遅延した", phase="移行")
    lesson(kb, "要件定義の遅れ", phase="要件定義")
    kb.catch_up()
    pm = caller(kb, "alice")
    projects.save(kb, caller=pm, name="基幹刷新", description="基幹システム刷新 データ移行 本番移行 リハーサル",
                  members=["bob"])  # fmt: skip
    projects.enter_phase(kb, caller=pm, name="基幹刷新", phase="移行")
    notify.run(kb)
    for login in ("alice", "bob"):
        entries = notify.inbox(kb, caller=caller(kb, login))
        assert len(entries) == 1 and "移行" in entries[0].subject
        brief_id = entries[0].message.brief_id
        assert brief_id is not None
        saved = saved_briefs.get(kb.store, brief_id, caller(kb, login).principal)
        assert saved.project == "基幹刷新" and saved.params["phase"] == "移行" and saved.created_by == login
        assert any("移行リハーサル" in i["title"] for i in saved.items)
        assert notify.open_entry(kb, caller=caller(kb, login), message_id=entries[0].message.id or 0) == (
            f"/briefs/{brief_id}"
        )
        assert notify.unread(kb, caller=caller(kb, login)) == 0
    # entering the same phase again tells nobody twice
    projects.enter_phase(kb, caller=pm, name="基幹刷新", phase="移行")
    notify.run(kb)
    assert len(notify.inbox(kb, caller=caller(kb, "bob"))) == 1
    assert notify.numbers(kb).reach


def test_a_planned_phase_is_entered_by_the_scheduler_on_its_day(kb: KnowledgeBase) -> None:
    pm = caller(kb, "alice")
    projects.save(kb, caller=pm, name="P1", description="データ移行", members=["bob"],
                  planned={"移行": "2026-04-01"})  # fmt: skip
    assert notify.run(kb, now=dt.datetime(2026, 3, 31, tzinfo=dt.UTC)).phases == []
    assert notify.run(kb, now=dt.datetime(2026, 4, 1, 1, tzinfo=dt.UTC)).phases == [("P1", "移行")]
    assert projects.get(kb, caller=pm, name="P1").phase == "移行"
    assert len(notify.inbox(kb, caller=caller(kb, "bob"))) == 1
    assert notify.run(kb, now=dt.datetime(2026, 4, 2, tzinfo=dt.UTC)).phases == []


def test_only_the_pm_or_the_pmo_moves_a_project(kb: KnowledgeBase) -> None:
    projects.save(kb, caller=caller(kb, "alice"), name="P2")
    with pytest.raises(Forbidden):
        projects.enter_phase(kb, caller=caller(kb, "bob"), name="P2", phase="移行")


def test_topics_match_by_vocabulary_and_documents_by_new_version(kb: KnowledgeBase) -> None:
    alice = caller(kb, "alice")
    subscriptions.subscribe(kb, caller=alice, topic="phase", target="test")
    subscriptions.subscribe(kb, caller=alice, topic="tag", target="vendor")
    template = documents.create(kb, caller=ADMIN, fields={"kind": "template", "title": "WBS template", "body": "x"})
    subscriptions.subscribe(kb, caller=alice, topic="document", target=template.id)
    lesson(kb, "Regression suite too late", phase="テスト")
    lesson(kb, "Contract review", tags=["Vendor"])
    lesson(kb, "Unrelated", phase="設計")
    documents.create(kb, caller=ADMIN, fields={"kind": "template", "title": "WBS template", "body": "v2",
                                              "supersedes": template.id, "version": "2"})  # fmt: skip
    notify.run(kb)
    titles = sorted(i.title for e in notify.inbox(kb, caller=alice) for i in e.items)
    assert titles == ["Contract review", "Regression suite too late", "WBS template"]


def test_the_matcher_cursor_never_matches_a_change_twice(kb: KnowledgeBase) -> None:
    follow(kb, "alice", "inbox")
    lesson(kb, "Vendor selection delays the schedule")
    kb.catch_up()
    start = outbox.cursor(kb.store.db)
    assert notify.match(kb) == 1
    assert outbox.cursor(kb.store.db) > start
    # a replica that read the same changes before the cursor moved writes nothing
    assert outbox.record(kb.store.db, expected=start, seq=kb.indexer.seq, notifications=[]) == 0
    assert notify.match(kb) == 0


# -- webhook addresses the server refuses to post to (kb.notify.egress) ----------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("http://127.0.0.1:8000/hook", "loopback"),
        ("http://10.0.0.8/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),  # the cloud metadata service
        ("http://localhost:8000/hook", "loopback"),  # a name, resolved (to 127.0.0.1 or ::1)
    ],
)
def test_a_webhook_to_an_internal_address_is_refused_when_subscribing(
    kb: KnowledgeBase, address: str, kind: str
) -> None:
    kb.settings.webhook_allow_hosts = []
    with pytest.raises(InvalidInput) as refused:
        follow(kb, "alice", "webhook", address)
    assert refused.value.status == 422
    assert refused.value.message.startswith(f"the webhook address {address} is not allowed: it leads to ")
    assert f", a non-public address ({kind})" in refused.value.message
    assert subscriptions.mine(kb, caller=caller(kb, "alice")) == []  # nothing stored


def test_a_webhook_to_an_internal_address_is_accepted_when_the_admin_allows_it(kb: KnowledgeBase) -> None:
    kb.settings.webhook_allow_hosts = ["10.0.0.0/8", "localhost"]
    follow(kb, "alice", "webhook", "http://10.0.0.8/hook")
    follow(kb, "alice", "webhook", "http://localhost:8000/hook")
    assert [m.subscription.address for m in subscriptions.mine(kb, caller=caller(kb, "alice"))] == [
        "http://localhost:8000/hook",
        "http://10.0.0.8/hook",
    ]
    with pytest.raises(InvalidInput, match=r"169\.254\.169\.254"):  # what is not listed stays refused
        follow(kb, "alice", "webhook", "http://169.254.169.254/latest/meta-data/")


def test_a_delivery_to_an_address_refused_at_send_time_fails_at_once_with_the_reason(
    kb: KnowledgeBase, hook: Receiver
) -> None:
    sub_id = follow(kb, "alice", "webhook", hook.url)  # allowed when made …
    kb.settings.webhook_allow_hosts = []  # … and no more: the check at delivery is the one that counts
    lesson(kb, "Vendor selection delays the schedule")
    assert notify.run(kb).outcomes == {"failed": 1}  # not retried: refusing again would change nothing
    assert hook.received == []
    failed = subscriptions.mine(kb, caller=caller(kb, "alice"))[0].failed[0]
    assert failed.subscription_id == sub_id and failed.attempts == 1
    assert "is not allowed: it leads to 127.0.0.1, a non-public address (loopback)" in failed.last_error
    assert [f.id for f in notify.numbers(kb).failures] == [failed.id]  # on the PMO dashboard too
    assert notify.deliver(kb, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)) == {}


def test_a_name_that_resolves_inside_at_send_time_is_not_followed(
    kb: KnowledgeBase, hook: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: public when the subscription was made, the receiver's loopback when the message is sent."""
    port = hook.url.split(":")[2].split("/")[0]
    monkeypatch.setattr(egress, "lookup", lambda host, p: ["93.184.216.34"])
    kb.settings.webhook_allow_hosts = []
    follow(kb, "alice", "webhook", f"http://hooks.example.com:{port}/hook")
    monkeypatch.setattr(egress, "lookup", lambda host, p: ["127.0.0.1"])
    lesson(kb, "Vendor selection delays the schedule")
    assert notify.run(kb).outcomes == {"failed": 1}
    assert hook.received == []
    failed = subscriptions.mine(kb, caller=caller(kb, "alice"))[0].failed[0]
    assert "it leads to 127.0.0.1" in failed.last_error


def test_the_post_goes_to_the_checked_address_and_still_names_the_host(
    kb: KnowledgeBase, hook: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection uses the address that was checked; the request names the host as the URL does."""
    port = hook.url.split(":")[2].split("/")[0]
    monkeypatch.setattr(egress, "lookup", lambda host, p: ["127.0.0.1"])
    kb.settings.webhook_allow_hosts = ["chat-relay.corp.example"]
    follow(kb, "alice", "webhook", f"http://chat-relay.corp.example:{port}/hook")
    lesson(kb, "Vendor selection delays the schedule")
    assert notify.run(kb).outcomes == {"sent": 1}
    assert [r.headers["host"] for r in hook.received] == [f"chat-relay.corp.example:{port}"]


def test_https_is_verified_against_the_host_name_not_the_address_connected_to(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hook").mkdir()
    cert, key = self_signed(tmp_path / "hook")  # for localhost and 127.0.0.1 only
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    kb.settings.webhook_allow_hosts = ["localhost", "other.corp.example"]
    with webhook_receiver(tls=(cert, key)) as secure:
        port = secure.url.split(":")[2].split("/")[0]
        good = follow(kb, "alice", "webhook", f"https://localhost:{port}/hook")
        monkeypatch.setattr(egress, "lookup", lambda host, p: ["127.0.0.1"])
        bad = follow(kb, "bob", "webhook", f"https://other.corp.example:{port}/hook")  # same server, other name
        lesson(kb, "Vendor selection delays the schedule")
        assert notify.run(kb).outcomes == {"sent": 1, "pending": 1}
        secret = subscriptions.own(kb, caller=ADMIN, subscription_id=good).secret
        assert len(secure.received) == 1 and verify(secret, secure.received[0])
    retried = subscriptions.mine(kb, caller=caller(kb, "bob"))[0].messages[0]
    assert retried.subscription_id == bad and "CERTIFICATE_VERIFY_FAILED" in retried.last_error
