"""Editing and deleting in the browser, and feedback from every signed-in reader."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kb.config import Settings
from kb.pmo import feedback
from kb.record.models import DocumentDraft, Kind, OriginalFile, Role, Status, Verdict
from tests.conftest import HashingEmbedder, migrated
from tests.web.conftest import add_user, bearer, csrf_of
from web.app import create_app


@pytest.fixture
def site(web_settings: Settings) -> Iterator[TestClient]:
    """An app with a contributor's lesson, someone else's lesson and a published template with its file."""
    migrated(web_settings)
    with TestClient(create_app(web_settings, embedder=HashingEmbedder())) as client:
        client.cookies.set("kb_lang", "en")
        yield client


def token(client: TestClient, login: str, role: Role) -> dict[str, str]:
    return bearer(add_user(client, login, role))


def create(client: TestClient, by: str | None, **fields: object) -> str:
    kb = client.app.state.kb  # type: ignore[attr-defined]
    doc = kb.store.create(DocumentDraft.model_validate(fields), by=by)
    kb.indexer.catch_up()
    return str(doc.id)


def post(client: TestClient, url: str, headers: dict[str, str], **data: object) -> object:
    """A form post with the CSRF token a page's forms carry (the form page itself when it is one)."""
    page = url if url.endswith(("/edit", "/delete")) else "/login"
    csrf = csrf_of(client, page) if client.get(page, headers=headers).status_code == 200 else "no form"
    return client.post(url, data={"csrf": csrf, **data}, headers=headers, follow_redirects=False)


LESSON = {
    "kind": Kind.lesson,
    "title": "Vendor selection slipped",
    "body": "Agree **criteria** early.",
    "tags": ["vendor"],
}


def test_a_contributor_edits_their_own_lesson_and_not_anothers(site: TestClient) -> None:
    tanaka = token(site, "tanaka", Role.contributor)
    mine = create(site, "tanaka", **LESSON)
    theirs = create(site, "suzuki", **{**LESSON, "title": "Budget overrun"})
    page = site.get(f"/documents/{mine}", headers=tanaka).text
    assert 'id="edit-link"' in page and 'id="delete-link"' in page
    assert 'id="edit-link"' not in site.get(f"/documents/{theirs}", headers=tanaka).text
    assert site.get(f"/documents/{theirs}/edit", headers=tanaka).status_code == 403
    refused = site.post(
        f"/documents/{theirs}/edit", data={"csrf": "x", "title": "hijacked"}, headers=tanaka, follow_redirects=False
    )
    assert refused.status_code == 403
    # preview: rendered on the server, nothing saved
    form = {
        "title": "Vendor selection slipped twice",
        "body": "Agree **criteria** before the RFP.",
        "tags": "vendor, 調達",
    }
    response = post(site, f"/documents/{mine}/edit", tanaka, **form, action="preview")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "<strong>criteria</strong>" in response.text  # type: ignore[attr-defined]
    kb = site.app.state.kb  # type: ignore[attr-defined]
    assert kb.store.get(mine).title == "Vendor selection slipped"
    response = post(site, f"/documents/{mine}/edit", tanaka, **form, action="save")
    assert response.headers["location"] == f"/documents/{mine}?done=saved"  # type: ignore[attr-defined]
    doc = kb.store.get(mine)
    assert (doc.title, doc.tags, doc.body) == ("Vendor selection slipped twice", ["vendor", "調達"], form["body"])
    assert kb.store.get(theirs).title == "Budget overrun"
    assert any(e.action == "update" and e.target == mine for e in kb.audit.events())
    # searchable at once under the new words
    hits = site.get("/api/search", params={"q": "RFP"}, headers=tanaka).json()["hits"]
    assert mine in [h["id"] for h in hits]


def test_a_reader_cannot_edit_and_an_admin_can(site: TestClient) -> None:
    doc = create(site, "tanaka", **LESSON)
    reader = token(site, "yamada", Role.reader)
    assert site.get(f"/documents/{doc}/edit", headers=reader).status_code == 403
    admin = token(site, "boss", Role.pmo_admin)
    response = post(site, f"/documents/{doc}/edit", admin, title="Fixed by the PMO", body="b", tags="")
    assert response.status_code == 303  # type: ignore[attr-defined]


