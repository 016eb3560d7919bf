"""Every page in both languages: no UI text from the other language's catalog, no missing key.

The catalog is swapped for one whose every text carries its language
(``⟪ja⟫…``): a Japanese page showing ``⟪en⟫`` got English UI text (a key
with no Japanese, or code translating into the wrong language). A key the
catalog lacks is recorded as the page asks for it. The app's GET routes are
walked, so a page added later is checked too; a route with a path parameter
needs a sample below, and the test says so when it has none.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import web.i18n
from kb.errors import InvalidInput
from kb.identity.access import Principal, require
from kb.notify.egress import Allowed, resolve
from kb.record.models import Role
from tests.web.conftest import add_user, bearer, csrf_of
from tests.web.test_authz import app_routes
from web.error_words import error_text
from web.i18n import LANGUAGES, MESSAGES

NOT_PAGES = ("/api", "/static", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz", "/metrics", "/lang/")
# not pages of their own: an inbox item marks itself read and redirects to its document; an unsubscribe link
# answers only with its signature (tests/web/test_subscriptions.py renders both, in both languages)
NOT_PAGES += ("/inbox/{message_id}", "/unsubscribe/")
NOT_HTML = ("/original", "/docx", ".csv", "/markdown", ".atom")
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


class Recording(dict[str, dict[str, str]]):
    """The catalog, each text marked with its language; keys asked for but missing are kept in ``missing``."""

    def __init__(self, messages: dict[str, dict[str, str]]) -> None:
        super().__init__({k: {lang: f"⟪{lang}⟫{text}" for lang, text in v.items()} for k, v in messages.items()})
        self.missing: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.missing.add(key)
        return super().get(key, default)


@pytest.fixture
def marked(monkeypatch: pytest.MonkeyPatch) -> Recording:
    catalog = Recording(MESSAGES)
    monkeypatch.setattr(web.i18n, "MESSAGES", catalog)
    return catalog


def _samples(client: TestClient) -> dict[str, list[str]]:
    """Values for each path parameter: one document of every kind, a saved brief, two versions to compare."""
    docs = client.get("/api/search", params={"q": "週次ステータスレポート", "kind": "template"}).json()["hits"]
    versions = [
        next(h["id"] for h in docs if "第2版" in h["title"]),
        next(h["id"] for h in docs if "第1版" in h["title"]),
    ]
    ids = [versions[0]]
    for kind, q in (("lesson", "ベンダー"), ("faq", "予算"), ("retrospective", "振り返り"), ("procedure", "手順")):
        ids.append(client.get("/api/search", params={"q": q, "kind": kind}).json()["hits"][0]["id"])
    form = {"csrf": csrf_of(client, "/brief"), "description": "ベンダー選定", "project": "販売管理刷新"}
    saved = client.post("/brief/save", data=form, follow_redirects=False)
    brief = saved.headers["location"].rsplit("/", 1)[1]
    login = client.get("/api/me").json()["login"]
    invited = client.post("/api/users", json={"login": "invited", "role": "reader", "credential": "invitation"})
    secret = invited.json()["invitation"]
    return {"doc_id": ids, "brief_id": [brief], "against": versions[1:], "login": [login], "secret": [secret]}


def _pages(client: TestClient) -> Iterator[str]:
    samples = _samples(client)
    for method, path, _ in app_routes(client.app):  # type: ignore[arg-type]
        if method != "GET" or path.startswith(NOT_PAGES) or path.endswith(NOT_HTML):
            continue
        names = re.findall(r"\{(\w+)\}", path)
        for name in names:
            assert name in samples, f"{path}: add a sample {name} to test_localisation.py"
        if not names:
            yield path
            continue
        if path.endswith("/diff"):  # two versions of one template
            yield path.replace("{doc_id}", samples["doc_id"][0]) + f"?against={samples['against'][0]}"
            continue
        for value in samples[names[0]]:
            yield path.replace("{" + names[0] + "}", value)
    yield from ("/?q=ベンダー選定", "/?q=zzzqqqxxx", "/faq?q=予算", "/library?all=1", "/audit?action=brief_save")
    yield "/no-such-page"  # the 404 page


def test_every_page_speaks_one_language_and_every_key_exists(client: TestClient, marked: Recording) -> None:
    client.post("/retrospectives", data={"csrf": csrf_of(client, "/retrospectives/new"), "title": "x", "lesson": "y"})
    pages = list(_pages(client))
    assert len(pages) >= 20
    for page in pages:
        for lang in LANGUAGES:
            other = next(x for x in LANGUAGES if x != lang)
            r = client.get(page, headers={"accept-language": lang})
            assert r.status_code == (404 if page == "/no-such-page" else 200), (page, r.status_code)
            assert f"⟪{lang}⟫" in r.text, page
            leaked = re.findall(f"⟪{other}⟫[^<⟪]{{0,40}}", r.text)
            assert not leaked, (page, lang, leaked[:3])
    assert marked.missing == set()


def test_a_reader_refused_gets_guidance_in_words_in_both_languages(client: TestClient) -> None:
    reader = add_user(client, "yamada", Role.reader)
    for lang, words in (
        ("ja", "PMO 管理者に「投稿者」の権限を依頼"),
        ("en", "Ask your PMO admin for the contributor role"),
    ):
        r = client.get("/upload", headers={**bearer(reader), "accept-language": lang})
        assert r.status_code == 403 and words in r.text and "contributor role; you are" not in r.text


def test_the_error_patterns_match_the_messages_really_raised() -> None:
    with pytest.raises(Exception) as refused:
        require(Principal("yamada", Role.reader, via="session"), Role.contributor)
    text = error_text(403, str(refused.value), "ja")
    assert text.message.startswith("この操作には「投稿者」の権限が必要です") and not text.details


def test_the_webhook_refusals_read_in_words_in_both_languages() -> None:
    """kb.notify.egress's three refusals, raised for real, each in the reader's language with nothing left over."""

    def missing(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    raised = []
    for url, resolver in (
        ("http://[::ffff:10.0.0.1]/x", None),
        ("http://nowhere.invalid/x", missing),
        ("ftp://x/", None),
    ):
        with pytest.raises(InvalidInput) as refused:
            resolve(url, Allowed.of([]), resolver=resolver)
        raised.append(str(refused.value))
    for lang, expected in (
        ("ja", ["(プライベート)", "ホスト nowhere.invalid が見つかりません", "http:// または https://"]),
        ("en", ["(private)", "its host nowhere.invalid was not found", "starting with http:// or https://"]),
    ):
        for message, words in zip(raised, expected, strict=True):
            text = error_text(422, message, lang)
            assert words in text.message and not text.details, (lang, message)


BOTH_ON_PURPOSE = {"search_placeholder"}  # the example query shows that either language finds the other


def test_the_catalog_has_both_languages_and_no_japanese_in_english() -> None:
    for key, texts in MESSAGES.items():
        assert set(texts) == set(LANGUAGES), key
        assert key in BOTH_ON_PURPOSE or not JAPANESE.search(texts["en"]), (key, texts["en"])


def test_audit_log_reads_in_words_with_a_pick_list_and_local_times(client: TestClient) -> None:
    form = {"csrf": csrf_of(client, "/brief"), "description": "ベンダー選定", "project": "販売管理刷新"}
    client.post("/brief/save", data=form)
    for lang, action, via in (
        ("ja", "ブリーフを保存", "API トークンで"),
        ("en", "Saved a kickoff brief", "with an API token"),
    ):
        html = client.get("/audit", headers={"accept-language": lang}).text
        assert f"<td>{action}</td>" in html and via in html
        assert f'<option value="brief_save">{action}</option>' in html
        assert "brief_save</td>" not in html and "via=" not in html and "items=" not in html
    only = client.get("/audit", params={"action": "brief_save"}).text
    assert only.count('class="audit-') == 1 and "selected>ブリーフを保存" in only


ROOT = Path(__file__).resolve().parents[2]


def _audit_actions_in_code() -> dict[str, str]:
    """Every action code the code can write to the audit log, with where: the literal in an ``audit(kb, caller,
    action, …)`` or ``….audit.record(who, action, …)`` call, or the literals assigned to the variable passed there."""
    found: dict[str, str] = {}
    for path in [p for room in ("app", "kb", "web", "cli", "ingest") for p in (ROOT / room).rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            for call in [n for n in ast.walk(function) if isinstance(n, ast.Call)]:
                f = call.func
                if isinstance(f, ast.Name) and f.id == "audit" and len(call.args) > 2:
                    arg = call.args[2]
                elif isinstance(f, ast.Attribute) and f.attr == "record" and "audit" in ast.unparse(f.value):
                    arg = call.args[1]
                else:
                    continue
                values: list[ast.AST] = [arg]
                if isinstance(arg, ast.Name):  # action = "group_update" if … else "group_add"
                    values = [a.value for a in ast.walk(function) if isinstance(a, ast.Assign)
                              and any(isinstance(t, ast.Name) and t.id == arg.id for t in a.targets)]  # fmt: skip
                for value in values:
                    for c in ast.walk(value):
                        if (
                            isinstance(c, ast.Constant)
                            and isinstance(c.value, str)
                            and re.fullmatch(r"[a-z_]+", c.value)
                        ):
                            found[c.value] = f"{path.relative_to(ROOT)}:{call.lineno}"
    return found


def test_every_audit_action_the_code_records_has_words() -> None:
    """The audit page once showed ``subscribe`` and ``project_phase`` as codes: no action is without words."""
    actions = _audit_actions_in_code()
    assert {"subscribe", "revise", "group_add", "logout", "create"} <= set(actions)  # the scan sees every form
    missing = {a: where for a, where in actions.items() if f"audit_action_{a}" not in MESSAGES}
    assert not missing


def test_audit_details_of_a_subscription_and_feedback_read_in_words(client: TestClient) -> None:
    client.post("/api/subscriptions", json={"topic": "search", "query": "ベンダー選定", "channel": "inbox"})
    hit = client.get("/api/search", params={"q": "ベンダー選定"}).json()["hits"][0]
    client.post("/api/feedback", json={"query": "ベンダー選定", "document_id": hit["id"], "helpful": True})
    for lang, words, codes in (
        ("ja", ("購読を開始", "対象: 保存した検索", "通知方法: 受信箱", "頻度: すぐに", "結果を評価", "評価: 役に立った"),
         ("topic:", "channel:", "rhythm:", "verdict:", "True", "False")),
        ("en", ("Subscribed", "topic: Saved search", "channel: Inbox", "how often: At once", "Rated a result"),
         ("channel: inbox", "rhythm: now", "True", "False")),
    ):  # fmt: skip
        html = client.get("/audit", headers={"accept-language": lang}).text
        details = " ".join(re.findall(r'<td class="details">(.*?)</td>', html, flags=re.S))
        actions = re.findall(
            r'<tr class="audit-[a-z_]+">\s*<td class="when">[^<]*</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>', html
        )
        assert all(w in details or w in actions for w in words), (lang, actions, details)
        assert not any(c in details for c in codes), (lang, details)
        assert "subscribe" not in actions and "feedback" not in actions
