"""Two replicas on one PostgreSQL match and send at the same time: every notification is queued once and every
message delivered once (``FOR UPDATE`` on the matcher's cursor, ``FOR UPDATE SKIP LOCKED`` on the outbox)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app import documents, subscriptions
from app.caller import Caller
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.identity.access import CLI, Principal
from kb.record.models import Role
from kb.record.notifications import Message, Notification
from tests.conftest import HashingEmbedder
from tests.receivers import webhook_receiver

REPLICA = """
import sys
from app import notify
from kb.config import Settings
from kb.engine import KnowledgeBase
from tests.conftest import HashingEmbedder
settings = Settings(data_dir=sys.argv[1], database_url=sys.argv[2], webhook_allow_hosts="127.0.0.1")
kb = KnowledgeBase.open(settings, embedder=HashingEmbedder())
kb.catch_up()
print(notify.run(kb).summary(), flush=True)
kb.close()
"""
USERS = 20


@pytest.mark.postgres
def test_two_replicas_on_one_postgresql_deliver_each_notification_once(postgres_url: str, tmp_path: Path) -> None:
    # the receiver listens on 127.0.0.1: allowed as a company would allow its chat relay
    settings = Settings(data_dir=tmp_path / "a", database_url=postgres_url, webhook_allow_hosts="127.0.0.1")
    kb = KnowledgeBase.open(settings, embedder=HashingEmbedder())
    with kb.store.engine.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE chunk, document, source, change, subscription, notification, message, deliveryattempt, "
                '"user" RESTART IDENTITY CASCADE'
            )
        )
        conn.execute(text("UPDATE notifycursor SET seq = 0"))
    with webhook_receiver() as hook:
        hook.delay = 0.05
        for n in range(USERS):
            login = f"user{n}"
            kb.accounts.add_user(login, role=Role.contributor)
            caller = Caller(Principal(login, Role.contributor, frozenset(), "session"), "web")
            subscriptions.subscribe(kb, caller=caller, topic="kind", target="lesson", channel="webhook",
                                    address=hook.url)  # fmt: skip
        documents.create(
            kb, caller=Caller.local(CLI), fields={"kind": "lesson", "title": "Vendor lock-in", "body": "x"}
        )
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        replicas = [
            subprocess.Popen([sys.executable, "-c", REPLICA, str(tmp_path / name), postgres_url], env=env,
                             stdout=subprocess.PIPE, text=True)
            for name in ("r1", "r2")
        ]  # fmt: skip
        outputs = [r.communicate(timeout=180)[0] for r in replicas]
        assert all(r.returncode == 0 for r in replicas), outputs
        with Session(kb.store.engine) as session:
            notes = list(session.exec(select(Notification)))
            messages = list(session.exec(select(Message)))
        kb.close()
        assert len(notes) == USERS and len(messages) == USERS
        assert {m.state for m in messages} == {"sent"}
        keys = [h.headers["x-kb-idempotency-key"] for h in hook.received]
        assert len(keys) == USERS and set(keys) == {m.key for m in messages}
