"""Phases written テスト and test are one facet and one filter on the search page and the API."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_phase_facet_merges_spellings_and_the_filter_finds_both(client: TestClient) -> None:
    kb = client.app.state.kb  # type: ignore[attr-defined]
    written = {d.phase for d in kb.store.documents()}
    assert {"テスト", "test"} <= written  # the demo mixes them
    body = client.get("/api/search", params={"q": "テスト test", "limit": 100}).json()
    phases = dict((f["value"], f["count"]) for f in body["facets"]["phase"])
    assert "テスト" not in phases and phases["test"] >= 2
    both = client.get("/api/search", params={"q": "テスト test", "phase": "test", "limit": 100}).json()
    assert {h["phase"] for h in both["hits"]} == {"テスト", "test"}  # the documents keep what was written
    assert both["total"] == phases["test"]
    old_link = client.get("/api/search", params={"q": "テスト test", "phase": "テスト", "limit": 100}).json()
    assert old_link["total"] == both["total"]
    html = client.get("/", params={"q": "テスト test", "phase": "test"}, headers={"accept-language": "ja"}).text
    assert '<li class="on"><a href="/?q=' in html and ">テスト</a>" in html
    en = client.get("/", params={"q": "テスト test"}, headers={"accept-language": "en"}).text
    assert ">Test</a>" in en
    library = client.get("/library", headers={"accept-language": "en"}).text
    assert library.count("<h3>Vendor management</h3>") == 2  # ベンダー管理 and Vendor management: one per kind


def test_tags_merge_across_languages_and_any_spelling_marks_the_merged_value(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "テスト test", "limit": 100}).json()
    tags = dict((f["value"], f["count"]) for f in body["facets"]["tags"])
    assert "テスト" not in tags and tags["testing"] >= 2  # the demo tags testing and テスト
    hits = client.get("/api/search", params={"q": "テスト test", "tag": "テスト", "limit": 100}).json()
    assert hits["total"] == tags["testing"] and {"testing", "テスト"} <= {t for h in hits["hits"] for t in h["tags"]}
    html = client.get("/", params={"q": "テスト test", "tag": "テスト"}, headers={"accept-language": "ja"}).text
    # the merged value is shown in the page's language, marked chosen, and its link drops the filter
    assert '<li class="on"><a href="/?q=%E3%83%86%E3%82%B9%E3%83%88+test">テスト</a>' in html


def test_a_hit_shows_its_phase_in_the_pages_language(client: TestClient) -> None:
    """A lesson written in English with phase ``initiation`` reads 企画 on a Japanese results page, as in the facet."""
    body = client.get("/api/search", params={"q": "vendor selection delays", "limit": 20}).json()
    assert "initiation" in {h["phase"] for h in body["hits"]}  # the demo writes English phases in English
    ja = client.get("/", params={"q": "vendor selection delays"}, headers={"accept-language": "ja"}).text
    meta = " ".join(re.findall(r'<p class="meta">(.*?)</p>', ja, flags=re.S))
    assert "<span>企画</span>" in meta and "initiation" not in meta and "planning" not in meta
