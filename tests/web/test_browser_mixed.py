"""Search on a store that mixes Japanese and English, in a real browser: the demo plus the 1,270 NASA lessons.

The NASA register is read from ``../shared/data/nasa-llis`` at test time (never copied into the
repository), ingested and embedded with the real model, then searched as a Japanese PMO would.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from ingest.registry import default_registry
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.record.models import Role
from tests.web.conftest import load_demo, serving
from tests.web.test_browser import PASSWORD, browser, log_in, shot  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LLIS = Path(os.environ.get("KB_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared")) / "data/nasa-llis"
MASH = "xqzvbnm qwpoeiru"


@pytest.fixture(scope="module")
def mixed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    register = LLIS / "lessons.csv"
    if not register.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{register} is missing")
        pytest.skip(f"{register} is not on this machine")
    settings = Settings(data_dir=tmp_path_factory.mktemp("mixed") / "data")
    load_demo(settings)
    kb = KnowledgeBase.open(settings)
    ingest_paths(kb.store, [register], registry=default_registry(), max_file_bytes=settings.max_file_bytes)
    kb.catch_up()
    kb.accounts.add_user("admin", role=Role.pmo_admin, password=PASSWORD)
    kb.close()
    yield from serving(settings)


@pytest.fixture
def admin_page(browser: object, mixed_server: str) -> Iterator[object]:  # noqa: F811 - the imported fixture
    context = browser.new_context(locale="ja-JP", viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    log_in(page, mixed_server, "admin")
    yield page
    context.close()


def _search(page: object, server: str, query: str) -> list[str]:
    page.goto(server + "/")  # type: ignore[attr-defined]
    page.fill("input[name=q]", query)  # type: ignore[attr-defined]
    page.press("input[name=q]", "Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(".hit, .no-results")  # type: ignore[attr-defined]
    return list(page.locator(".hit-title").all_inner_texts())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("打ち上げ前の試験不足", re.compile(r"test", re.I)), ("ソフトウェアの要求変更", re.compile(r"software", re.I))],
)
def test_a_japanese_query_puts_the_english_nasa_lesson_first(
    admin_page: object, mixed_server: str, query: str, expected: re.Pattern[str]
) -> None:
    titles = _search(admin_page, mixed_server, query)
    assert titles and not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", titles[0]), titles[:5]  # English, first
    assert expected.search(titles[0]), titles[:5]
    # no explanation names or marks a lone character that is not a query word (前 of 打ち上げ前)
    admin_page.click("details.why >> nth=0")  # type: ignore[attr-defined]
    reasons = admin_page.inner_text(".hit >> nth=0 >> .reasons")  # type: ignore[attr-defined]
    marked = admin_page.locator(".hit mark").all_inner_texts()  # type: ignore[attr-defined]
    assert "前" not in marked and not re.search(r"(^|[\s:：、,])前([\s、,]|$)", reasons), (reasons, marked)
    shot(admin_page, f"mixed-{'launch' if '打ち上げ' in query else 'software'}-ja")


def test_keyboard_mash_finds_no_confident_match_and_lands_in_the_backlog(admin_page: object, mixed_server: str) -> None:
    assert _search(admin_page, mixed_server, MASH) == []
    assert "確かに一致する文書は見つかりませんでした" in admin_page.inner_text(".no-results")  # type: ignore[attr-defined]
    shot(admin_page, "mixed-no-confident-match-ja")
    admin_page.click("a.weak-link")  # type: ignore[attr-defined]
    admin_page.wait_for_selector(".hit")  # type: ignore[attr-defined]
    admin_page.goto(mixed_server + "/insights")  # type: ignore[attr-defined]  # it writes the queued searches first
    backlog = admin_page.locator("section >> nth=0 >> ol li a").all_inner_texts()  # type: ignore[attr-defined]
    assert MASH in backlog, backlog
