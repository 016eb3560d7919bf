"""The Store contract: every implementation (SQLite, PostgreSQL) must pass these."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import Settings
from kb.errors import Conflict, InvalidInput, NotFound
from kb.pmo import feedback
from kb.pmo.analytics import SearchAnalytics
from kb.record.models import ChangeOp, DocumentDraft, Kind, OriginalFile, Status, Verdict
from kb.record.store import SqlStore, document_id, open_store


def lesson(key: str = "main", **kw: object) -> DocumentDraft:
    fields: dict[str, object] = {
        "kind": Kind.lesson,
        "title": "ベンダー選定の遅延",
        "body": "## 事象\n\n選定に3か月かかった。\n\n## 教訓\n\n基準を先に決める。",
        "language": "ja",
        "tags": ["vendor", "調達"],
        "key": key,
    }
    fields.update(kw)
    return DocumentDraft(**fields)  # type: ignore[arg-type]


def test_replace_source_adds_documents_chunks_and_changes(store: SqlStore) -> None:
    result = store.replace_source("/kb/a.md", "h1", [lesson("main"), lesson("lesson-1", title="二つ目")])
    assert sorted(result.added) == sorted([document_id("/kb/a.md", "main"), document_id("/kb/a.md", "lesson-1")])
    doc = store.get(document_id("/kb/a.md", "main"))
    assert doc.title == "ベンダー選定の遅延"
    assert doc.tags == ["vendor", "調達"]
    assert doc.kind is Kind.lesson and doc.status is Status.published
    assert doc.created_at.tzinfo is not None
    chunks = store.chunks([doc.id])
    # A lesson's title is a chunk of its own, first (see chunk_document), then its body.
    assert [c.position for c in chunks] == [0, 1] and chunks[0].text == doc.title
    assert "選定に3か月" in chunks[1].text
    assert [c.op for c in store.changes_since(0)] == [ChangeOp.upsert, ChangeOp.upsert]
    assert store.source_hash("/kb/a.md") == "h1"


def test_unchanged_items_are_left_alone(store: SqlStore) -> None:
    store.replace_source("/kb/a.md", "h1", [lesson("main"), lesson("lesson-1", title="二つ目")])
    seq = store.last_seq()
    before = store.chunks([document_id("/kb/a.md", "main")])
    result = store.replace_source("/kb/a.md", "h2", [lesson("main"), lesson("lesson-1", title="変更後")])
    assert result.unchanged == [document_id("/kb/a.md", "main")]
    assert result.updated == [document_id("/kb/a.md", "lesson-1")]
    assert [c.document_id for c in store.changes_since(seq)] == [document_id("/kb/a.md", "lesson-1")]
    assert [c.id for c in store.chunks([document_id("/kb/a.md", "main")])] == [c.id for c in before]
    assert store.get(document_id("/kb/a.md", "lesson-1")).title == "変更後"


def test_items_dropped_from_a_source_are_removed(store: SqlStore) -> None:
    store.replace_source("/kb/a.md", "h1", [lesson("main"), lesson("lesson-1")])
    result = store.replace_source("/kb/a.md", "h2", [lesson("main")])
    assert result.removed == [document_id("/kb/a.md", "lesson-1")]
    with pytest.raises(NotFound):
        store.get(document_id("/kb/a.md", "lesson-1"))
    assert store.changes_since(store.last_seq() - 1)[0].op is ChangeOp.delete


def test_duplicate_keys_are_rejected_and_nothing_is_written(store: SqlStore) -> None:
    with pytest.raises(InvalidInput, match="share the key"):
        store.replace_source("/kb/a.md", "h1", [lesson("x"), lesson("x")])
    assert store.counts().get("lesson", 0) == 0
    assert store.last_seq() == 0


def test_remove_source_and_source_paths(store: SqlStore) -> None:
    store.replace_source("/kb/docs/a.md", "h1", [lesson()])
    store.replace_source("/kb/docs/sub/b.md", "h2", [lesson()])
    store.replace_source("/kb/docs-other/c.md", "h3", [lesson()])
    assert store.source_paths(under="/kb/docs") == ["/kb/docs/a.md", "/kb/docs/sub/b.md"]
    result = store.remove_source("/kb/docs/a.md")
    assert result.removed == [document_id("/kb/docs/a.md", "main")]
    assert store.source_hash("/kb/docs/a.md") is None
    assert store.counts()["lesson"] == 2


def test_create_update_delete_single_documents(store: SqlStore) -> None:
    doc = store.create(lesson(title="フォームから"))
    assert store.get(doc.id).source_path is None
    updated = store.update(doc.id, lesson(title="更新"))
    assert updated.title == "更新" and updated.created_at == doc.created_at
    store.delete(doc.id)
    with pytest.raises(NotFound):
        store.get(doc.id)
    with pytest.raises(NotFound):
        store.delete(doc.id)
    assert [c.op for c in store.changes_since(0)] == [ChangeOp.upsert, ChangeOp.upsert, ChangeOp.delete]


def test_documents_filter_counts_and_children(store: SqlStore) -> None:
    parent = document_id("/kb/r.md", "main")
    store.replace_source(
        "/kb/r.md",
        "h",
        [
            DocumentDraft(kind=Kind.retrospective, title="Retro", body="## Lessons\n\n- a"),
            lesson("lesson-1", parent_id=parent),
            lesson("lesson-2", parent_id=parent, title="b"),
        ],
    )
    assert [d.kind for d in store.documents(kind=Kind.retrospective)] == [Kind.retrospective]
    assert [d.source_key for d in store.children(parent)] == ["lesson-1", "lesson-2"]
    counts = store.counts()
    assert counts["lesson"] == 2 and counts["retrospective"] == 1 and counts["sources"] == 1
    assert counts["chunks"] == 5  # the retrospective's one, and each lesson's title and body
    assert len(store.documents(limit=1, offset=1)) == 1


def test_export_import_round_trip(store: SqlStore, tmp_path: Path) -> None:
    store.replace_source("/kb/a.md", "h", [lesson(review_by="2027-01-31", meta={"x": [1, "二"]})])
    store.create(DocumentDraft(kind=Kind.faq, title="Q?", body="A.", question="Q?", answer="A."))
    records = list(store.export_records())
    target = open_store(Settings(data_dir=tmp_path / "other"))
    result = target.import_records(records)
    assert len(result.added) == 2
    assert list(target.export_records()) == records
    # importing again changes nothing; importing other content under an id is a conflict
    assert len(target.import_records(records).unchanged) == 2
    records[0]["title"] = "changed"
    with pytest.raises(Conflict):
        target.import_records(records)
    target.close()


def test_import_is_all_or_nothing(store: SqlStore) -> None:
    good = {"id": "abc", "kind": "lesson", "title": "t", "body": "b"}
    bad = {"id": "def", "kind": "nonsense", "title": "t", "body": "b"}
    with pytest.raises(InvalidInput, match="record 2"):
        store.import_records([good, bad])
    assert store.counts().get("lesson", 0) == 0


def test_get_unknown_id_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound, match="no document"):
        store.get("missing")


def template(data: bytes, key: str = "main") -> DocumentDraft:
    return DocumentDraft(
        kind=Kind.template,
        title="Risk register",
        body="| Risk | Owner |",
        key=key,
        original=OriginalFile(filename="risk-register.xlsx", media_type="application/vnd.ms-excel", data=data),
    )


def test_originals_are_kept_shared_and_dropped_when_unused(store: SqlStore) -> None:
    store.replace_source("/kb/t.xlsx", "h1", [template(b"v1"), template(b"v1", key="copy")])
    doc = store.get(document_id("/kb/t.xlsx", "main"))
    attachment = store.get_attachment(doc.attachment_id or "")
    assert (attachment.data, attachment.filename, attachment.size) == (b"v1", "risk-register.xlsx", 2)
    old = attachment.id
    store.replace_source("/kb/t.xlsx", "h2", [template(b"v2"), template(b"v1", key="copy")])
    assert store.get_attachment(old).data == b"v1"  # still used by "copy"
    store.replace_source("/kb/t.xlsx", "h3", [template(b"v2")])
    with pytest.raises(NotFound):
        store.get_attachment(old)
    new = store.get(document_id("/kb/t.xlsx", "main")).attachment_id or ""
    store.remove_source("/kb/t.xlsx")
    with pytest.raises(NotFound):
        store.get_attachment(new)


def test_originals_survive_export_and_import(store: SqlStore, tmp_path: Path) -> None:
    store.replace_source("/kb/t.xlsx", "h1", [template(b"\x00\x01binary")])
    records = list(store.export_records())
    target = open_store(Settings(data_dir=tmp_path / "other"))
    target.import_records(records)
    doc = target.get(document_id("/kb/t.xlsx", "main"))
    assert target.get_attachment(doc.attachment_id or "").data == b"\x00\x01binary"
    assert list(target.export_records()) == records
    target.close()


def test_search_analytics(store: SqlStore) -> None:
    doc = store.create(lesson())
    analytics = SearchAnalytics(store)
    analytics.record_search("ベンダー 遅延", {"kinds": ["lesson"]}, 3)
    analytics.record_search("ベンダー 遅延", {}, 2)
    analytics.record_search("稟議 電子化", {}, 0)
    analytics.record_search("稟議 電子化", {}, 0)
    analytics.record_search("budget freeze", {}, 0)
    for query, verdict in (
        ("ベンダー 遅延", Verdict.helpful),
        ("ベンダー 遅延", Verdict.not_helpful),
        ("x", Verdict.outdated),
    ):
        feedback.record(store, doc_id=doc.id, verdict=verdict, query=query, comment="", by="alice")
    report = analytics.report()
    assert (report.searches, report.zero_result_searches) == (5, 3)
    assert report.top_queries[0] == ("ベンダー 遅延", 2) or report.top_queries[0] == ("稟議 電子化", 2)
    assert report.zero_result_queries == [("稟議 電子化", 2), ("budget freeze", 1)]
    assert report.feedback == [(doc.id, 1, 2)]


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"])
def test_text_no_database_can_hold_is_refused_in_the_draft(text: str) -> None:
    """NUL (PostgreSQL refuses it) and lone surrogates (not UTF-8) are an InvalidInput naming the field, everywhere."""
    with pytest.raises(InvalidInput, match=r"^answer: "):
        DocumentDraft.model_validate({"kind": "faq", "title": "q", "answer": text})
    with pytest.raises(InvalidInput, match=r"^meta\.note: "):
        DocumentDraft.model_validate({"kind": "faq", "title": "q", "meta": {"note": text}})


def test_an_update_without_a_file_keeps_the_original(store: SqlStore) -> None:
    original = OriginalFile(filename="p.html", media_type="text/html", data=b"<p>v1</p>")
    doc = store.create(DocumentDraft(kind=Kind.procedure, title="P", body="v1", original=original))
    edited = store.update(doc.id, DocumentDraft(kind=Kind.procedure, title="P", body="v1, edited", version="2"))
    assert edited.attachment_id == original.digest and store.get_attachment(original.digest).data == b"<p>v1</p>"
    replaced = OriginalFile(filename="p.html", media_type="text/html", data=b"<p>v3</p>")
    again = store.update(doc.id, DocumentDraft(kind=Kind.procedure, title="P", body="v3", original=replaced))
    assert again.attachment_id == replaced.digest  # a new file replaces it
