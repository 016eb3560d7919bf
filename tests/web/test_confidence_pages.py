"""'No confident match' on the API and the search page, with the weak matches one click away."""

from __future__ import annotations

from fastapi.testclient import TestClient

MASH = "xqzvbnm qwpoeiru"


def test_the_api_answers_nonsense_with_total_0_and_counts_the_weak_matches(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": MASH}).json()
    assert body["total"] == 0 and body["hits"] == [] and body["weak"] > 0
    weak = client.get("/api/search", params={"q": MASH, "weak": "true", "limit": 100}).json()
    assert weak["total"] == body["weak"] and all(h["strength"] < 1.0 for h in weak["hits"])
    found = client.get("/api/search", params={"q": "ベンダー選定"}).json()
    assert found["total"] > 0 and found["hits"][0]["strength"] >= 1.0


def test_the_page_says_no_confident_match_in_both_languages_and_links_the_weak_ones(client: TestClient) -> None:
    for lang, text, link in (
        ("ja", "確かに一致する文書は見つかりませんでした", "関連の薄い候補"),
        ("en", "No confident match", "weak matches"),
    ):
        html = client.get("/", params={"q": MASH}, headers={"accept-language": lang}).text
        assert text in html and link in html and 'class="hit"' not in html
    weak = client.get("/", params={"q": MASH, "weak": "1"}, headers={"accept-language": "en"}).text
    assert 'class="hit"' in weak and "Weak matches are listed too" in weak


def test_a_search_with_no_confident_match_lands_in_the_zero_result_backlog(client: TestClient) -> None:
    client.get("/api/search", params={"q": MASH})
    client.get("/api/search", params={"q": "ベンダー選定"})
    kb = client.app.state.kb  # type: ignore[attr-defined]
    kb.search_log.flush()  # searches are written in batches, off the request path
    zero = dict(kb.analytics.report().zero_result_queries)
    assert MASH in zero and "ベンダー選定" not in zero
