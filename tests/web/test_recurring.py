"""Recurring problems on the lesson page: shown from the latest clustering, never revealing a hidden lesson."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kb.record.models import Role
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


PUBLIC = [
    ("ERP renewal", "Vendor shortlist slipped", TEXT),
    (
        "CRM migration",
        "Vendor shortlist took long",
        "The vendor shortlist took ten weeks: scoring criteria argued after demos.",
    ),
    (
        "HR portal",
        "Vendor scoring late",
        "Scoring criteria for the vendor were agreed only after the demos; the shortlist slipped.",
    ),
    ("Web", "Cloud bill", "Tag every resource so the cloud bill can be split."),
    ("Data", "Cloud costs", "Untagged cloud resources made the bill impossible to split."),
]
# Two restricted near-duplicates of the first lesson: clustered over every lesson, they pull it and its closest
# twin away from the third, so an outsider's "3 projects (3 lessons)" became "2 projects (2 lessons)".
SECRET = [
    ("Ledger", "Vendor shortlist slipped", f"{TEXT} Shortlist shortlist."),
    ("Treasury", "Vendor shortlist slipped", f"{TEXT[:-1]}, again."),
]
BRIEF = {"description": "We will select a vendor. Agree the scoring criteria before the demos."}


def _outsider_sees(client: TestClient, token: str, ids: list[str]) -> tuple[list[str], dict[str, object]]:
    """The recurring-problem line of each public lesson's page, and the kickoff brief's items, as ``token`` sees them."""
    client.app.state.clusters.refresh(("hr",))  # type: ignore[attr-defined]  # the outsider's view, now
    lines = []
    for doc_id in ids:
        html = client.get(f"/documents/{doc_id}", headers={**bearer(token), "accept-language": "en"}).text
        found = re.search(r'<p class="recurring".*?</p>', html, re.S)
        lines.append(found.group(0) if found else "")
    brief = client.post("/api/brief", json=BRIEF, headers=bearer(token)).json()
    return lines, brief["groups"]


def test_restricted_near_duplicates_change_nothing_an_outsider_sees(empty_client: TestClient) -> None:
    client = empty_client
    ids = []
    for project, title, body in PUBLIC:
        doc = {"kind": "lesson", "title": title, "body": body, "project": project}
        ids.append(client.post("/api/documents", json=doc).json()["id"])
    outsider = add_user(client, "tanaka", Role.contributor, groups=["hr"])
    member = add_user(client, "suzuki", Role.reader, groups=["finance"])
    before = _outsider_sees(client, outsider, ids)
    assert "This happened in 3 projects (3 lessons)" in before[0][0]
    secret = []
    for project, title, body in SECRET:
        doc = {"kind": "lesson", "title": title, "body": body, "project": project, "groups": ["finance"]}
        secret.append(client.post("/api/documents", json=doc).json()["id"])
    after = _outsider_sees(client, outsider, ids)
    assert after[0] == before[0]  # the recurring-problem lines, computed over what the outsider may see
    # the brief never shows the restricted twins (its scores still use corpus statistics over every document:
    # BM25's document frequencies count restricted chunks, so a weak item can move; see docs/accounts.md, "Restricted documents")
    listed = {item["id"] for items in after[1].values() for item in items}  # type: ignore[attr-defined]
    assert listed.isdisjoint(secret)
    # a member of the group sees the restricted twins in their own view of the problem
    client.app.state.clusters.refresh(("finance",))  # type: ignore[attr-defined]
    html = client.get(f"/documents/{ids[0]}", headers={**bearer(member), "accept-language": "en"}).text
    line = re.search(r'<p class="recurring".*?</p>', html, re.S)
    assert line and all(f"/documents/{s}" in line.group(0) for s in secret) and "Ledger" in line.group(0)
