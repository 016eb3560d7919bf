"""Recurring problems on the lesson page: shown from the latest clustering, never revealing a hidden lesson."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kb.models import Role
from tests.web.conftest import add_user, bearer

TEXT = "The vendor shortlist took ten weeks because the scoring criteria were argued after the demos."


def test_lesson_page_says_where_else_it_happened_and_hides_restricted_twins(empty_client: TestClient) -> None:
    client = empty_client
    ids = []
    for project, groups in (("ERP renewal", []), ("CRM migration", []), ("Payroll", ["finance"])):
        body = {"kind": "lesson", "title": f"Vendor shortlist slipped ({project})", "body": TEXT, "project": project}
        ids.append(client.post("/api/documents", json={**body, "groups": groups}).json()["id"])
    client.post("/api/documents", json={"kind": "lesson", "title": "Cloud bill", "body": "Tag every resource."})
    found = client.app.state.clusters.refresh()  # type: ignore[attr-defined]
    assert any(set(ids) <= set(g) for g in found.groups)
    html = client.get(f"/documents/{ids[0]}", headers={"accept-language": "en"}).text
    assert "This happened in 3 projects (3 lessons)" in html and "Vendor shortlist slipped (Payroll)" in html
    reader = add_user(client, "yamada", Role.reader)
    html = client.get(f"/documents/{ids[0]}", headers={**bearer(reader), "accept-language": "en"}).text
    assert "This happened in 2 projects (2 lessons)" in html
    assert "Payroll" not in html
