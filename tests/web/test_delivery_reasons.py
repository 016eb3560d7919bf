"""Why a notification could not be delivered, in the reader's language, on the owner's page and the dashboard.

The failures are made to happen for real (a receiver answering 500, a port
nobody listens on, a receiver too slow to answer, no mail server configured),
so a reworded message in ``kb.notify`` or ``app.notify`` fails here instead of
silently showing English on the Japanese page. Failures only a real mail
server could produce are built from the exceptions ``smtplib`` raises.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from kb.config import Settings
from kb.notify import webhook
from kb.record.models import Role
from kb.record.notifications import Message, Subscription
from tests.receivers import Receiver, free_port, webhook_receiver
from tests.web.conftest import add_user, bearer
from web.error_words import delivery_reason

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
LEGACY = "Relay said no (a reason worded as no pattern knows)"
# what the owner reads per subscription address, in each language
EXPECTED = {
    "500": {
        "ja": "相手先のサーバーがエラーを返しました (HTTP 500)。",
        "en": "The server at the other end answered with an error (HTTP 500).",
    },
    "closed": {
        "ja": "相手先のサーバーが接続を拒否しました。",
        "en": "The server at the other end refused the connection.",
    },
    "slow": {
        "ja": "相手先のサーバーから時間内に応答がありませんでした。",
        "en": "The server at the other end did not answer in time.",
    },
    "email": {
        "ja": "このサーバーではメール送信が設定されていません。",
        "en": "This server is not set up to send email.",
    },
    "legacy": {"ja": LEGACY, "en": LEGACY},
}


@pytest.fixture
def web_settings(web_settings: Settings) -> Settings:
    """No scheduler (the test runs the pass), one try per message, the receivers on 127.0.0.1 allowed."""
    return web_settings.model_copy(
        update={"notify_seconds": 0, "notify_max_attempts": 1, "webhook_allow_hosts": ["127.0.0.1"], "smtp_url": ""}
    )


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Receiver, Receiver]]:
    monkeypatch.setattr(webhook, "TIMEOUT", 0.3)  # the slow receiver answers after a second
    with webhook_receiver() as broken, webhook_receiver() as slow:
        broken.status, slow.delay = 500, 1.0
        yield broken, slow


def _failed_deliveries(client: TestClient, broken: Receiver, slow: Receiver) -> str:
    """pm's subscriptions, each failing its own way; pm's bearer header. The legacy one's reason is rewritten
    as a row written before these words would read."""
    from app import notify

    kb = client.app.state.kb  # type: ignore[attr-defined]
    pm = bearer(add_user(client, "pm", Role.contributor))
    kb.accounts.update_user("pm", display_name="山本 PM", by="admin")
    addresses = {
        "500": broken.url,
        "closed": f"http://127.0.0.1:{free_port()}/hook",
        "slow": slow.url,
        "legacy": broken.url + "?legacy",
    }
    for name, address in addresses.items():
        body = {"topic": "kind", "target": "lesson", "channel": "webhook", "address": address}
        assert client.post("/api/subscriptions", headers=pm, json=body).status_code == 201, name
    body = {"topic": "kind", "target": "lesson", "channel": "email", "address": "pm@example.com"}
    assert client.post("/api/subscriptions", headers=pm, json=body).status_code == 201
    client.post("/api/documents", json={"kind": "lesson", "title": "Undelivered lesson", "body": "x"})
    kb.catch_up()
    assert notify.run(kb).outcomes == {"failed": 5}
    with kb.store.db.writing() as session:
        legacy = session.exec(
            select(Message).join(Subscription, Subscription.id == Message.subscription_id)  # type: ignore[arg-type]
            .where(Subscription.address == addresses["legacy"])
        ).one()  # fmt: skip
        legacy.last_error = LEGACY
        session.add(legacy)
    return pm


def _reasons(html: str) -> list[tuple[str, str]]:
    """(reason in words, technical detail) of each failure the page shows; detail "" when shown as stored."""
    found = []
    for block in html.split('class="failure-reason')[1:]:
        words = re.search(r">([^<]*)</span>", block)
        detail = re.match(r'[^"]*"[^<]*</span>\s*<details class="failure-detail"><summary>[^<]*</summary>'
                          r'<code class="wrap">([^<]*)</code>', block)  # fmt: skip
        assert words, block[:200]
        found.append((words.group(1), detail.group(1) if detail else ""))
    return found


def test_the_owner_and_the_pmo_read_why_delivery_failed_in_their_language(
    client: TestClient, failing: tuple[Receiver, Receiver]
) -> None:
    pm = _failed_deliveries(client, *failing)
    for lang in ("ja", "en"):
        client.cookies.set("kb_lang", lang)
        for page, headers in (("/subscriptions", pm), ("/dashboard", {})):
            html = client.get(page, headers=headers).text
            reasons = _reasons(html)
            assert len(reasons) == 5, (lang, page, reasons)
            shown = {words.replace("&#39;", "'") for words, _ in reasons}
            for name, texts in EXPECTED.items():
                assert any(s.startswith(texts[lang]) for s in shown), (lang, page, name, shown)
            for words, detail in reasons:
                if words == LEGACY:  # an unknown reason as stored, with no second copy under details
                    assert detail == ""
                    continue
                assert re.match(r"\w+: ", detail), detail  # the stored "<exception>: <message>", one click away
                assert bool(JAPANESE.search(words)) is (lang == "ja"), words
            if page == "/dashboard":  # the PMO reads whose deliveries failed by their display names
                assert html.count("<tr><td>山本 PM</td>") == 5 and "<tr><td>pm</td>" not in html
                kind = "教訓" if lang == "ja" else "Lesson"  # subscriptions per topic: the kind in words
                assert f'<td class="wrap">{kind}</td>' in html and '<td class="wrap">lesson</td>' not in html
            summary = "技術的な詳細" if lang == "ja" else "Technical details"
            assert html.count(f"<summary>{summary}</summary>") == 4, (lang, page)
    client.cookies.clear()


def _stored(e: BaseException) -> str:
    """The reason as app.notify stores it."""
    return f"{type(e).__name__}: {e}"


@pytest.mark.parametrize(
    ("error", "en"),
    [
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication failed"), "The mail server refused this server's login."),
        (smtplib.SMTPRecipientsRefused({"pm@example.com": (550, b"no such user")}), "The mail server refused the recipient's address."),
        (smtplib.SMTPSenderRefused(553, b"not ours", "kb@example.com"), "The mail server refused the sender's address."),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), "The server at the other end closed the connection"),
        (smtplib.SMTPConnectError(421, b"busy"), "The server at the other end could not be reached."),
        (smtplib.SMTPNotSupportedError("the SMTP server offers no STARTTLS: refusing to send the password"), "The mail server offers no encryption (STARTTLS)"),
        (ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "The certificate of the server at the other end could not be verified"),
        (OSError(101, "Network is unreachable"), "The server at the other end could not be reached."),
        (OSError("no address to connect to for hooks.example.com"), "The server at the other end could not be reached."),
    ],
)  # fmt: skip
def test_failures_a_mail_server_or_the_network_report_read_in_words(error: BaseException, en: str) -> None:
    stored = _stored(error)
    english, japanese = delivery_reason(stored, "en"), delivery_reason(stored, "ja")
    assert english.message.startswith(en) and english.stored == stored
    assert JAPANESE.search(japanese.message) and japanese.stored == stored


def test_an_egress_refusal_at_send_time_reads_as_the_subscribe_form_says_it() -> None:
    stored = (
        "Refused: the webhook address http://10.0.0.5/hook is not allowed: it leads to 10.0.0.5, a non-public "
        "address (private); the server's administrator can allow it in KB_WEBHOOK_ALLOW_HOSTS"
    )
    assert delivery_reason(stored, "ja").message.startswith(
        "Webhook の宛先 http://10.0.0.5/hook には送信できません。10.0.0.5 は公開されていない内部向けのアドレス (プライベート) です。"
    )
    unknown = "Unresolvable: the webhook address http://nowhere.invalid/ cannot be used: its host nowhere.invalid was not found"
    assert "ホスト nowhere.invalid が見つかりませんでした" in delivery_reason(unknown, "ja").message


@pytest.mark.parametrize("stored", ["", LEGACY, "ValueError: something no pattern knows", "RuntimeError: "])
def test_a_reason_no_pattern_knows_is_shown_as_stored(stored: str) -> None:
    assert delivery_reason(stored, "ja") == delivery_reason(stored, "en")
    assert delivery_reason(stored, "ja").message == "" and delivery_reason(stored, "ja").stored == stored