def test_editing_a_published_template_makes_a_new_draft_version(site: TestClient) -> None:
    kb = site.app.state.kb  # type: ignore[attr-defined]
    original = OriginalFile(filename="report.xlsx", media_type="application/octet-stream", data=b"xlsx bytes")
    published = create(
        site,
        "boss",
        kind=Kind.template,
        title="Status report",
        body="## Weekly status",
        status=Status.published,
        version="1.2",
        original=original,
    )
    admin = token(site, "boss", Role.pmo_admin)
    form_page = site.get(f"/documents/{published}/edit", headers=admin).text
    assert 'id="new-version-notice"' in form_page and 'value="1.3"' in form_page  # the next version proposed
    response = post(
        site,
        f"/documents/{published}/edit",
        admin,
        title="Status report",
        body="## Weekly status\n\nRisks first.",
        tags="",
        version="1.3",
    )
    location = response.headers["location"]  # type: ignore[attr-defined]
    new_id = re.match(r"/documents/([^?]+)\?done=new_version", location)
    assert new_id and new_id.group(1) != published
    old, new = kb.store.get(published), kb.store.get(new_id.group(1))
    assert (old.status, old.body, old.attachment_id) == (Status.published, "## Weekly status", original.digest)
    assert (new.status, new.version, new.supersedes, new.created_by) == (Status.draft, "1.3", "Status report", "boss")
    assert site.get(f"/documents/{published}/original", headers=admin).content == b"xlsx bytes"  # the file is kept
    # the review flow takes it from here: submit, approve, and the old version is superseded
    for action in ("submit", "approve"):
        site.post(f"/api/documents/{new.id}/lifecycle", json={"action": action}, headers=admin).raise_for_status()
    assert kb.store.get(published).status is Status.superseded
    assert "revise" in [e.action for e in kb.audit.events()]


def test_delete_asks_first_then_deletes(site: TestClient) -> None:
    tanaka = token(site, "tanaka", Role.contributor)
    doc = create(site, "tanaka", **LESSON)
    page = site.get(f"/documents/{doc}/delete", headers=tanaka)
    assert 'id="delete-confirm"' in page.text
    kb = site.app.state.kb  # type: ignore[attr-defined]
    assert kb.store.get(doc)  # asking deletes nothing
    response = post(site, f"/documents/{doc}/delete", tanaka)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert site.get(f"/documents/{doc}", headers=tanaka).status_code == 404
    assert any(e.action == "delete" and e.target == doc for e in kb.audit.events())


