"""A document restricted to a group leaves no trace for anyone outside it, on every page and endpoint.

The demo is loaded, then a PMO admin uploads a retrospective, an FAQ and a
template restricted to ``finance`` (front matter ``groups``) and a CSV lesson
restricted through a ``groups`` column. ``hr1`` (a contributor in ``hr``)
must not see any of them or any count that includes them; ``fin1`` (a reader
in ``finance``) sees them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kb.config import Settings
from kb.record.models import Role
from tests.conftest import HashingEmbedder
from tests.web.conftest import add_user, bearer, load_demo
from web.app import create_app

SECRET_WORD = "Zanzibar"  # appears only in the restricted documents
RETRO = f"""---
kind: retrospective
project: Project {SECRET_WORD}
groups: [finance]
---
# {SECRET_WORD} acquisition retrospective

## Lessons

### Vendor selection for {SECRET_WORD} took too long

- What happened: the {SECRET_WORD} vendor shortlist was reopened twice.
- Lesson: agree the vendor selection criteria before the RFP.
- Recommendation: timebox the vendor shortlist.
"""
FAQ = f"""---
kind: faq
groups: finance
---
# {SECRET_WORD} budget FAQ

## Who approves the {SECRET_WORD} vendor budget?

The CFO approves the {SECRET_WORD} vendor budget.
"""
TEMPLATE = f"""---
kind: template
category: finance
groups: [finance]
---
# {SECRET_WORD} vendor evaluation sheet

