"""HTML pages through the in-process client: both languages, forms with CSRF, hostile input escaped."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kb.config import Settings
from kb.record.models import Role
from tests.conftest import HashingEmbedder
from tests.web.conftest import add_user, bearer, csrf_of, load_demo
from web.app import create_app

PAGES = [
    "/",
    "/?q=ベンダー選定",
    "/?q=vendor+selection&kind=lesson",
    "/library",
    "/faq",
    "/faq?q=予算",
    "/retrospectives/new",
    "/upload",
    "/insights",
    "/brief",
    "/briefs",
    "/reviews",
    "/dashboard",
    "/faq/new?question=予算",
    "/library?all=1",
]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_in_japanese_and_english(client: TestClient, url: str) -> None:
    ja = client.get(url, headers={"accept-language": "ja,en;q=0.5"})
    en = client.get(url, headers={"accept-language": "en-US,en;q=0.9,ja;q=0.3"})
    assert ja.status_code == en.status_code == 200
    assert '<html lang="ja">' in ja.text and "PMO ナレッジベース" in ja.text
    assert '<html lang="en">' in en.text and "PMO Knowledge Base" in en.text
    assert "script-src 'self'" in ja.headers["content-security-policy"]


def test_every_page_credits_the_dictionary_behind_cross_language_search(client: TestClient) -> None:
    for language, words in (
        ("ja", "電子辞書研究開発グループ"),
        ("en", "Electronic Dictionary Research and Development Group"),
    ):
        page = client.get("/", headers={"accept-language": language}).text
        assert words in page and "JMdict" in page and "CC BY-SA 4.0" in page
        assert 'href="https://www.edrdg.org/edrdg/licence.html"' in page


def test_language_switch_sets_a_cookie_and_redirects_only_locally(client: TestClient) -> None:
    r = client.get("/lang/en", params={"next": "/library"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/library"
    assert client.get("/library", headers={"accept-language": "ja"}).text.count('lang="en"') == 1
    for evil in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        assert client.get("/lang/ja", params={"next": evil}, follow_redirects=False).headers["location"] == "/"


def test_search_page_shows_hits_facets_and_explanations(client: TestClient) -> None:
    html = client.get("/", params={"q": "ベンダー選定 遅延"}).text
    assert 'class="hit"' in html and "<mark>" in html and 'class="facets"' in html
    assert "キーワード" in html or "Keyword" in html


def test_a_search_without_results_says_so_and_is_recorded(client: TestClient) -> None:
    html = client.get("/", params={"q": "ぴよぴよ語彙", "kind": "template"}).text
    assert "ぴよぴよ語彙" in html and 'class="no-results"' in html
    assert "絞り込みをすべて解除" in html or "Clear all filters" in html
    client.app.state.kb.search_log.flush()  # type: ignore[attr-defined]  # searches are written in batches
    report = client.app.state.kb.analytics.report()  # type: ignore[attr-defined]
    assert ("ぴよぴよ語彙", 1) in report.zero_result_queries
    assert "ぴよぴよ語彙" in client.get("/insights").text


def test_document_page_shows_lesson_blocks_and_related(client: TestClient) -> None:
    hits = client.get("/api/search", params={"q": "ベンダー選定", "kind": "lesson"}).json()["hits"]
    html = client.get(f"/documents/{hits[0]['id']}").text
    assert 'class="block block-event"' in html and 'class="block block-reco"' in html
    assert "関連する文書" in html or "Related documents" in html


def test_a_tag_on_a_document_page_never_breaks_inside_a_word(client: TestClient) -> None:
    """At 1366 px the side column folded the tag 意思決定 into 意 / 思決定: a tag is one unbreakable chip."""
    hits = client.get("/api/search", params={"q": "ベンダー選定", "kind": "lesson"}).json()["hits"]
    html = client.get(f"/documents/{hits[0]['id']}").text
    assert '<a class="tag" href=' in html
    rule = re.search(r"^\.tag \{([^}]*)\}", client.get("/static/app.css").text, flags=re.M)
    assert rule and "white-space: nowrap" in rule.group(1) and "display: inline-block" in rule.group(1)


def test_forms_need_the_csrf_token(client: TestClient) -> None:
    files = {"files": ("a.md", b"---\ntitle: A\nkind: lesson\n---\n\n## Lesson\n\ntext\n", "text/markdown")}
    assert client.post("/upload", files=files).status_code == 403
    assert client.post("/upload", files=files, data={"csrf": "forged"}).status_code == 403
    token = csrf_of(client)
    r = client.post("/upload", files=files, data={"csrf": token})
    assert r.status_code == 200 and 'class="file-added"' in r.text


def test_retrospective_form_saves_and_splits_lessons(client: TestClient) -> None:
    token = csrf_of(client, "/retrospectives/new")
    r = client.post(
        "/retrospectives",
        data={
            "csrf": token,
            "title": "ペンギン導入 振り返り",
            "project": "ペンギン",
            "lesson_title": ["", ""],
            "driving_event": ["氷の調達が遅れた", ""],
            "lesson": ["氷の調達先は二社確保する", ""],
            "recommendation": ["調達計画に予備業者を入れる", ""],
            "action": "save",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "ペンギン導入 振り返り" in page and "氷の調達先は二社確保する" in page
    hits = client.get("/api/search", params={"q": "氷の調達", "kind": "lesson"}).json()["hits"]
    assert hits and hits[0]["title"] == "氷の調達先は二社確保する"


def test_retrospective_form_without_lessons_shows_errors_and_keeps_input(client: TestClient) -> None:
    token = csrf_of(client, "/retrospectives/new")
    r = client.post("/retrospectives", data={"csrf": token, "title": "残る入力", "lesson": [""], "action": "save"})
    assert r.status_code == 422 and 'class="errors"' in r.text and 'value="残る入力"' in r.text
    more = client.post("/retrospectives", data={"csrf": token, "title": "t", "lesson": ["a", "b"], "action": "add"})
    assert more.text.count('<fieldset class="lesson">') == 3


XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


def test_hostile_text_is_escaped_everywhere(client: TestClient) -> None:
    doc = client.post(
        "/api/documents",
        json={
            "kind": "lesson",
            "title": f"Title {XSS}",
            "tags": [XSS],
            "body": f"Body {XSS}\n\n[click](javascript:alert(1))\n\n<iframe src=x></iframe>",
        },
    ).json()
    page = client.get(f"/documents/{doc['id']}").text
    results = client.get("/", params={"q": f"Title {XSS}"}).text
    for html in (page, results):
        assert "<script>alert" not in html and "<img src=x" not in html and "<iframe" not in html
        assert "&lt;script&gt;" in html
    assert 'href="javascript:' not in page


def test_empty_knowledge_base_offers_the_demo(empty_client: TestClient) -> None:
    html = empty_client.get("/").text
    assert 'action="/demo"' in html
    token = csrf_of(empty_client, "/")
    r = empty_client.post("/demo", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert empty_client.get("/api/stats").json()["documents"]["lesson"] > 10
    assert empty_client.get("/api/search", params={"q": "ベンダー"}).json()["hits"]


def test_errors_render_as_pages(client: TestClient) -> None:
    r = client.get("/documents/does-not-exist")
    assert r.status_code == 404 and "文書 does-not-exist は見つかりませんでした" in r.text and "<html" in r.text
    r = client.get("/documents/does-not-exist", headers={"accept-language": "en"})
    assert "There is no document does-not-exist" in r.text


def test_template_page_lists_its_versions(client: TestClient) -> None:
    hits = client.get("/api/search", params={"q": "週次ステータスレポート", "kind": "template"}).json()["hits"]
    newest = next(h for h in hits if "第2版" in h["title"])
    page = client.get(f"/documents/{newest['id']}").text
    assert 'class="versions"' in page and "<strong>2.0</strong>" in page and ">1.0</a>" in page


def test_why_this_result_shows_a_dense_score_outside_the_dense_top_k(web_settings: Settings) -> None:
    # A floor no cosine reaches leaves the dense leg with no ranked hit; the lexical hits
    # still carry their dense cosine, and the explanation says it was not ranked.
    settings = web_settings.model_copy(update={"min_dense_score": 1.01, "anonymous_role": "reader"})
    load_demo(settings)
    with TestClient(create_app(settings, embedder=HashingEmbedder())) as client:
        client.headers.update(bearer(add_user(client, "admin", Role.pmo_admin)))  # the scores are for admins
        en = client.get("/", params={"q": "vendor"}, headers={"accept-language": "en"}).text
        ja = client.get("/", params={"q": "ベンダー"}, headers={"accept-language": "ja"}).text
    assert "outside its top 100 · score" in en
    assert "上位100件の外" in ja


@pytest.mark.parametrize("name", ["lang", "language"])  # ``language``: the page's old name, in bookmarks
def test_the_search_page_filters_by_language_as_lang_like_the_api(client: TestClient, name: str) -> None:
    """One name for the language filter in the API, the pages and the CLI; the old page name still works."""
    query = {"q": "ベンダー選定 vendor selection"}
    everything = client.get("/api/search", params={**query, "limit": 100}).json()["hits"]
    assert {h["language"] for h in everything} == {"ja", "en"}
    html = client.get("/", params={**query, name: "en"}).text
    english = client.get("/api/search", params={**query, "lang": "en", "limit": 100}).json()["hits"]
    japanese_titles = {h["title"] for h in everything if h["language"] == "ja"}
    assert english and all(html.count(f">{h['title']}<") for h in english[:3])
    assert not any(f">{title}<" in html for title in japanese_titles)
    # the page's links and form carry the filter on as ``lang``
    assert '<input type="hidden" name="lang" value="en">' in html and 'name="language"' not in html
    assert re.search(r'href="/\?q=[^"]*&amp;lang=en&amp;kind=\w+"', html)  # another facet's link keeps it
