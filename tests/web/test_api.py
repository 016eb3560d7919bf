"""The JSON API through the in-process client: every documented endpoint, errors as JSON."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from kb.config import Settings
from kb.record.models import DocumentDraft, Kind, OriginalFile
from tests.conftest import HashingEmbedder
from tests.ingest.hostile import alias_bomb
from web.app import create_app


def test_openapi_document_validates_and_lists_every_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    validate(spec)
    assert set(spec["paths"]) == {
        "/api/search",
        "/api/documents",
        "/api/documents/{doc_id}",
        "/api/documents/{doc_id}/original",
        "/api/retrospectives",
        "/api/upload",
        "/api/feedback",
        "/api/stats",
        "/api/me",
        "/api/tokens",
        "/api/tokens/{token_id}",
        "/api/users",
        "/api/users/{login}",
        "/api/audit",
        "/api/documents/{doc_id}/lifecycle",
        "/api/documents/{doc_id}/action",
        "/api/brief",
        "/api/briefs",
        "/api/subscriptions",
        "/api/subscriptions/{subscription_id}",
        "/api/inbox",
        "/api/projects",
        "/api/projects/{name}/phase",
    }
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`kb token create`).",
    }
    assert spec["security"] == [{"bearer": []}]


def test_search_with_filters_paging_explain_and_facets(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "ベンダー選定", "explain": "true", "limit": 3})
    body = r.json()
    assert r.status_code == 200 and body["total"] > 3 and len(body["hits"]) == 3
    hit = body["hits"][0]
    assert {"lexical_rank", "dense_rank", "strength", "matched_words", "via_translation", "similar_meaning"} <= set(
        hit["explanation"]
    )
    assert "ベンダー" in hit["explanation"]["matched_words"] or hit["explanation"]["via_translation"]
    assert any(s["match"] for s in hit["snippet"])
    assert {f["value"] for f in body["facets"]["kind"]} >= {"lesson"}
    page2 = client.get("/api/search", params={"q": "ベンダー選定", "limit": 3, "offset": 3}).json()
    assert {h["id"] for h in page2["hits"]}.isdisjoint(h["id"] for h in body["hits"])
    only = client.get("/api/search", params={"q": "vendor", "kind": "template", "lang": "en"}).json()
    assert only["hits"] and all(h["kind"] == "template" and h["language"] == "en" for h in only["hits"])


def test_errors_are_json_with_status_and_message(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "x", "limit": 0})
    assert r.status_code == 422 and r.json()["status"] == 422 and "limit" in r.json()["message"]
    r = client.get("/api/documents/missing")
    assert r.status_code == 404 and r.json() == {"status": 404, "message": "no document with id 'missing'"}


def test_document_create_update_delete_and_searchable_at_once(client: TestClient) -> None:
    created = client.post(
        "/api/documents",
        json={
            "kind": "lesson",
            "title": "Zebracorn rollout lesson",
            "body": "Name a cutover owner for the zebracorn.",
            "tags": ["cutover"],
            "project": "Zoo",
        },
    )
    assert created.status_code == 201
    doc = created.json()
    assert doc["language"] == "en" and doc["has_original"] is False and "source_path" not in doc
    assert client.get("/api/search", params={"q": "zebracorn"}).json()["hits"][0]["id"] == doc["id"]
    updated = client.put(
        f"/api/documents/{doc['id']}",
        json={
            "kind": "lesson",
            "title": "Unicorn rollout lesson",
            "body": "Name a cutover owner for the unicorn.",
        },
    )
    assert updated.status_code == 200 and updated.json()["title"] == "Unicorn rollout lesson"
    assert client.get("/api/search", params={"q": "zebracorn", "mode": "lexical"}).json()["hits"] == []
    assert client.delete(f"/api/documents/{doc['id']}").status_code == 204
    assert client.get(f"/api/documents/{doc['id']}").status_code == 404
    assert client.post("/api/documents", json={"kind": "memo", "title": "x"}).status_code == 422


def test_original_download_is_an_attachment_never_rendered(client: TestClient) -> None:
    kb = client.app.state.kb  # type: ignore[attr-defined]
    html = b"<script>alert(1)</script>"
    doc = kb.store.create(
        DocumentDraft(
            kind=Kind.template,
            title="T",
            body="b",
            original=OriginalFile(filename="リスク登録簿.html", media_type="text/html", data=html),
        )
    )
    r = client.get(f"/api/documents/{doc.id}/original")
    assert r.status_code == 200 and r.content == html
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "UTF-8''%E3%83%AA" in r.headers["content-disposition"]
    assert r.headers["x-content-type-options"] == "nosniff" and "sandbox" in r.headers["content-security-policy"]
    assert client.get(f"/api/documents/{doc.id}/original").status_code == 200
    no_original = client.post("/api/documents", json={"kind": "faq", "title": "Q?", "body": "A."}).json()
    assert client.get(f"/api/documents/{no_original['id']}/original").status_code == 404


def test_upload_reports_each_file_and_never_uses_the_path(client: TestClient) -> None:
    good = "---\ntitle: Quokka upload test\nlang: en\n---\n\n## Lesson\n\nThe quokka migration needed a freeze.\n"
    files = [
        ("files", ("../../etc/quokka.md", good.encode(), "text/markdown")),
        ("files", ("broken.md", b"---\ntitle: [x\n---\nbody", "text/markdown")),
        ("files", ("picture.png", b"\x89PNG\r\n", "image/png")),
    ]
    r = client.post("/api/upload", files=files, data={"kind": "lesson"})
    body = r.json()
    assert r.status_code == 200
    by_name = {f["filename"]: f for f in body["files"]}
    assert by_name["quokka.md"]["status"] == "added"
    assert by_name["broken.md"]["status"] == "failed" and "not valid YAML" in by_name["broken.md"]["error"]
    assert by_name["picture.png"]["status"] == "failed" and "unsupported" in by_name["picture.png"]["error"]
    assert body["summary"] == {"added": 1, "failed": 2}
    hits = client.get("/api/search", params={"q": "quokka freeze"}).json()["hits"]
    assert hits[0]["title"] == "Quokka upload test"
    again = client.post(
        "/api/upload", files=[("files", ("quokka.md", good.encode(), "text/markdown"))], data={"kind": "lesson"}
    ).json()
    assert again["files"][0]["status"] == "unchanged"
    # without the kind this time, the file (which names none) cannot be read: a clear error, nothing lost
    unkinded = client.post("/api/upload", files=[("files", ("quokka.md", good.encode(), "text/markdown"))]).json()
    assert unkinded["files"][0]["status"] == "failed" and "kind" in unkinded["files"][0]["error"]
    assert client.get("/api/search", params={"q": "quokka freeze"}).json()["hits"][0]["title"] == "Quokka upload test"


def test_upload_over_the_size_limit_fails_that_file(client: TestClient) -> None:
    limit = client.app.state.kb.settings.max_file_bytes  # type: ignore[attr-defined]
    r = client.post("/api/upload", files=[("files", ("big.md", b"x" * (limit + 10), "text/markdown"))])
    assert r.json()["files"][0]["status"] == "failed" and "over the limit" in r.json()["files"][0]["error"]


def test_an_alias_bomb_upload_fails_alone_in_milliseconds(client: TestClient) -> None:
    """The issue's front matter (nine anchors of nine, nine deep) once tied up a worker; now it is one error."""
    good = "---\ntitle: Wombat lesson\nlang: en\n---\n\n## Lesson\n\nThe wombat cut-over needed two rehearsals.\n"
    files = [
        ("files", ("laughs.md", alias_bomb().encode(), "text/markdown")),
        ("files", ("wombat.md", good.encode(), "text/markdown")),
    ]
    started = time.perf_counter()
    body = client.post("/api/upload", files=files, data={"kind": "lesson"}).json()
    assert time.perf_counter() - started < 10
    bomb, wombat = body["files"]
    assert bomb["status"] == "failed"
    assert bomb["error"].startswith("upload:laughs.md:4: front matter uses the YAML anchor `&a0`")
    assert wombat["status"] == "added"
    assert client.get("/api/search", params={"q": "wombat rehearsals"}).json()["hits"][0]["title"] == "Wombat lesson"
    assert client.get("/api/search", params={"q": "laughs"}).json()["hits"] == []


