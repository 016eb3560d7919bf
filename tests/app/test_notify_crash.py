"""A sender killed with SIGKILL mid-batch loses nothing; restarted, it delivers every message, each once by key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import Session, select

from app import documents, notify, subscriptions
from app.caller import Caller
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.identity.access import CLI, Principal
from kb.record.models import Role
from kb.record.notifications import Message
from tests.conftest import HashingEmbedder
from tests.receivers import webhook_receiver

SENDER = """
import sys
from app import notify
from kb.config import Settings
from kb.engine import KnowledgeBase
from tests.conftest import HashingEmbedder
settings = Settings(data_dir=sys.argv[1], notify_lease_seconds=1.0, webhook_allow_hosts="127.0.0.1")
kb = KnowledgeBase.open(settings, embedder=HashingEmbedder())
print(dict(notify.deliver(kb, batch=5)), flush=True)
kb.close()
"""
USERS = 24


def _sender(data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([sys.executable, "-c", SENDER, str(data_dir)], env=env, stdout=subprocess.PIPE, text=True)


def test_sigkill_mid_batch_then_restart_delivers_every_message_exactly_once_by_key(tmp_path: Path) -> None:
    # the receiver listens on 127.0.0.1: allowed as a company would allow its chat relay
    settings = Settings(data_dir=tmp_path / "data", notify_lease_seconds=1.0, webhook_allow_hosts="127.0.0.1")
    kb = KnowledgeBase.open(settings, embedder=HashingEmbedder())
    with webhook_receiver() as hook:
        hook.delay = 0.15
        for n in range(USERS):
            login = f"user{n}"
            kb.accounts.add_user(login, role=Role.contributor)
            caller = Caller(Principal(login, Role.contributor, frozenset(), "session"), "web")
            for channel in ("webhook", "inbox"):
                address = hook.url if channel == "webhook" else ""
                subscriptions.subscribe(kb, caller=caller, topic="kind", target="lesson", channel=channel,
                                        address=address)  # fmt: skip
        documents.create(
            kb, caller=Caller.local(CLI), fields={"kind": "lesson", "title": "Vendor lock-in", "body": "x"}
        )
        kb.catch_up()
        assert notify.match(kb) == 2 * USERS
        kb.close()

        first = _sender(settings.data_dir)
        deadline = time.monotonic() + 60
        while len(hook.received) < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert first.stdout is not None
        first.stdout.close()
        assert 0 < len(hook.received) < USERS, "killed mid-batch"

        time.sleep(1.2)  # the killed sender's lease runs out
        second = _sender(settings.data_dir)
        out, _ = second.communicate(timeout=120)
        assert second.returncode == 0, out

        kb = KnowledgeBase.open(settings, embedder=HashingEmbedder())
        with Session(kb.store.engine) as session:
            messages = list(session.exec(select(Message)))
        kb.close()
        assert len(messages) == 2 * USERS and {m.state for m in messages} == {"sent"}
        webhook_keys = {m.key for m in messages if m.channel == "webhook"}
        received = [h.headers["x-kb-idempotency-key"] for h in hook.received]
        assert set(received) == webhook_keys  # nothing lost
        # at most the one post in flight when the process died arrives twice, with the same key, for the receiver
        # to drop; inbox messages are written with their "sent" mark: exactly once
        assert len(received) - len(set(received)) <= 1
