"""Phases written テスト and test are one facet and one filter on the search page and the API."""

from __future__ import annotations

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
