"""A search request does not write its analytics row; the app's shutdown writes every queued one."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kb.config import Settings
from kb.pmo.analytics import SearchAnalytics
from kb.record.models import Role
from kb.record.store import open_store
from tests.conftest import HashingEmbedder
from tests.web.conftest import add_user, bearer, load_demo
from web.app import create_app


def test_searches_are_written_off_the_request_and_on_shutdown(web_settings: Settings) -> None:
    settings = web_settings.model_copy(update={"search_log_seconds": 3600.0})  # no flush by the clock here
    load_demo(settings)
    with TestClient(create_app(settings, embedder=HashingEmbedder())) as client:
        client.headers.update(bearer(add_user(client, "admin", Role.pmo_admin)))
        for q in ("vendor", "ベンダー選定", "no such thing zzqx"):
            assert client.get("/api/search", params={"q": q}).status_code == 200
        kb = client.app.state.kb  # type: ignore[attr-defined]
        assert kb.analytics.report().searches == 0  # nothing written by the requests
        assert kb.search_log.pending() == 3
        assert client.get("/api/stats").json()["searches"]["searches"] == 3  # the report counts the queue
        assert client.get("/api/search", params={"q": "after the report"}).status_code == 200
    store = open_store(settings)  # the app has shut down: its lifespan wrote the last search
    try:
        report = SearchAnalytics(store).report()
        assert report.searches == 4 and ("after the report", 1) in report.top_queries
    finally:
        store.close()


def test_insights_on_a_new_store_say_what_each_empty_list_will_hold(empty_client: TestClient) -> None:
    """The four lists of 検索の傾向 were blank boxes on a new store; each now says what will gather there."""
    for lang, words in (
        ("ja", ("結果ゼロの検索はまだありません", "まだ検索されていません", "まだフィードバックはありません",
                "見直し期限を過ぎた文書はありません")),
        ("en", ("No searches without results yet", "Nobody has searched yet", "No feedback yet",
                "No document is past its review date")),
    ):  # fmt: skip
        html = empty_client.get("/insights", headers={"accept-language": lang}).text
        assert all(w in html for w in words), lang
        assert html.count('class="meta empty-list"') == 4