Score each {SECRET_WORD} vendor on cost and delivery.
"""
# What an outsider must never see: the restricted documents' titles, projects and words of their bodies
# (the query itself is echoed back to whoever typed it, so the secret word alone is no test).
TRACES = (
    "acquisition retrospective",
    "invoice check",
    "evaluation sheet",
    "approves the",
    f"Project {SECRET_WORD}",
    "Ledger",
    "reopened twice",
    "CFO",
)
CSV = (
    f"title,lesson,groups,project\n{SECRET_WORD} invoice check,Check every {SECRET_WORD} invoice twice,finance,Ledger\n"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("restricted") / "data", min_dense_score=0.5)
    load_demo(settings)
    with TestClient(create_app(settings, embedder=HashingEmbedder())) as client:
        tokens = {
            "admin": add_user(client, "admin", Role.pmo_admin),
            "outsider": add_user(client, "hr1", Role.contributor, ["hr"]),
            "member": add_user(client, "fin1", Role.reader, ["finance"]),
        }
        files = [
            ("files", ("zanzibar-retro.md", RETRO.encode(), "text/markdown")),
            ("files", ("zanzibar-faq.md", FAQ.encode(), "text/markdown")),
            ("files", ("zanzibar-template.md", TEMPLATE.encode(), "text/markdown")),
            ("files", ("zanzibar-lessons.csv", CSV.encode(), "text/csv")),
        ]
        report = client.post("/api/upload", files=files, data={"kind": ""}, headers=bearer(tokens["admin"])).json()
        assert report["summary"]["added"] == 4, report
        docs = client.get(
            "/api/search", params={"q": SECRET_WORD, "limit": 50, "mode": "lexical"}, headers=bearer(tokens["admin"])
        ).json()["hits"]
        ids = {h["kind"] + ":" + h["title"]: h["id"] for h in docs}
        # the retrospective shares its one passage with its lesson: one hit, which names it
        ids.update({p["kind"] + ":" + p["title"]: p["id"] for h in docs if (p := h["parent"])})
        assert len(ids) == 5, ids  # the retrospective, its lesson, the FAQ, the template, the CSV lesson
        yield client, tokens, ids


def _get(client: TestClient, token: str, url: str, **params: object) -> tuple[int, str]:
    r = client.get(url, params=params, headers=bearer(token))
    return r.status_code, r.text


def test_restricted_documents_are_stored_restricted(world: tuple[TestClient, dict[str, str], dict[str, str]]) -> None:
    client, tokens, ids = world
    for doc_id in ids.values():
        doc = client.get(f"/api/documents/{doc_id}", headers=bearer(tokens["member"])).json()
        assert doc["groups"] == ["finance"], doc  # the retrospective's lesson inherits it


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_search_hits_totals_and_facets_do_not_count_them(
    world: tuple[TestClient, dict[str, str], dict[str, str]], mode: str
) -> None:
    client, tokens, ids = world
    query = f"{SECRET_WORD} vendor selection"
    outsider = client.get(
        "/api/search", params={"q": query, "mode": mode, "limit": 100}, headers=bearer(tokens["outsider"])
    ).json()
    admin = client.get(
        "/api/search", params={"q": query, "mode": mode, "limit": 100}, headers=bearer(tokens["admin"])
    ).json()
    assert not [t for t in TRACES if t in str(outsider)]
    assert outsider["total"] == len(outsider["hits"]) and admin["total"] > outsider["total"]
    restricted = set(ids.values())
    assert restricted.isdisjoint(h["id"] for h in outsider["hits"])
    assert restricted & {h["id"] for h in admin["hits"]}
    facet_total = sum(n["count"] for n in outsider["facets"]["kind"])
    assert facet_total == outsider["total"]
    only_secret = client.get(
        "/api/search", params={"q": SECRET_WORD, "mode": "lexical"}, headers=bearer(tokens["outsider"])
    ).json()
    assert only_secret["total"] == 0 and only_secret["hits"] == []


def test_every_page_and_endpoint_hides_them_from_an_outsider(
    world: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, tokens, ids = world
    outsider, member = tokens["outsider"], tokens["member"]
    for doc_id in ids.values():
        for url in (
            f"/documents/{doc_id}",
            f"/api/documents/{doc_id}",
            f"/api/documents/{doc_id}/original",
            f"/documents/{doc_id}/original",
        ):
            code, text = _get(client, outsider, url)
            assert code == 404 and not [t for t in TRACES if t in text], url
        r = client.post(
            "/api/feedback", json={"query": "x", "document_id": doc_id, "helpful": True}, headers=bearer(outsider)
        )
        assert r.status_code == 404
    for url, params in (
        ("/", {"q": SECRET_WORD}),
        ("/", {"q": "vendor selection"}),
        ("/", {}),
        ("/library", {}),
        ("/faq", {}),
        ("/faq", {"q": f"{SECRET_WORD} budget"}),
    ):
        code, text = _get(client, outsider, url, **params)
        assert code == 200 and not [t for t in TRACES if t in text] and not any(i in text for i in ids.values())
        code, text = _get(client, member, url, **params)
        assert code == 200
    for url in ("/library", "/faq", "/"):
        assert "evaluation sheet" in _get(client, member, url, q=SECRET_WORD if url == "/" else "")[1] or url == "/faq"
        assert "approves the" in _get(client, member, url, q=SECRET_WORD if url == "/" else "")[1] or url == "/library"


def test_related_documents_on_a_public_page_leave_them_out(
    world: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, tokens, ids = world
    # a public lesson saying nearly what the restricted CSV lesson says, so that one is its nearest neighbour
    body = {"kind": "lesson", "title": "Double-check invoices", "body": f"Check every {SECRET_WORD} invoice twice"}
    public = client.post("/api/documents", json=body, headers=bearer(tokens["admin"])).json()
    outsider_page = _get(client, tokens["outsider"], f"/documents/{public['id']}")[1]
    admin_page = _get(client, tokens["admin"], f"/documents/{public['id']}")[1]
    assert "invoice check" in admin_page  # the related list does show it to someone who may see it
    assert not [t for t in TRACES if t in outsider_page] and not any(i in outsider_page for i in ids.values())


def test_the_member_sees_them_everywhere(world: tuple[TestClient, dict[str, str], dict[str, str]]) -> None:
    client, tokens, ids = world
    for doc_id in ids.values():
        code, text = _get(client, tokens["member"], f"/documents/{doc_id}")
        assert code == 200 and re.search("Restricted|限定公開", text)
    hits = client.get("/api/search", params={"q": SECRET_WORD}, headers=bearer(tokens["member"])).json()["hits"]
    assert set(ids.values()) <= {h["id"] for h in hits} | {h["parent"]["id"] for h in hits if h["parent"]}


def test_a_contributor_cannot_restrict_to_a_group_they_are_not_in(
    world: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, tokens, _ = world
    body = {"kind": "lesson", "title": "Hide this", "body": "x", "groups": ["finance"]}
    r = client.post("/api/documents", json=body, headers=bearer(tokens["outsider"]))
    assert r.status_code == 403 and "finance" in r.json()["message"]
    r = client.post("/api/documents", json={**body, "groups": ["hr"]}, headers=bearer(tokens["outsider"]))
    assert r.status_code == 201 and r.json()["groups"] == ["hr"] and r.json()["created_by"] == "hr1"