def test_a_reader_reports_a_hit_outdated_and_the_owner_sees_it(site: TestClient) -> None:
    kb = site.app.state.kb  # type: ignore[attr-defined]
    doc = create(site, "tanaka", **LESSON)
    other = create(site, "suzuki", **{**LESSON, "title": "Budget overrun", "body": "Track the budget weekly."})
    reader = token(site, "yamada", Role.reader)
    page = site.get("/", params={"q": "vendor criteria"}, headers=reader).text
    # every signed-in reader sees the buttons, outside the collapsed explanation
    hit = page[page.index(f'id="hit-{doc}"') :]
    assert hit.index('class="fb-outdated"') < hit.index('class="why"')
    response = post(
        site,
        "/feedback",
        reader,
        document_id=doc,
        query="vendor criteria",
        verdict="outdated",
        comment="RFP rules changed in 2025",
        back="/?q=vendor+criteria",
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    (row,) = [f for f in _feedback(kb) if f.document_id == doc]
    assert (row.verdict, row.comment, row.actor, row.helpful) == (
        "outdated",
        "RFP rules changed in 2025",
        "yamada",
        False,
    )
    tanaka = token(site, "tanaka", Role.contributor)
    queue = site.get("/reviews", headers=tanaka).text
    section = queue[queue.index('id="outdated-reports"') : queue.index('id="review-queue"')]
    assert "Vendor selection slipped" in section and "RFP rules changed in 2025" in section
    suzuki = token(site, "suzuki", Role.contributor)
    assert "RFP rules changed" not in site.get("/reviews", headers=suzuki).text  # not their document
    admin = token(site, "boss", Role.pmo_admin)
    assert "RFP rules changed in 2025" in site.get("/dashboard", headers=admin).text
    assert "RFP rules changed in 2025" in site.get("/dashboard/outdated.csv", headers=admin).text
    # the owner deals with it: it leaves the queue
    assert post(site, f"/feedback/{row.id}/resolve", suzuki).status_code == 403  # type: ignore[attr-defined]
    post(site, f"/feedback/{row.id}/resolve", tanaka)
    assert "RFP rules changed" not in site.get("/reviews", headers=tanaka).text
    assert {"feedback", "feedback_resolve"} <= {e.action for e in kb.audit.events()}
    assert other  # the other document got nothing
    assert not [f for f in _feedback(kb) if f.document_id == other]


def test_the_review_queue_names_the_reporter_by_display_name_in_both_languages(site: TestClient) -> None:
    kb = site.app.state.kb  # type: ignore[attr-defined]
    doc = create(site, "tanaka", **LESSON)
    reader = token(site, "yamada", Role.reader)
    kb.accounts.update_user("yamada", display_name="山田 花子", by="boss")
    post(site, "/feedback", reader, document_id=doc, query="", verdict="outdated", comment="RFP rules changed")
    # a report whose author has no account here (a removed login): the login is all there is to show
    feedback.record(kb.store, doc_id=doc, verdict=Verdict.outdated, query="", comment="old RFP", by="ghost")
    tanaka = token(site, "tanaka", Role.contributor)
    for lang in ("en", "ja"):
        site.cookies.set("kb_lang", lang)
        page = site.get("/reviews", headers=tanaka).text
        section = page[page.index('id="outdated-reports"') : page.index('id="review-queue"')]
        reporters = re.findall(r'<span class="meta">([^<·]*) ·', section)
        assert [r.strip() for r in reporters] == ["ghost", "山田 花子"], lang  # newest first; never "yamada"


def test_the_review_queue_names_submitters_and_owners_by_display_name_in_both_languages(site: TestClient) -> None:
    kb = site.app.state.kb  # type: ignore[attr-defined]
    boss = token(site, "boss", Role.pmo_admin)
    token(site, "tanaka", Role.contributor)
    kb.accounts.update_user("tanaka", display_name="田中 一郎", by="boss")
    standard = {"kind": Kind.template, "body": "Fill in every section."}
    create(site, "tanaka", **standard, title="RFP template", status=Status.in_review)
    create(site, "ghost", **standard, title="Old checklist", status=Status.in_review)  # no account: the login
    past = {**standard, "status": Status.published}
    create(site, "boss", **past, title="Risk register", owner="Tanaka", review_by=dt.date(2020, 1, 1))
    create(site, "boss", **past, title="Kickoff deck", owner="PMO office", review_by=dt.date(2021, 1, 1))
    for lang, heading in (("en", "Waiting for review"), ("ja", "レビュー待ち")):
        site.cookies.set("kb_lang", lang)
        page = site.get("/reviews", headers=boss).text
        assert heading in page
        queue = page[page.index('id="review-queue"') : page.index('id="my-drafts"')]
        submitters = [m.strip() for m in re.findall(r'<span class="meta">([^<]*)</span>', queue)]
        assert sorted(submitters) == ["ghost", "田中 一郎"], lang
        overdue = page[page.index('id="overdue-reviews"') :]
        owners = [m.strip() for m in re.findall(r'<span class="meta">([^<]*)</span>', overdue)]
        # oldest first; an owner naming a login (in any case) by its display name, free text as written
        assert owners == ["田中 一郎", "PMO office"], lang
        assert "tanaka" not in (queue + overdue).casefold()


def test_feedback_needs_a_sign_in_but_not_the_contributor_role(site: TestClient, web_settings: Settings) -> None:
    doc = create(site, "tanaka", **LESSON)
    reader = token(site, "yamada", Role.reader)
    response = site.post("/api/feedback", json={"document_id": doc, "verdict": "helpful"}, headers=reader)
    assert response.status_code == 204
    anonymous = web_settings.model_copy(update={"anonymous_role": "reader"})
    with TestClient(create_app(anonymous, embedder=HashingEmbedder())) as open_site:
        assert 'class="fb-outdated"' not in open_site.get(f"/documents/{doc}").text
        refused = open_site.post("/api/feedback", json={"document_id": doc, "verdict": "outdated"})
        assert refused.status_code == 401


def _feedback(kb: object) -> list[object]:
    from sqlmodel import select

    from kb.record.models import Feedback

    with kb.store.db.reading() as session:  # type: ignore[attr-defined]
        return list(session.exec(select(Feedback)))


def test_the_library_names_owners_by_display_name_in_both_languages(site: TestClient) -> None:
    kb = site.app.state.kb  # type: ignore[attr-defined]
    boss = token(site, "boss", Role.pmo_admin)
    token(site, "tanaka", Role.contributor)
    kb.accounts.update_user("tanaka", display_name="田中 一郎", by="boss")
    published = {"kind": Kind.template, "body": "Fill in every section.", "status": Status.published}
    create(site, "boss", **published, title="Risk register", owner="Tanaka")
    create(site, "boss", **published, title="Kickoff deck", owner="PMO office")
    for lang in ("en", "ja"):
        site.cookies.set("kb_lang", lang)
        page = site.get("/library", headers=boss).text
        rows = {}
        for row in page.split('<tr class="status-row-')[1:]:
            title = re.search(r'<a href="/documents/[^"]+">([^<]+)</a>', row)
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row.split("</tr>")[0], re.S)
            if title:
                rows[title.group(1)] = cells[3].strip()  # title, version, status, owner, …
        assert rows["Risk register"] == "田中 一郎" and rows["Kickoff deck"] == "PMO office", (lang, rows)
