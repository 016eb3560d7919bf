"""Subscriptions, inbox, feeds, unsubscribe and projects through the pages and the API."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from kb.config import Settings
from kb.record.models import Role
from kb.record.notifications import Message
from tests.web.conftest import add_user, bearer, csrf_of
from web.display import local_time, zone_of


@pytest.fixture
def web_settings(web_settings: Settings) -> Settings:
    """No scheduler: each test runs the pass itself, so nothing races it."""
    return web_settings.model_copy(update={"notify_seconds": 0})


def _pass(client: TestClient) -> None:
    from app import notify

    kb = client.app.state.kb  # type: ignore[attr-defined]
    kb.catch_up()
    notify.run(kb)


def test_subscribe_from_a_search_then_a_matching_lesson_reaches_the_inbox(client: TestClient) -> None:
    token = add_user(client, "pm", Role.contributor)
    pm = bearer(token)
    page = client.get("/?q=vendor+selection+delays", headers=pm).text
    assert 'id="subscribe-search"' in page and 'id="inbox-count">0<' in page
    response = client.post(
        "/api/subscriptions", headers=pm, json={"topic": "search", "query": "vendor selection delays"}
    )
    assert response.status_code == 201
    doc = client.post("/api/documents", json={"kind": "lesson", "title": "Vendor selection delays the schedule",
                                              "body": "Vendor selection delays the schedule"}).json()  # fmt: skip
    _pass(client)
    assert 'id="inbox-count">1<' in client.get("/", headers=pm).text
    inbox = client.get("/api/inbox", headers=pm).json()
    assert [i["id"] for i in inbox[0]["items"]] == [doc["id"]]
    opened = client.get(f"/inbox/{inbox[0]['id']}", headers=pm, follow_redirects=False)
    assert opened.headers["location"] == f"/documents/{doc['id']}"
    assert 'id="inbox-count">0<' in client.get("/", headers=pm).text
    # someone else's entry is not theirs to open
    other = bearer(add_user(client, "other", Role.reader))
    assert client.get(f"/inbox/{inbox[0]['id']}", headers=other, follow_redirects=False).status_code == 404


def test_a_feed_lists_matches_at_its_secret_url_and_only_what_its_owner_may_see(client: TestClient) -> None:
    pm = bearer(add_user(client, "pm", Role.contributor))
    feed_url = client.post("/api/subscriptions", headers=pm, json={"topic": "kind", "target": "lesson",
                                                                  "channel": "feed"}).json()["feed_url"]  # fmt: skip
    path = "/" + feed_url.split("/", 3)[3]
    client.post("/api/documents", json={"kind": "lesson", "title": "Open lesson", "body": "x"})
    client.post("/api/documents", json={"kind": "lesson", "title": "Board lesson", "body": "y", "groups": ["board"]})
    _pass(client)
    anonymous = TestClient(client.app)
    response = anonymous.get(path)
    assert response.headers["content-type"].startswith("application/atom+xml")
    titles = [e.text for e in ET.fromstring(response.content).iter("{http://www.w3.org/2005/Atom}title")]
    assert "Open lesson" in titles and "Board lesson" not in titles
    assert anonymous.get(path.replace(".atom", "x.atom")).status_code == 404


def test_the_unsubscribe_link_works_without_logging_in(client: TestClient) -> None:
    pm = bearer(add_user(client, "pm", Role.contributor))
    sub = client.post("/api/subscriptions", headers=pm, json={"topic": "tag", "target": "vendor"}).json()
    kb = client.app.state.kb  # type: ignore[attr-defined]
    from app import notify
    from kb.notify import subscriptions

    link = notify.unsubscribe_url(kb, subscriptions.get(kb.store.db, sub["id"]))
    path = "/" + link.split("/", 3)[3]
    anonymous = TestClient(client.app)
    assert "unsubscribe" in anonymous.get(path).text
    assert anonymous.post(path.replace("token=", "token=x")).status_code == 403
    done = anonymous.post(path)
    assert done.status_code == 200 and 'id="unsubscribed"' in done.text
    assert [s["active"] for s in client.get("/api/subscriptions", headers=pm).json()] == [False]


def test_a_pm_tool_moves_a_project_through_the_api(client: TestClient) -> None:
    pm = bearer(add_user(client, "pm", Role.contributor))
    add_user(client, "dev", Role.reader)
    csrf = csrf_of(client, "/projects")
    client.post("/projects", data={"csrf": csrf, "name": "基幹刷新", "members": "dev", "pm": "pm",
                                   "description": "本番移行 リハーサル", "planned": "移行=2026-04-01"})  # fmt: skip
    assert client.post("/api/projects/基幹刷新/phase", headers=bearer(add_user(client, "x", Role.contributor)),
                       json={"phase": "移行"}).status_code == 403  # fmt: skip
    moved = client.post("/api/projects/基幹刷新/phase", headers=pm, json={"phase": "移行"})
    assert moved.status_code == 200 and moved.json()["phase"] == "移行"
    _pass(client)
    dev = bearer(client.app.state.kb.accounts.create_token("dev", "t").secret)  # type: ignore[attr-defined]
    inbox = client.get("/api/inbox", headers=dev).json()
    assert len(inbox) == 1 and re.match(r"/briefs/\d+", inbox[0]["link"])
    assert "基幹刷新" in client.get("/projects", headers=dev).text


def test_pages_render_in_both_languages(client: TestClient) -> None:
    pm = bearer(add_user(client, "pm", Role.contributor))
    client.post("/api/subscriptions", headers=pm, json={"topic": "search", "query": "ベンダー選定"})
    for lang, word in (("ja", "購読"), ("en", "Subscriptions")):
        client.cookies.set("kb_lang", lang)
        for path in ("/subscriptions", "/inbox", "/projects"):
            page = client.get(path, headers=pm)
            assert page.status_code == 200 and word in page.text, path
    client.cookies.clear()


def test_the_dashboard_shows_subscriptions_per_topic_and_reach(client: TestClient) -> None:
    pm = bearer(add_user(client, "pm", Role.contributor))
    client.post("/api/subscriptions", headers=pm, json={"topic": "kind", "target": "lesson"})
    client.post("/api/documents", json={"kind": "lesson", "title": "Reached lesson", "body": "x"})
    _pass(client)
    page = client.get("/dashboard").text
    assert 'id="section-push"' in page and "Reached lesson" in page and "lesson" in page


def test_a_webhook_to_an_internal_address_is_refused_in_the_readers_language(client: TestClient) -> None:
    """The form says which address and why, in Japanese or English; the API gives the same refusal as JSON."""
    for lang, words in (
        ("ja", "Webhook の宛先 http://169.254.169.254/latest/meta-data/ には送信できません。169.254.169.254 は"
               "公開されていない内部向けのアドレス (リンクローカル) です。"),
        ("en", "The webhook address http://169.254.169.254/latest/meta-data/ is not allowed: it leads to "
               "169.254.169.254, a non-public address (link-local)."),
    ):  # fmt: skip
        form = {"csrf": csrf_of(client, "/subscriptions"), "topic": "kind", "query": "lesson", "channel": "webhook",
                "address": "http://169.254.169.254/latest/meta-data/"}  # fmt: skip
        page = client.post("/subscriptions", data=form, headers={"accept-language": lang}, follow_redirects=False)
        assert page.status_code == 422 and words in page.text and "KB_WEBHOOK_ALLOW_HOSTS" in page.text
        assert "/subscriptions" not in page.text.split('<section class="error">')[1]  # no Referer: no way back
        sent_from = {"accept-language": lang, "referer": "http://testserver/subscriptions?topic=kind"}
        page = client.post("/subscriptions", data=form, headers=sent_from, follow_redirects=False)
        assert (
            '<a href="/subscriptions?topic=kind">' + ("入力画面に戻る" if lang == "ja" else "Back to the form")
            in page.text
        )
        elsewhere = {"accept-language": lang, "referer": "https://evil.example/subscriptions"}
        page = client.post("/subscriptions", data=form, headers=elsewhere, follow_redirects=False)
        assert (
            "evil.example" not in page.text
            and ("入力画面に戻る" if lang == "ja" else "Back to the form") not in page.text
        )
    api = client.post("/api/subscriptions", json={"topic": "kind", "target": "lesson", "channel": "webhook",
                                                  "address": "http://127.0.0.1:8000/hook"})  # fmt: skip
    assert api.status_code == 422
    assert api.json()["message"].startswith(
        "the webhook address http://127.0.0.1:8000/hook is not allowed: it leads to"
    )
    assert client.get("/api/subscriptions").json() == []


def test_an_internal_webhook_is_accepted_once_the_admin_allows_it(client: TestClient) -> None:
    client.app.state.kb.settings.webhook_allow_hosts = ["10.20.0.0/16"]  # type: ignore[attr-defined]
    form = {"csrf": csrf_of(client, "/subscriptions"), "topic": "kind", "query": "lesson", "channel": "webhook",
            "address": "http://10.20.0.5/teams-relay"}  # fmt: skip
    assert (
        client.post("/subscriptions", data=form, follow_redirects=False).headers["location"] == "/subscriptions?saved=1"
    )
    assert [s["channel"] for s in client.get("/api/subscriptions").json()] == ["webhook"]


@pytest.mark.parametrize(
    ("lang", "words"),
    [("ja", ["種類: <strong>教訓</strong>", "種類: FAQ", "言語: 日本語", "JSON (汎用)"]),
     ("en", ["Kind: <strong>Lesson</strong>", "Kind: FAQ", "Language: Japanese", "JSON (generic)"])],
)  # fmt: skip
def test_the_subscriptions_page_names_kinds_filters_and_formats_in_words(
    client: TestClient, lang: str, words: list[str]
) -> None:
    pm = bearer(add_user(client, "pm", Role.contributor))
    client.post("/api/subscriptions", headers=pm, json={"topic": "kind", "target": "lesson"})
    client.post("/api/subscriptions", headers=pm, json={"topic": "search", "query": "cutover",
                                                        "filters": {"kinds": ["faq"], "languages": ["ja"]}})  # fmt: skip
    page = client.get("/subscriptions", headers={**pm, "accept-language": lang}).text
    for w in words:
        assert w in page
    assert "kinds:" not in page and ">lesson<" not in page and ">json<" not in page


def test_the_inbox_and_subscriptions_tell_times_in_the_configured_zone(client: TestClient) -> None:
    """They once printed UTC without saying so, nine hours off the audit log's JST beside them."""
    token = add_user(client, "pm", Role.contributor)
    pm = bearer(token)
    client.post("/api/subscriptions", headers=pm, json={"topic": "search", "query": "vendor selection delays"})
    client.post("/api/documents", json={"kind": "lesson", "title": "Vendor selection delays the schedule",
                                        "body": "Vendor selection delays the schedule"})  # fmt: skip
    _pass(client)
    kb = client.app.state.kb  # type: ignore[attr-defined]
    zone = zone_of(client.app.state.settings.timezone)  # type: ignore[attr-defined]
    with kb.store.db.reading() as session:
        sent = session.exec(select(Message.sent_at).where(col(Message.sent_at).is_not(None))).one()
    assert f"<small>{local_time(sent, zone)}</small>" in client.get("/inbox", headers=pm).text
    assert f" · {local_time(sent, zone)}" in client.get("/subscriptions", headers=pm).text
    created = kb.accounts.tokens("pm")[0][0].created_at
    assert f"<td>{local_time(created, zone, date_only=True)}</td>" in client.get("/account", headers=pm).text


