"""Every page issue 21 touched, in a real browser in Japanese and English at 1366 px: screenshots into
test-artifacts/ and no horizontal overflow (a long id or table once scrolled the page sideways)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.record.models import Role
from tests.ingest.samples import docx_file
from tests.web.conftest import load_demo, serving
from tests.web.test_browser import ARTIFACTS, PASSWORD, browser, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]  # the Chromium fixture, shared with the other browser tests
WIDTH = 1366


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("pages") / "data", timezone="Asia/Tokyo")
    load_demo(settings)
    kb = KnowledgeBase.open(settings)
    kb.catch_up()
    kb.accounts.add_user("admin", role=Role.pmo_admin, password=PASSWORD)
    kb.accounts.add_user("yamada", role=Role.reader, password=PASSWORD)
    kb.close()
    yield from serving(settings)


def _fits(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= WIDTH, f"{name}: the page is {width} px wide at {WIDTH} px"


def test_every_changed_page_in_both_languages_fits_1366_px(site: str, browser: object, tmp_path: Path) -> None:
    context = browser.new_context(locale="ja-JP", viewport={"width": WIDTH, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    log_in(page, site, "admin")
    # sample data: a retrospective typed with bullets, a Word FAQ without a category, a saved brief
    page.goto(site + "/retrospectives/new")
    page.fill("input[name=title]", "倉庫切替の振り返り")
    page.fill("input[name=project]", "倉庫システム刷新")
    page.fill("textarea[name=went_well]", "- 前日に在庫移動を止めた\n- 毎朝の定例で課題を共有した")
    page.fill("textarea[name=lesson] >> nth=0", "切替の前日に在庫移動を凍結する")
    page.click("button[value=save]")
    page.wait_for_selector("article.document")
    retro = page.url
    faq = tmp_path / "総務FAQ.docx"
    faq.write_bytes(
        docx_file([("Heading 2", "会議室の予約方法は？"), ("", "ポータルから予約します。")], title="総務FAQ")
    )
    page.goto(site + "/upload")
    page.set_input_files("input[name=files]", str(faq))
    page.click("form.form button[type=submit]")
    page.wait_for_selector("table.upload-results")
    page.goto(site + "/?q=週次ステータスレポート&kind=template")
    page.click("a.hit-title:has-text('第2版')")
    page.wait_for_selector("a.diff-link")
    template = page.url
    diff = site + page.get_attribute("a.diff-link >> nth=0", "href")
    page.goto(site + "/?q=ベンダー選定&kind=lesson")
    lesson = site + page.get_attribute("a.hit-title >> nth=0", "href")
    pages = {
        "home": site + "/",
        "retrospective-saved": retro,
        "lesson": lesson,
        "template": template,
        "diff": diff,
        "library": site + "/library",
        "faq": site + "/faq",
        "upload": site + "/upload",
        "retrospective-form": site + "/retrospectives/new",
        "audit": site + "/audit",
        "dashboard": site + "/dashboard",
        "not-found": site + "/no-such-page",
    }
    for lang in ("ja", "en"):
        page.goto(f"{site}/lang/{lang}?next=/")
        for name, url in pages.items():
            page.goto(url)
            _fits(page, f"issue21-{name}-{lang}")
        page.goto(site + "/brief")  # a brief's recommendations keep their lists
        page.fill("textarea[name=description]", "販売管理システムを刷新する。複数のベンダーから提案を受けて選定する。")
        page.click("#make-brief")
        page.wait_for_selector("#brief-result")
        _fits(page, f"issue21-brief-{lang}")
    # a reader refused: the 403 page names the role in words
    reader = browser.new_context(locale="ja-JP", viewport={"width": WIDTH, "height": 900})  # type: ignore[attr-defined]
    refused = reader.new_page()
    log_in(refused, site, "yamada")
    for lang, words in (("ja", "「投稿者」の権限を依頼"), ("en", "Ask your PMO admin for the contributor role")):
        refused.goto(f"{site}/lang/{lang}?next=/upload")
        assert words in refused.inner_text("section.error")
        _fits(refused, f"issue21-forbidden-{lang}")
    reader.close()
    context.close()
