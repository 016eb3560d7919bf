"""The web UI in a real headless Chromium (Debian's, driven by Playwright), on the demo with the real model.

Screenshots of every page land in ``test-artifacts/`` for a human to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.record.models import Role
from tests.web.conftest import load_demo, serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
PASSWORD = "browser test password"
USERS = {"admin": Role.pmo_admin, "tanaka": Role.contributor, "yamada": Role.reader}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("browser") / "data")
    load_demo(settings)
    kb = KnowledgeBase.open(settings)
    kb.catch_up()
    for login, role in USERS.items():
        kb.accounts.add_user(login, role=role, password=PASSWORD)
    kb.close()
    yield from serving(settings)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed (apt-get install chromium); `make test` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def log_in(page: object, server: str, login: str, then: str = "/") -> None:
    """Log in through the login page, as a person would; the browser lands on ``then``."""
    page.goto(server + then)  # type: ignore[attr-defined]
    page.wait_for_selector("form.login")  # type: ignore[attr-defined]  # sent there: not logged in
    page.fill("input[name=login]", login)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("#login-submit")  # type: ignore[attr-defined]
    page.wait_for_selector("#who")  # type: ignore[attr-defined]


@pytest.fixture
def anonymous_page(browser: object) -> Iterator[object]:
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    yield page
    assert dialogs == [], f"a script from content ran: {dialogs}"
    context.close()


@pytest.fixture
def page(anonymous_page: object, server: str) -> Iterator[object]:
    """A browser logged in as the PMO admin."""
    log_in(anonymous_page, server, "admin")
    yield anonymous_page


def test_log_in_search_submit_a_retrospective_and_be_refused_insights_as_a_reader(
    server: str, anonymous_page: object
) -> None:
    page = anonymous_page
    page.goto(server + "/?q=vendor")  # type: ignore[attr-defined]
    assert "/login?next=" in page.url  # type: ignore[attr-defined]
    page.fill("input[name=login]", "tanaka")  # type: ignore[attr-defined]
    page.fill("input[name=password]", "wrong password!!")  # type: ignore[attr-defined]
    page.click("#login-submit")  # type: ignore[attr-defined]
    page.wait_for_selector("#login-error")  # type: ignore[attr-defined]
    shot(page, "login-failed-ja")
    page.fill("input[name=login]", "tanaka")  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("#login-submit")  # type: ignore[attr-defined]
    page.wait_for_selector(".hit")  # type: ignore[attr-defined]  # back on the search it asked for
    assert "tanaka" in page.inner_text("#who")  # type: ignore[attr-defined]
    assert page.locator("a[href='/insights']").count() == 0  # type: ignore[attr-defined]
    page.goto(server + "/retrospectives/new")  # type: ignore[attr-defined]
    page.fill("input[name=title]", "Warehouse cut-over retrospective")  # type: ignore[attr-defined]
    page.fill("textarea[name=lesson] >> nth=0", "Freeze stock movements a full day before the cut-over")  # type: ignore[attr-defined]
    page.click("button[value=save]")  # type: ignore[attr-defined]
    page.wait_for_selector("article.document")  # type: ignore[attr-defined]
    page.goto(server + "/?q=freeze+stock+movements+cut-over")  # type: ignore[attr-defined]
    titles = page.locator(".hit-title").all_inner_texts()  # type: ignore[attr-defined]
    assert "Freeze stock movements a full day before the cut-over" in titles[:3]
    page.click("#logout")  # type: ignore[attr-defined]
    page.wait_for_selector("form.login")  # type: ignore[attr-defined]
    log_in(page, server, "yamada")
    shot(page, "home-reader-ja")
    response = page.goto(server + "/insights")  # type: ignore[attr-defined]
    assert response.status == 403  # type: ignore[union-attr]
    assert page.locator("section.error").count() == 1  # type: ignore[attr-defined]
    shot(page, "insights-refused-reader-ja")
    response = page.goto(server + "/retrospectives/new")  # type: ignore[attr-defined]
    assert response.status == 403  # type: ignore[union-attr]


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_search_in_japanese_and_open_a_result(server: str, page: object) -> None:
    page.goto(server + "/")  # type: ignore[attr-defined]
    shot(page, "home-ja")
    page.fill("input[name=q]", "ベンダー選定 遅延")  # type: ignore[attr-defined]
    page.press("input[name=q]", "Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(".hit")  # type: ignore[attr-defined]
    # language-fair: the best vendor selection lesson comes first, in whichever language it was written
    first = page.inner_text(".hit-title >> nth=0").lower()  # type: ignore[attr-defined]
    assert "ベンダ" in first or "vendor selection" in first
    assert page.locator("mark").count() > 0  # type: ignore[attr-defined]
    page.click("details.why >> nth=0")  # type: ignore[attr-defined]
    reasons = page.inner_text("details.why >> nth=0 >> .reasons")  # type: ignore[attr-defined]
    # in Japanese words: no engine text (labels, stems, scores), whatever the hit's language
    assert "一致" in reasons and not re.search(r"(?i)\b(match|matched|translation|meaning|score|rank)\b", reasons)
    shot(page, "search-ja")
    page.click(".hit-title >> nth=0")  # type: ignore[attr-defined]
    page.wait_for_selector("article.document")  # type: ignore[attr-defined]
    assert page.locator(".block-reco, .markdown").count() > 0  # type: ignore[attr-defined]
    shot(page, "document-ja")


def test_search_in_english_after_switching_language(server: str, page: object) -> None:
    page.goto(server + "/")  # type: ignore[attr-defined]
    page.click("#lang-en")  # type: ignore[attr-defined]
    page.wait_for_selector("html[lang=en]")  # type: ignore[attr-defined]
    page.fill("input[name=q]", "vendor selection delays")  # type: ignore[attr-defined]
    page.press("input[name=q]", "Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(".hit")  # type: ignore[attr-defined]
    assert "Search" in page.inner_text("header nav")  # type: ignore[attr-defined]
    shot(page, "search-en")
    page.click(".facets li a >> nth=0")  # type: ignore[attr-defined]
    page.wait_for_selector(".facets li.on")  # type: ignore[attr-defined]
    for path, name in (("/library", "library-en"), ("/faq", "faq-en"), ("/insights", "insights-en")):
        page.goto(server + path)  # type: ignore[attr-defined]
        shot(page, name)
    page.click("#lang-ja")  # type: ignore[attr-defined]
    page.wait_for_selector("html[lang=ja]")  # type: ignore[attr-defined]
    shot(page, "insights-ja")


def test_submit_a_retrospective_and_find_its_lesson(server: str, page: object) -> None:
    page.goto(server + "/retrospectives/new")  # type: ignore[attr-defined]
    page.fill("input[name=title]", "在庫システム刷新 振り返り")  # type: ignore[attr-defined]
    page.fill("input[name=project]", "在庫システム刷新")  # type: ignore[attr-defined]
    page.fill("textarea[name=went_wrong]", "棚卸データの移行リハーサルが一度しかできなかった")  # type: ignore[attr-defined]
    page.fill("textarea[name=driving_event] >> nth=0", "移行本番で棚卸差異が大量に出た")  # type: ignore[attr-defined]
    page.fill("textarea[name=lesson] >> nth=0", "棚卸データ移行のリハーサルは最低二回行う")  # type: ignore[attr-defined]
    page.fill("textarea[name=recommendation] >> nth=0", "移行計画にリハーサル二回分の期間を確保する")  # type: ignore[attr-defined]
    page.click("#add-lesson")  # type: ignore[attr-defined]
    assert page.locator("fieldset.lesson").count() == 4  # type: ignore[attr-defined]
    shot(page, "retrospective-form-ja")
    page.click("button[value=save]")  # type: ignore[attr-defined]
    page.wait_for_selector("article.document")  # type: ignore[attr-defined]
    shot(page, "retrospective-saved-ja")
    page.goto(server + "/?q=" + "棚卸 移行 リハーサル")  # type: ignore[attr-defined]
    page.wait_for_selector(".hit")  # type: ignore[attr-defined]
    titles = page.locator(".hit-title").all_inner_texts()  # type: ignore[attr-defined]
    assert "棚卸データ移行のリハーサルは最低二回行う" in titles[:3]


def test_upload_a_file_and_see_its_result(server: str, page: object, tmp_path: Path) -> None:
    good = tmp_path / "release-checklist.md"
    good.write_text(
        "---\nkind: template\ntitle: Release go/no-go checklist\nlang: en\n---\n\n- [ ] Rollback tested\n",
        encoding="utf-8",
    )
    bad = tmp_path / "broken.md"
    bad.write_text("---\ntitle: [oops\n---\nbody", encoding="utf-8")
    page.goto(server + "/upload")  # type: ignore[attr-defined]
    page.set_input_files("input[type=file]", [str(good), str(bad)])  # type: ignore[attr-defined]
    page.click("form.form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("table.upload-results")  # type: ignore[attr-defined]
    assert page.locator("tr.file-added").count() == 1  # type: ignore[attr-defined]
    assert "not valid YAML" in page.inner_text("tr.file-failed")  # type: ignore[attr-defined]
    shot(page, "upload-ja")
    page.goto(server + "/?q=go%2Fno-go+rollback")  # type: ignore[attr-defined]
    assert "Release go/no-go checklist" in page.locator(".hit-title").all_inner_texts()  # type: ignore[attr-defined]


def test_script_in_a_title_body_filename_or_query_never_runs(server: str, page: object, tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.md"
    hostile.write_text(
        f"---\nkind: lesson\ntitle: 'Hostile {XSS}'\n---\n\n## Lesson\n\nBody {XSS} zzhostile\n", encoding="utf-8"
    )
    page.goto(server + "/upload")  # type: ignore[attr-defined]
    page.set_input_files(
        "input[type=file]",
        [  # type: ignore[attr-defined]
            {"name": "hostile.md", "mimeType": "text/markdown", "buffer": hostile.read_bytes()},
            {"name": f"{XSS}.md", "mimeType": "text/markdown", "buffer": b"not front matter"},
        ],
    )
    page.click("form.form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("table.upload-results")  # type: ignore[attr-defined]
    page.goto(server + "/?q=zzhostile")  # type: ignore[attr-defined]
    page.wait_for_selector(".hit")  # type: ignore[attr-defined]
    page.click(".hit-title >> nth=0")  # type: ignore[attr-defined]
    page.wait_for_selector("article.document")  # type: ignore[attr-defined]
    assert XSS in page.inner_text("h1")  # type: ignore[attr-defined]  # shown as text
    page.goto(server + "/?q=" + XSS)  # type: ignore[attr-defined]
    page.goto(server + "/insights")  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0  # type: ignore[attr-defined]


def test_make_a_kickoff_brief_tick_items_save_it_and_export_it(server: str, anonymous_page: object) -> None:
    page = anonymous_page
    log_in(page, server, "tanaka", then="/brief")
    page.fill(  # type: ignore[attr-defined]
        "textarea[name=description]",
        "販売管理システムを刷新する。パッケージ製品を選ぶため、複数のベンダーから提案を受けて選定する。",
    )
    page.fill("input[name=phase]", "企画")  # type: ignore[attr-defined]
    page.click("#make-brief")  # type: ignore[attr-defined]
    page.wait_for_selector("#brief-result")  # type: ignore[attr-defined]
    first_lesson = page.inner_text("#brief-lesson .brief-title >> nth=0")  # type: ignore[attr-defined]
    assert ("ベンダ" in first_lesson and "選定" in first_lesson) or "vendor selection" in first_lesson.lower()
    procedures = page.locator("#brief-procedure .brief-title").all_inner_texts()[:2]  # type: ignore[attr-defined]
    assert set(procedures) == {"ベンダー選定手順書", "Vendor selection procedure"}
    assert page.locator(".recurring-badge").count() > 0  # type: ignore[attr-defined]
    shot(page, "brief-ja")
    page.check("#brief-lesson input[name=read] >> nth=0")  # type: ignore[attr-defined]
    page.check("#brief-procedure input[name=read] >> nth=0")  # type: ignore[attr-defined]
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.click("#brief-markdown")  # type: ignore[attr-defined]
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert markdown.count("- [x]") == 2 and f"[x] [{procedures[0]}]" in markdown
    page.fill("#brief-project", "販売管理システム刷新")  # type: ignore[attr-defined]
    page.click("#save-brief")  # type: ignore[attr-defined]
    page.wait_for_selector("#read-count")  # type: ignore[attr-defined]
    assert page.inner_text("#read-count").startswith("2 / ")  # type: ignore[attr-defined]
    shot(page, "brief-saved-ja")
    page.goto(server + "/briefs")  # type: ignore[attr-defined]
    assert "販売管理システム刷新" in page.inner_text("main")  # type: ignore[attr-defined]


def test_dashboard_charts_render_in_both_languages(server: str, page: object) -> None:
    page.goto(server + "/?q=ベンダー選定")  # type: ignore[attr-defined]
    page.goto(server + "/?q=ぴよぴよ語彙&language=fr")  # type: ignore[attr-defined]  # no French documents: nothing
    for lang, caption in (("ja", "種類ごとの文書数"), ("en", "Current documents by kind")):
        page.goto(server + f"/lang/{lang}?next=/dashboard")  # type: ignore[attr-defined]
        page.wait_for_selector("#chart-coverage svg")  # type: ignore[attr-defined]
        assert caption in page.inner_text("#chart-coverage figcaption")  # type: ignore[attr-defined]
        assert page.locator("#chart-coverage rect").count() == 5  # type: ignore[attr-defined]
        assert page.locator("#chart-searches rect").count() == 36  # type: ignore[attr-defined]  # 12 weeks × 3 series
        assert page.locator("#table-recurring tbody tr").count() >= 1  # type: ignore[attr-defined]
        box = page.locator("#chart-searches svg").bounding_box()  # type: ignore[attr-defined]
        assert box and box["width"] > 300 and box["height"] > 100
        shot(page, f"dashboard-{lang}")
    page.click("a.write-faq >> nth=0")  # type: ignore[attr-defined]
    page.wait_for_selector("form.faq-form")  # type: ignore[attr-defined]
    assert page.input_value("input[name=question]")  # type: ignore[attr-defined]


def test_versions_diff_and_a_lesson_that_recurs(server: str, page: object) -> None:
    page.goto(server + "/library?all=1")  # type: ignore[attr-defined]
    page.click("text=週次ステータスレポート テンプレート（第1版）")  # type: ignore[attr-defined]
    page.wait_for_selector("#current-version")  # type: ignore[attr-defined]
    assert "第2版" in page.inner_text("#current-version")  # type: ignore[attr-defined]
    page.click("a.diff-link >> nth=0")  # type: ignore[attr-defined]
    page.wait_for_selector("div.diff ins")  # type: ignore[attr-defined]
    shot(page, "version-diff-ja")
    page.goto(server + "/?q=ベンダ選定の長期化を防ぐには決裁ルートを先に確定する&kind=lesson")  # type: ignore[attr-defined]
    page.click(".hit-title >> nth=0")  # type: ignore[attr-defined]
    page.wait_for_selector("article.document")  # type: ignore[attr-defined]
    for _ in range(30):  # the clusters are computed in the background after start-up
        if page.locator("#recurring").count():  # type: ignore[attr-defined]
            break
        page.wait_for_timeout(1000)  # type: ignore[attr-defined]
        page.reload()  # type: ignore[attr-defined]
    assert "CRM Migration" in page.inner_text("#recurring")  # type: ignore[attr-defined]
    assert page.inner_text("#action-status")  # type: ignore[attr-defined]
    shot(page, "lesson-recurring-ja")
