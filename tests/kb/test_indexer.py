"""The indexer follows the store's change log, saves immutable generations and never mixes embedders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb.engine import KnowledgeBase
from kb.record.models import DocumentDraft, Kind
from kb.record.store import document_id
from kb.search.bodies import DocumentBodies
from kb.search.indexer import Indexer
from tests.conftest import HashingEmbedder


def draft(title: str, body: str, key: str = "main", **kw: object) -> DocumentDraft:
    return DocumentDraft.model_validate({"kind": Kind.lesson, "title": title, "body": body, "key": key, **kw})


def ids_found(kb: KnowledgeBase, query: str) -> list[str]:
    return [h.document.id for h in kb.searcher.search(query, mode="lexical").hits]


def test_catch_up_follows_adds_updates_and_deletes(knowledge_base: KnowledgeBase) -> None:
    kb = knowledge_base
    kb.store.replace_source("/a.md", "1", [draft("Vendor selection", "The shortlist took ten weeks.")])
    kb.store.replace_source("/b.md", "1", [draft("テスト計画", "結合テストのデータ準備が遅れた。")])
    assert kb.indexer.pending() == 2
    assert kb.catch_up() == 2 and kb.indexer.pending() == 0
    a, b = document_id("/a.md", "main"), document_id("/b.md", "main")
    assert ids_found(kb, "shortlist") == [a]
    assert ids_found(kb, "テストデータ") == [b]
    kb.store.replace_source("/a.md", "2", [draft("Vendor selection", "Criteria were agreed late.")])
    kb.store.remove_source("/b.md")
    assert kb.catch_up() == 2
    assert ids_found(kb, "shortlist") == [] and ids_found(kb, "criteria") == [a]
    assert ids_found(kb, "テストデータ") == []
    stats = kb.indexer.stats()
    assert (stats["documents"], stats["vectors"]) == (1, len(kb.store.chunks([a])))


def test_saved_generation_reloads_and_catches_up(knowledge_base: KnowledgeBase, embedder: HashingEmbedder) -> None:
    kb = knowledge_base
    kb.store.replace_source("/a.md", "1", [draft("Escalation", "Escalate within one business day.")])
    kb.catch_up()
    kb.store.replace_source("/b.md", "1", [draft("Release", "Freeze the code two days before release.")])
    directory = kb.settings.data_dir / "index"
    reopened = Indexer.open(kb.store, embedder, directory)
    assert reopened.seq == 1 and reopened.pending() == 1
    reopened.catch_up()
    assert set(reopened.docs) == {document_id("/a.md", "main"), document_id("/b.md", "main")}


def test_a_crash_while_saving_leaves_the_last_generation(
    knowledge_base: KnowledgeBase, embedder: HashingEmbedder
) -> None:
    kb = knowledge_base
    kb.store.replace_source("/a.md", "1", [draft("Escalation", "Escalate within one business day.")])
    kb.catch_up()
    directory = kb.settings.data_dir / "index"
    # A save interrupted before the pointer swap leaves a temporary folder behind.
    (directory / ".gen-9.tmp").mkdir()
    (directory / ".gen-9.tmp" / "state.json").write_text("{broken", encoding="utf-8")
    reopened = Indexer.open(kb.store, embedder, directory)
    assert reopened.seq == 1 and len(reopened.docs) == 1
    assert [p.name for p in directory.glob("gen-*")] == [(directory / "CURRENT").read_text(encoding="utf-8")]


def test_another_embedder_never_reuses_the_old_vectors(knowledge_base: KnowledgeBase) -> None:
    kb = knowledge_base
    kb.store.replace_source("/a.md", "1", [draft("Escalation", "Escalate within one business day.")])
    kb.catch_up()

    class Other(HashingEmbedder):
        identity = "test-hashing-v2"

    fresh = Indexer.open(kb.store, Other(), kb.settings.data_dir / "index")
    assert fresh.seq == 0 and fresh.pending() == 1 and len(fresh.vectors) == 0
    fresh.catch_up()
    fresh.save()
    state = json.loads((Path(fresh.directory) / (fresh.directory / "CURRENT").read_text() / "state.json").read_text())
    assert state["embedder"] == "test-hashing-v2"


def test_reindex_builds_aside_and_swaps(knowledge_base: KnowledgeBase) -> None:
    kb = knowledge_base
    kb.store.replace_source("/a.md", "1", [draft("Escalation", "Escalate within one business day.")])
    kb.catch_up()
    old = kb.indexer
    kb.reindex()
    assert kb.indexer is not old and kb.searcher.indexer is kb.indexer
    assert ids_found(kb, "escalate") == [document_id("/a.md", "main")]
    assert len(list((kb.settings.data_dir / "index").glob("gen-*"))) == 1


class CountingEmbedder(HashingEmbedder):
    """Counts the texts it is asked to embed."""

    def __init__(self) -> None:
        self.embedded = 0

    def embed_documents(self, texts):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return super().embed_documents(texts)


def test_vectors_are_embedded_once_and_a_new_replica_or_rebuild_reads_them(
    knowledge_base: KnowledgeBase, tmp_path: Path
) -> None:
    kb = knowledge_base
    for n in range(5):
        kb.store.replace_source(f"/{n}.md", "1", [draft(f"Lesson {n}", f"Body number {n}. " * 30)])
    first = CountingEmbedder()
    a = Indexer(kb.store, first, tmp_path / "a")
    a.catch_up()
    chunks = len(a.chunk_doc)
    assert first.embedded == chunks > 5
    second = CountingEmbedder()
    b = Indexer(kb.store, second, tmp_path / "b")  # a fresh replica: same store, empty index dir
    b.catch_up()
    assert second.embedded == 0 and len(b.vectors) == chunks
    probe = second.embed_query("Body number 3")
    ids = np.array(sorted(a.chunk_doc), dtype=np.int64)
    assert np.allclose(a.vectors.scores(probe, ids), b.vectors.scores(probe, ids))
    kb.store.replace_source("/0.md", "2", [draft("Lesson 0", "Rewritten entirely.")])
    b.catch_up()
    assert second.embedded == 2  # the new title chunk and body chunk only
    stale = len(kb.store.load_vectors(first.identity, list(a.text_hashes)))
    kb.indexer, kb.embedder = b, second
    kb.reindex()  # rebuilds (reading stored vectors) and prunes the ones no chunk uses any more
    assert second.embedded == 2
    assert len(kb.store.load_vectors(first.identity, list(a.text_hashes))) < stale


def test_a_generation_from_an_older_lexical_format_is_rebuilt(knowledge_base: KnowledgeBase) -> None:
    """An index saved before the gloss field (or with another dictionary) is not loaded: it is rebuilt."""
    kb = knowledge_base
    kb.store.replace_source("/a.md", "1", [draft("ベンダー選定", "評価基準を先に決める。")])
    kb.catch_up()
    directory = kb.settings.data_dir / "index"
    state_file = directory / (directory / "CURRENT").read_text() / "state.json"
    state = json.loads(state_file.read_text())
    assert state["lexical"] == kb.indexer.lexical.identity
    state["lexical"] = "kb-bm25/1"
    state_file.write_text(json.dumps(state))
    fresh = Indexer.open(kb.store, kb.embedder, directory)
    assert fresh.seq == 0 and fresh.pending() == 1


def test_a_snapshot_is_a_consistent_read_only_view_that_later_writes_do_not_change(
    knowledge_base: KnowledgeBase,
) -> None:
    """Callers read documents, watermark and version from one snapshot, with no lock and no copy of their own."""
    kb = knowledge_base
    kb.store.replace_source("/a.md", "1", [draft("Vendor selection", "The shortlist took ten weeks.")])
    kb.catch_up()
    before = kb.indexer.snapshot()
    a = document_id("/a.md", "main")
    assert set(before.docs) == {a} and before.seq == kb.store.last_seq()
    assert kb.indexer.snapshot() is before  # nothing changed: the same view, no copy
    with pytest.raises(TypeError):
        before.docs[a] = before.docs[a]  # type: ignore[index]  # read-only
    kb.store.replace_source("/b.md", "1", [draft("Budget", "The estimate doubled.")])
    kb.catch_up()
    after = kb.indexer.snapshot()
    assert set(before.docs) == {a} and set(after.docs) == {a, document_id("/b.md", "main")}
    assert (after.seq, after.version) > (before.seq, before.version)
    assert after.seq == kb.indexer.seq and after.docs == kb.indexer.docs


def _expected_body(indexer: Indexer, doc_id: str) -> np.ndarray:
    info = indexer.docs[doc_id]
    rest = info.chunk_ids[1:] if info.kind in ("lesson", "faq") and len(info.chunk_ids) > 1 else info.chunk_ids
    total = indexer.vectors.stored(np.array(rest, dtype=np.int64)).sum(axis=0)
    return total / np.linalg.norm(total)


def test_each_document_s_body_vector_is_kept_through_updates_deletes_and_reloading(
    knowledge_base: KnowledgeBase, embedder: HashingEmbedder
) -> None:
    """Near-duplicate folding reads bodies the indexer worked out (kb.search.bodies), never stale ones."""
    kb = knowledge_base
    long = "\n\n".join(
        f"Step {n}: the cutover rehearsal found a missing data mapping in area {n}." * 8 for n in range(6)
    )
    kb.store.replace_source("/a.md", "1", [draft("Cutover rehearsal", long)])
    kb.store.replace_source("/t.md", "1", [draft("Status report", long, kind=Kind.template)])
    kb.store.replace_source("/b.md", "1", [draft("Escalation", "Escalate within one business day.")])
    kb.catch_up()
    a, t, b = (document_id(f"/{x}.md", "main") for x in "atb")
    assert len(kb.indexer.docs[a].chunk_ids) > 2 and len(kb.indexer.docs[t].chunk_ids) > 1
    for doc_id in (a, t, b):  # a lesson's body leaves its title chunk out; a template's is every chunk
        assert np.allclose(kb.indexer.bodies.get([doc_id])[0], _expected_body(kb.indexer, doc_id), atol=1e-6)

    kb.store.replace_source("/a.md", "2", [draft("Cutover rehearsal", "Only one short paragraph now.")])
    kb.store.remove_source("/b.md")
    kb.catch_up()
    assert np.allclose(kb.indexer.bodies.get([a])[0], _expected_body(kb.indexer, a), atol=1e-6)
    assert np.isnan(kb.indexer.bodies.get([b])).all() and len(kb.indexer.bodies) == 2

    kb.indexer.save()
    reopened = Indexer.open(kb.store, embedder, kb.settings.data_dir / "index")
    assert reopened.bodies.get([a, t]).tobytes() == kb.indexer.bodies.get([a, t]).tobytes()
    assert np.isnan(reopened.bodies.get(["missing"])).all()


def test_document_bodies_reuse_the_rows_of_dropped_documents() -> None:
    bodies = DocumentBodies(2)
    bodies.put(["a", "b"], np.array([[1, 0], [0, 1]], dtype=np.float32))
    bodies.drop(["a", "unknown"])
    bodies.put(["c"], np.array([[0.5, 0.75]], dtype=np.float32))
    assert len(bodies) == 2 and bodies.get(["c", "b"]).tolist() == [[0.5, 0.75], [0.0, 1.0]]
    assert np.isnan(bodies.get(["a"])).all()
    bodies.put(["b"], np.array([[1, 0]], dtype=np.float32))  # re-indexed: replaced in place
    assert bodies.get(["b"]).tolist() == [[1.0, 0.0]] and len(bodies) == 2