def test_the_project_register_says_what_it_is_for_and_names_phases_in_words(client: TestClient) -> None:
    for lang, empty, heading in (
        ("ja", "フェーズを開始したときにメンバーへキックオフ・ブリーフが届き", "<h2>プロジェクトを登録・更新</h2>"),
        ("en", "its members get a kickoff brief when a phase starts", "<h2>Register or update a project</h2>"),
    ):
        page = client.get("/projects", headers={"accept-language": lang}).text
        assert empty in page and heading in page  # the form's heading once read 保存 (Save)
    csrf = csrf_of(client, "/projects")
    client.post("/projects", data={"csrf": csrf, "name": "Core renewal", "pm": "admin",
                                   "planned": "migration=2027-04-01"})  # fmt: skip
    client.post("/api/projects/Core renewal/phase", json={"phase": "requirements"})
    ja = client.get("/projects", headers={"accept-language": "ja"}).text
    assert "<td>要件定義<br>" in ja and "<div>移行: 2027-04-01</div>" in ja
    assert "requirements" not in ja and "migration" not in ja
    # the table's headings are short column names, not the form's hints (メンバー (ログイン名、カンマ区切り))
    head = re.search(r"<thead>(.*?)</thead>", ja, flags=re.S)
    assert head and "カンマ区切り" not in head.group(1) and "例:" not in head.group(1)
    assert 'placeholder="開始するフェーズ"' in ja