def test_retrospective_is_split_into_searchable_lessons(client: TestClient) -> None:
    r = client.post(
        "/api/retrospectives",
        json={
            "title": "倉庫管理システム 振り返り",
            "project": "倉庫管理",
            "phase": "テスト",
            "went_well": ["日次の課題共有"],
            "went_wrong": ["帳票の確認が遅れた"],
            "lessons": [
                {
                    "lesson": "帳票レビューは業務部門と早期に行う",
                    "driving_event": "帳票の差異がUATで大量に見つかった",
                    "recommendation": "設計段階で帳票サンプルを合意する",
                },
                {"title": "Cutover rehearsal", "lesson": "Rehearse the cutover twice"},
            ],
        },
    )
    assert r.status_code == 201
    body = r.json()
    retro, lessons = body["retrospective"], body["lessons"]
    assert retro["kind"] == "retrospective" and len(lessons) == 2
    assert lessons[0]["parent_id"] == retro["id"] and lessons[0]["project"] == "倉庫管理"
    assert lessons[0]["recommendation"] == "設計段階で帳票サンプルを合意する"
    hits = client.get("/api/search", params={"q": "帳票 レビュー", "kind": "lesson"}).json()["hits"]
    assert hits[0]["id"] == lessons[0]["id"]
    assert client.post("/api/retrospectives", json={"title": "x", "lessons": []}).status_code == 422


