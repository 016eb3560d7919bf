"""Generated input gets a 4xx naming the problem, never a 500, on SQLite and PostgreSQL alike (issue 18)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kb.config import Settings
from kb.record.models import Role
from tests.conftest import HashingEmbedder
from tests.web.conftest import add_user, bearer, csrf_of
from web.app import create_app

TEXT_FIELDS = (
    "title", "body", "project", "phase", "owner", "version", "driving_event", "lesson",
    "recommendation", "impact", "category", "question", "answer", "supersedes",
)  # fmt: skip
BAD = {"NUL": "a\x00b", "lone surrogate": "a\ud800b", "reversed surrogates": "a\udc00\ud800b"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_client(request: pytest.FixtureRequest, web_settings: Settings) -> Iterator[TestClient]:
    """An empty app on each backend, used by a PMO admin through a token."""
    settings = web_settings
    if request.param == "postgres":
        settings = settings.model_copy(update={"database_url": request.getfixturevalue("postgres_url")})
    with TestClient(create_app(settings, embedder=HashingEmbedder())) as client:
        client.headers.update(bearer(add_user(client, f"admin-{uuid.uuid4().hex[:8]}", Role.pmo_admin)))
        yield client


def post_json(client: TestClient, url: str, payload: object) -> tuple[int, str]:
    """POST ``payload`` as JSON with ``\\uXXXX`` escapes, as a client may send a lone surrogate."""
    r = client.post(url, content=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    return r.status_code, r.json()["message"] if r.status_code >= 400 else ""


@pytest.mark.parametrize("bad", BAD)
def test_text_the_database_cannot_hold_is_refused_naming_the_field(any_client: TestClient, bad: str) -> None:
    for field in TEXT_FIELDS:
        status, message = post_json(any_client, "/api/documents", {"kind": "lesson", "title": "t", field: BAD[bad]})
        assert status == 422 and message.startswith(f"{field}: "), (field, status, message)
    status, message = post_json(any_client, "/api/documents", {"kind": "faq", "title": "t", "tags": ["ok", BAD[bad]]})
    assert (status, message.split(":")[0]) == (422, "tags.1")
    retro = {"title": "t", "lessons": [{"lesson": "fine"}, {"lesson": BAD[bad]}]}
    assert post_json(any_client, "/api/retrospectives", retro)[1].startswith("lessons.1.lesson: ")
    r = any_client.get("/api/search", params={"q": BAD[bad] if bad == "NUL" else "x", "kind": "a\x00"})
    assert r.status_code == 422 and r.json()["message"].split(":")[0] in ("q", "kind")
    form = {"question": f"Q {BAD['NUL']}", "answer": "A", "csrf": csrf_of(any_client, "/faq/new")}
    page = any_client.post("/faq/new", data=form, follow_redirects=False)
    assert page.status_code == 422 and "question" in page.text
    assert any_client.get("/api/documents/a%00b").status_code == 422
    assert any_client.post("/api/documents", json={"kind": "faq", "title": "still", "body": "fine"}).status_code == 201


def test_a_blank_lesson_is_refused_naming_it(client: TestClient) -> None:
    r = client.post("/api/retrospectives", json={"title": "t", "lessons": [{"lesson": "ok"}, {"lesson": " \n"}]})
    assert r.status_code == 422 and r.json()["message"].startswith("lessons.1.lesson: ")


def test_numbers_beyond_any_column_are_a_422(client: TestClient) -> None:
    huge = "9223372036854775808"
    for url in (f"/api/audit?offset={huge}", "/api/audit?limit=0", f"/briefs/{huge}/markdown"):
        r = client.get(url)
        assert r.status_code == 422, url
    assert client.delete(f"/api/tokens/{huge}").status_code == 422
    assert client.delete("/api/tokens/2147483648").status_code == 422  # past PostgreSQL's integer


def test_an_unsupported_method_is_a_405_with_allow(client: TestClient) -> None:
    for url, allow in (("/api/search", "GET"), ("/api/documents/x", "DELETE, GET, PUT"), ("/", "GET")):
        r = client.request("TRACE", url)
        assert (r.status_code, r.headers.get("allow")) == (405, allow), url  # every route of the path, not the first
    assert client.request("OPTIONS", "/api/tokens").headers["allow"] == "GET, POST"


def test_a_body_field_the_schema_does_not_know_or_a_number_for_a_date_is_a_422(client: TestClient) -> None:
    r = client.post("/api/documents", json={"kind": "faq", "title": "t", "titel": "typo"})
    assert r.status_code == 422 and r.json()["message"].startswith("titel: ")
    r = client.post("/api/retrospectives", json={"title": "t", "doc_date": 0, "lessons": [{"lesson": "l"}]})
    assert r.status_code == 422 and r.json()["message"].startswith("doc_date: ")


def test_openapi_declares_the_error_answers_with_the_error_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    assert spec["components"]["schemas"]["Error"]["required"] == ["status", "message"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            declared = set(op["responses"])
            assert {"401", "403", "422"} <= declared, (method, path)
            if "{" in path:
                assert "404" in declared, (method, path)
            if "requestBody" in op:
                assert "413" in declared, (method, path)
            assert all(op["responses"][c]["content"] == error for c in declared if c >= "4"), (method, path)
    assert spec["components"]["schemas"]["LessonIn"]["properties"]["lesson"]["allOf"] == [{"pattern": "^[^\\u0000]*$"}]
    assert spec["components"]["schemas"]["DocumentCreate"]["additionalProperties"] is False
    retro = spec["paths"]["/api/retrospectives"]["post"]
    assert {"401", "403", "404", "409", "413", "422"} <= set(retro["responses"])
