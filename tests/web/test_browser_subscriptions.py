"""In a real Chromium: subscribe from a search page, upload a matching lesson, watch the inbox count rise, open
the item; screenshots of the push pages in both languages go to test-artifacts/ (and /work/shots/wf when it
exists)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.record.models import Role
from tests.conftest import HashingEmbedder
from tests.web.conftest import serving
from tests.web.test_browser import ARTIFACTS, PASSWORD, browser, log_in

pytestmark = [pytest.mark.browser]
__all__ = ["browser"]
SHOTS = Path("/work/shots/wf")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The app with the hashing embedder and a scheduler that runs every half second."""
    settings = Settings(data_dir=tmp_path / "data", notify_seconds=0.5, follow_seconds=0.5, min_dense_score=0.5)
    kb = KnowledgeBase.open(settings, embedder=HashingEmbedder())
    kb.accounts.add_user("tanaka", role=Role.contributor, password=PASSWORD)
    kb.accounts.add_user("admin", role=Role.pmo_admin, password=PASSWORD)
    kb.close()
    yield from serving(settings, embedder=HashingEmbedder())


def shot(page: object, name: str) -> None:
    for folder in (ARTIFACTS, SHOTS):
        if folder is ARTIFACTS or folder.parent.exists():
            folder.mkdir(exist_ok=True)
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 1366, f"{name}: {width}px wide"


def test_subscribe_from_a_search_upload_a_match_and_open_it_from_the_inbox(
    server: str, browser: object, tmp_path: Path
) -> None:
    context = browser.new_context(locale="ja-JP", viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    log_in(page, server, "tanaka", then="/?q=vendor+selection+delays")
    assert page.inner_text("#inbox-count") == "0"
    page.select_option("#subscribe-search select[name=channel]", "inbox")
    page.click("#subscribe-search button")
    page.wait_for_selector("table.subscriptions")
    assert "vendor selection delays" in page.inner_text("table.subscriptions")
    shot(page, "subscriptions-ja")
    lesson = tmp_path / "vendor.md"
    lesson.write_text("---\nkind: lesson\ntitle: Vendor selection delays the schedule\nlang: en\n---\n\n"
                      "Vendor selection delays the schedule\n", encoding="utf-8")  # fmt: skip
    page.goto(server + "/upload")
    page.set_input_files("input[type=file]", [str(lesson)])
    page.click("form.form button[type=submit]")
    page.wait_for_selector("table.upload-results")
    deadline = time.monotonic() + 30
    while page.inner_text("#inbox-count") != "1" and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    assert page.inner_text("#inbox-count") == "1"
    page.click("#nav-inbox")
    page.wait_for_selector(".inbox-entry.unread")
    shot(page, "inbox-ja")
    page.click(".inbox-open")
    page.wait_for_selector("article.document")
    assert "Vendor selection delays the schedule" in page.inner_text("h1")
    assert page.inner_text("#inbox-count") == "0"
    shot(page, "document-subscribe-ja")
    page.goto(server + "/projects")
    page.fill("#project-form input[name=name]", "基幹刷新")
    page.fill("#project-form input[name=members]", "tanaka")
    page.fill("#project-form textarea[name=planned]", "移行=2027-04-01")
    page.click("#project-form button")
    page.wait_for_selector("table.projects")
    shot(page, "projects-ja")
    page.click("#lang-en")
    page.wait_for_selector("html[lang=en]")
    shot(page, "projects-en")
    for path, name in (("/subscriptions", "subscriptions-en"), ("/inbox", "inbox-en")):
        page.goto(server + path)
        shot(page, name)
    context.close()
    admin = browser.new_context(locale="ja-JP", viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
    page = admin.new_page()
    log_in(page, server, "admin", then="/dashboard")
    page.wait_for_selector("#section-push")
    page.locator("#section-push").screenshot(path=str(ARTIFACTS / "dashboard-push-ja.png"))
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        page.locator("#section-push").screenshot(path=str(SHOTS / "dashboard-push-ja.png"))
        page.click("#lang-en")
        page.wait_for_selector("#section-push")
        page.locator("#section-push").screenshot(path=str(SHOTS / "dashboard-push-en.png"))
    admin.close()


def test_a_webhook_to_the_metadata_address_is_refused_on_the_page_in_both_languages(
    server: str, browser: object
) -> None:
    """The form's refusal names the address and why, in the page's language; screenshots of both."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    log_in(page, server, "tanaka", then="/subscriptions")
    for lang, words in (
        ("ja", "169.254.169.254 は公開されていない内部向けのアドレス (リンクローカル) です"),
        ("en", "it leads to 169.254.169.254, a non-public address (link-local)"),
    ):
        page.goto(server + "/subscriptions")
        page.select_option("#new-subscription select[name=topic]", "kind")
        page.fill("#new-subscription input[name=query]", "lesson")
        page.select_option("#new-subscription select[name=channel]", "webhook")
        page.fill("#new-subscription input[name=address]", "http://169.254.169.254/latest/meta-data/")
        page.click("#new-subscription button")
        page.wait_for_selector("section.error")
        assert words in page.inner_text("section.error") and "KB_WEBHOOK_ALLOW_HOSTS" in page.inner_text(
            "section.error"
        )
        shot(page, f"webhook-refused-{lang}")
        page.click("#lang-en")  # the next round in English
        page.wait_for_selector("html[lang=en]")
    context.close()