def test_feedback_and_stats(client: TestClient) -> None:
    hit = client.get("/api/search", params={"q": "予算"}).json()["hits"][0]
    assert (
        client.post("/api/feedback", json={"query": "予算", "document_id": hit["id"], "helpful": True}).status_code
        == 204
    )
    assert client.post("/api/feedback", json={"query": "x", "document_id": "nope", "helpful": True}).status_code == 404
    client.get("/api/search", params={"q": "存在しない語彙ぴよぴよ"})
    stats = client.get("/api/stats").json()
    assert stats["documents"]["lesson"] > 10 and stats["index"]["documents"] == sum(
        v for k, v in stats["documents"].items() if k not in ("chunks", "sources")
    )
    assert stats["searches"]["searches"] >= 2


def test_an_oversized_request_is_refused_before_it_is_read(settings: Settings) -> None:
    small = settings.model_copy(update={"max_request_bytes": 1000, "anonymous_role": "reader"})
    with TestClient(create_app(small, embedder=HashingEmbedder())) as client:
        r = client.post("/api/upload", files=[("files", ("big.md", b"x" * 5000, "text/markdown"))])
        assert r.status_code == 413 and "KB_MAX_REQUEST_BYTES" in r.json()["message"]
        assert client.get("/api/search", params={"q": "x"}).status_code == 200


def test_a_filtered_search_answers_the_same_after_an_idle_save(client: TestClient) -> None:
    """The follower's periodic save compacts the rows a delete left; a filtered search must not fail after it."""
    doc = client.post("/api/documents", json={"kind": "faq", "title": "Short-lived", "body": "gone soon"}).json()
    assert client.delete(f"/api/documents/{doc['id']}").status_code == 204
    query = {"q": "vendor", "kind": "lesson"}
    before = client.get("/api/search", params=query)
    assert before.status_code == 200 and before.json()["hits"]
    client.app.state.kb.indexer.save()  # type: ignore[attr-defined]  # what the follower does when idle
    after = client.get("/api/search", params=query)
    assert after.status_code == 200
    assert [h["id"] for h in after.json()["hits"]] == [h["id"] for h in before.json()["hits"]]


def test_an_edit_keeps_the_original_file(client: TestClient) -> None:
    html = b"<html><body><h1>Change procedure</h1><p>Ask the board first.</p></body></html>"
    files = [("files", ("change.html", html, "text/html"))]
    assert client.post("/api/upload", files=files, data={"kind": "procedure"}).json()["summary"] == {"added": 1}
    kb = client.app.state.kb  # type: ignore[attr-defined]
    doc = next(d for d in kb.store.documents(kind=Kind.procedure) if d.title == "Change procedure")
    before = client.get(f"/api/documents/{doc.id}").json()
    assert before["has_original"]
    fields = {k: before[k] for k in ("kind", "title", "body", "language", "status")}
    r = client.put(f"/api/documents/{doc.id}", json={**fields, "body": before["body"] + "\n\nEdited.", "version": "2"})
    assert r.status_code == 200 and r.json()["has_original"] and r.json()["version"] == "2"
    original = client.get(f"/api/documents/{doc.id}/original")
    assert original.status_code == 200 and original.content == html
