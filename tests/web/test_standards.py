"""The standards lifecycle and the lesson loop through the pages and the API, with CSRF and roles."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kb.record.models import Role
from tests.web.conftest import add_user, bearer, csrf_of


def _create(client: TestClient, token: str, **fields: object) -> str:
    body = {"kind": "template", "title": "Vendor evaluation sheet", "body": "## Criteria\n- cost\n", **fields}
    r = client.post("/api/documents", json=body, headers=bearer(token))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_submit_return_resubmit_approve_supersede_through_pages_and_api(client: TestClient) -> None:
    author = add_user(client, "tanaka", Role.contributor)
    admin = client.headers["Authorization"].split()[1]
    old = _create(client, admin, title="Release checklist", version="1.0", status="published")
    new = _create(
        client,
        author,
        title="Release checklist v2",
        version="2.0",
        supersedes="Release checklist",
        status="published",
        body="## Criteria\n- cost\n- rollback tested\n",
    )
    assert client.get(f"/api/documents/{new}").json()["status"] == "draft"  # a contributor's standard: a draft
    csrf = csrf_of(client, f"/documents/{new}")
    r = client.post(f"/documents/{new}/lifecycle", data={"action": "submit"}, headers=bearer(author))
    assert r.status_code == 403  # no CSRF token
    client.headers.update(bearer(author))
    r = client.post(f"/documents/{new}/lifecycle", data={"csrf": csrf, "action": "submit"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/api/documents/{new}/lifecycle", json={"action": "approve"})
    assert r.status_code == 403 and "PMO admin" in r.json()["message"]
    client.headers.update(bearer(admin))
    assert client.post(f"/api/documents/{new}/lifecycle", json={"action": "return"}).status_code == 422
    r = client.post(
        f"/api/documents/{new}/lifecycle", json={"action": "return", "comment": "Add the <b>rollback</b> owner"}
    )
    assert r.json()["status"] == "draft"
    client.headers.update(bearer(author))
    html = client.get("/reviews").text
    assert "Add the &lt;b&gt;rollback&lt;/b&gt; owner" in html and "<b>rollback" not in html
    client.post(f"/api/documents/{new}/lifecycle", json={"action": "submit"})
    client.headers.update(bearer(admin))
    assert "Release checklist v2" in client.get("/reviews").text  # the admin's review queue
    r = client.post(f"/api/documents/{new}/lifecycle", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert client.get(f"/api/documents/{old}").json()["status"] == "superseded"
    r = client.post(f"/api/documents/{old}/lifecycle", json={"action": "approve"})
    assert r.status_code == 409 and "superseded" in r.json()["message"]
    library = client.get("/library").text
    assert "Release checklist v2" in library and ">Release checklist</a>" not in library
    assert ">Release checklist</a>" in client.get("/library", params={"all": 1}).text
    page = client.get(f"/documents/{old}").text
    assert 'id="current-version"' in page and f"/documents/{new}" in page
    diff = client.get(f"/documents/{new}/diff", params={"against": old}).text
    assert "<ins>• rollback tested</ins>" in diff and "- rollback" not in diff
    actions = [e.action for e in client.app.state.kb.audit.events(limit=20)]  # type: ignore[attr-defined]
    assert {"submit", "return", "approve", "supersede"} <= set(actions)
    hits = client.get("/api/search", params={"q": "Release checklist", "kind": "template"}).json()["hits"]
    statuses = [h["status"] for h in hits if h["id"] in (old, new)]
    assert statuses == ["published", "superseded"]  # the current version first, the old one marked


def test_lesson_adopted_into_a_template_shows_on_both_pages(client: TestClient) -> None:
    admin = client.headers["Authorization"].split()[1]
    template = _create(client, admin, title="Vendor evaluation sheet 2.0", version="2.0", status="published")
    lesson = client.post(
        "/api/documents", json={"kind": "lesson", "title": "Freeze the scoring model before demos", "body": "x"}
    ).json()["id"]
    page = client.get(f"/documents/{lesson}").text
    assert 'class="action-status action-open"' in page
    csrf = csrf_of(client, f"/documents/{lesson}")
    r = client.post(
        f"/documents/{lesson}/action",
        data={"csrf": csrf, "status": "adopted", "target_id": template},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert (
        f'href="/documents/{template}">Vendor evaluation sheet 2.0</a> 2.0' in client.get(f"/documents/{lesson}").text
    )
    assert "Freeze the scoring model before demos" in client.get(f"/documents/{template}").text
    r = client.post(f"/api/documents/{lesson}/action", json={"status": "not_adopted"})
    assert r.status_code == 422
    r = client.post(f"/api/documents/{lesson}/action", json={"status": "not_adopted", "reason": "RFP rules cover it"})
    assert r.json() == {
        "lesson_id": lesson,
        "status": "not_adopted",
        "target_id": None,
        "target_version": None,
        "reason": "RFP rules cover it",
    }
    assert "Freeze the scoring model" not in client.get(f"/documents/{template}").text


def test_an_empty_review_list_says_what_would_be_there(client: TestClient) -> None:
    """Each empty list once showed a bare dash: the PMO could not tell "nothing to do" from "not loaded"."""
    contributor = bearer(add_user(client, "newcomer", Role.contributor))
    for lang, words in (
        (
            "ja",
            (
                "「情報が古い」との報告はありません",
                "レビューを待っている文書はありません",
                "下書き・差し戻しの文書はありません",
            ),
        ),
        ("en", ("No reports.", "Nothing is waiting for review.", "You have no drafts or returned documents.")),
    ):
        html = client.get("/reviews", headers={**contributor, "accept-language": lang}).text
        assert all(w in html for w in words), lang
        assert '<li class="meta">—</li>' not in html
