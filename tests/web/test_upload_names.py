"""Uploading a file whose name is taken: never overwrites another's document, never reveals a hidden one."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kb.record.models import Role
from tests.web.conftest import add_user, bearer

SECRET = b"---\nkind: faq\ngroups: [finance]\n---\n# Who approves the merger budget?\n\nThe CFO.\n"
MINE = b"---\nkind: faq\n---\n# How do I book a room?\n\nThrough the portal.\n"


def _upload(client: TestClient, token: str, data: bytes, name: str = "budget.md") -> dict[str, object]:
    r = client.post("/api/upload", files=[("files", (name, data, "text/markdown"))], headers=bearer(token))
    assert r.status_code == 200, r.text
    (report,) = r.json()["files"]
    return dict(report)


def test_a_name_taken_by_a_hidden_document_answers_as_if_it_were_free(empty_client: TestClient) -> None:
    client = empty_client
    kb = client.app.state.kb  # type: ignore[attr-defined]
    admin = add_user(client, "sato", Role.pmo_admin)
    outsider = add_user(client, "tanaka", Role.contributor, groups=["hr"])
    member = add_user(client, "suzuki", Role.contributor, groups=["finance"])
    assert _upload(client, admin, SECRET)["status"] == "added"
    (secret,) = kb.store.documents_of_source("upload:budget.md")

    # the same bytes (once "unchanged") and other bytes (once "stored by someone else") answer what a free name does
    for n, data in enumerate((SECRET, MINE)):
        free = {
            k: str(v).replace(f"free{n}.md", "budget.md")
            for k, v in _upload(client, outsider, data, f"free{n}.md").items()
        }
        assert {k: str(v) for k, v in _upload(client, outsider, data).items()} == free
    (own,) = kb.store.documents_of_source("upload:~tanaka/budget.md")
    assert own.created_by == "tanaka" and own.title == "How do I book a room?"
    assert _upload(client, outsider, MINE)["status"] == "unchanged"  # their own file, found again
    assert kb.store.get(secret.id) == secret  # the hidden document untouched
    assert client.get(f"/api/documents/{own.id}", headers=bearer(outsider)).json()["source_name"] == "budget.md"

    # a member sees the document, so is told plainly that it is someone else's
    report = _upload(client, member, MINE)
    assert report["status"] == "failed" and "someone else" in str(report["error"])
    assert kb.store.get(secret.id) == secret
