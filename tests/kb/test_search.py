"""Hybrid search over a small store: grouping, filters, snippets, explanations, modes."""

from __future__ import annotations

import datetime as dt

import pytest

from kb.engine import KnowledgeBase
from kb.record.models import DocumentDraft, Kind, Status
from kb.record.store import document_id
from kb.search.fusion import DENSE_WEIGHT, LONG_QUERY_WORDS, Weights
from kb.search.indexer import index_text
from kb.search.searcher import Filters, Searcher

LONG = "\n\n".join(f"## 手順{i}\n\n" + "承認の前に関係部門の合意を取る。" * 20 for i in range(4))


@pytest.fixture
def kb(knowledge_base: KnowledgeBase) -> KnowledgeBase:
    docs = [
        (
            "/l1.md",
            {
                "kind": Kind.lesson,
                "title": "ベンダー選定の遅延",
                "body": "評価基準を決めずにRFPを出し、ベンダー選定が3か月遅延した。",
                "language": "ja",
                "project": "基幹システム刷新",
                "phase": "企画",
                "tags": ["vendor"],
                "doc_date": "2025-03-01",
            },
        ),
        (
            "/l2.md",
            {
                "kind": Kind.lesson,
                "title": "Vendor selection delays",
                "body": "Decision latency delayed vendor selection.",
                "language": "en",
                "project": "CRM Migration",
                "phase": "planning",
                "tags": ["vendor"],
                "doc_date": "2024-06-01",
            },
        ),
        (
            "/t1.md",
            {
                "kind": Kind.template,
                "title": "ベンダー評価シート",
                "body": "| 評価項目 | 配点 |\n|---|---|\n| 価格 | 30 |",
                "language": "ja",
                "status": Status.draft,
            },
        ),
        ("/p1.md", {"kind": Kind.procedure, "title": "変更管理手順", "body": LONG, "language": "ja"}),
    ]
    for path, fields in docs:
        knowledge_base.store.replace_source(path, "h", [DocumentDraft.model_validate(fields)])
    knowledge_base.catch_up()
    return knowledge_base


def test_hybrid_finds_and_explains(kb: KnowledgeBase) -> None:
    result = kb.searcher.search("ベンダー選定 遅延")
    top = result.hits[0]
    assert top.document.id == document_id("/l1.md", "main")
    assert top.explanation.lexical_rank == 1 and top.explanation.dense_rank is not None
    assert top.explanation.lexical_score and top.explanation.lexical_score > 0
    assert top.explanation.matched_words == ["ベンダー", "選定", "遅延"] and top.explanation.match in ("good", "strong")
    marked = [s.text for s in top.snippet if s.match]
    assert "遅延" in marked and any("ベンダー" in m for m in marked)
    assert result.total >= 2 and result.took_ms > 0


def test_a_long_document_is_one_hit(kb: KnowledgeBase) -> None:
    assert len(kb.store.chunks([document_id("/p1.md", "main")])) > 2
    hits = kb.searcher.search("関係部門の合意", mode="lexical").hits
    assert [h.document.id for h in hits].count(document_id("/p1.md", "main")) == 1


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(kinds=("template",)), ["/t1.md"]),
        (Filters(languages=("en",)), ["/l2.md"]),
        (Filters(projects=("基幹システム刷新",)), ["/l1.md"]),
        (Filters(tags=("vendor",), phases=("planning",)), ["/l2.md"]),
        (Filters(statuses=("draft",)), ["/t1.md"]),
        (Filters(date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31)), ["/l1.md"]),
        (Filters(kinds=("faq",)), []),
    ],
)
def test_filters_apply_to_both_legs(kb: KnowledgeBase, filters: Filters, expected: list[str]) -> None:
    for mode in ("hybrid", "lexical", "dense"):
        hits = kb.searcher.search("ベンダー vendor", filters=filters, mode=mode).hits  # type: ignore[arg-type]
        assert {h.document.id for h in hits} <= {document_id(p, "main") for p in expected}, mode
    hybrid = kb.searcher.search("ベンダー vendor", filters=filters).hits
    assert sorted(h.document.id for h in hybrid) == sorted(document_id(p, "main") for p in expected)


def test_modes_use_one_leg_each(kb: KnowledgeBase) -> None:
    lexical = kb.searcher.search("vendor", mode="lexical").hits
    assert lexical and all(h.explanation.dense_rank is None for h in lexical)
    dense = kb.searcher.search("vendor", mode="dense").hits
    assert len(dense) == 4 and all(h.explanation.lexical_rank is None for h in dense)


def test_paging_and_empty_queries(kb: KnowledgeBase) -> None:
    everything = [h.document.id for h in kb.searcher.search("ベンダー vendor 手順", limit=10).hits]
    page2 = [h.document.id for h in kb.searcher.search("ベンダー vendor 手順", limit=2, offset=2).hits]
    assert page2 == everything[2:4]
    assert kb.searcher.search("   ").hits == []


def test_deleted_documents_disappear_after_catch_up(kb: KnowledgeBase) -> None:
    kb.store.remove_source("/l2.md")
    kb.catch_up()
    assert all(h.document.id != document_id("/l2.md", "main") for h in kb.searcher.search("vendor").hits)


def test_facets_count_every_result_not_just_the_page(kb: KnowledgeBase) -> None:
    result = kb.searcher.search("ベンダー vendor", limit=1)
    facets = result.facets
    assert len(result.hits) == 1 and result.total >= 3
    assert dict(facets["kind"])["lesson"] == 2
    assert dict(facets["tags"]) == {"vendor": 2}
    assert dict(facets["language"])["ja"] >= 2


def test_the_dense_leg_scores_lexical_hits_its_own_top_k_missed(kb: KnowledgeBase) -> None:
    # A floor no cosine reaches leaves the dense leg with no ranked document; every
    # lexical hit still gets its real document score, unranked, for the fusion.
    searcher = Searcher(kb.indexer, min_dense_score=1.01)
    query = "ベンダー"
    legs = searcher.legs(query, Filters(), 10)
    lexical, dense = legs.lexical, legs.dense
    assert dense.order == [] and len(lexical.order) >= 2
    missed = lexical.order
    q = kb.embedder.embed_query(query)
    for doc_id in missed:
        chunk_id, score = dense.best[doc_id]
        chunks = kb.store.chunks([doc_id])
        doc = kb.store.get_many([doc_id])[0]
        cosines = kb.embedder.embed_documents([index_text(doc.title, c) for c in chunks]) @ q
        assert score == pytest.approx(_document_score(str(doc.kind), cosines.tolist()), abs=1e-5)
        assert chunk_id == chunks[int(cosines.argmax())].id
    hit = next(h for h in searcher.search(query, limit=10).hits if h.document.id == missed[0])
    assert hit.explanation.dense_rank is None and hit.explanation.dense_score == pytest.approx(dense.best[missed[0]][1])
    # the single modes stay single: no completion outside hybrid
    assert searcher.legs(query, Filters(), 10, "dense").dense.best == {}


def test_an_faq_found_by_its_question_shows_its_answer(kb: KnowledgeBase) -> None:
    answer = "ログイン画面の再設定リンクからメールを送ってください。"
    faq = {"kind": Kind.faq, "title": "パスワードを忘れたときは？", "body": answer, "language": "ja"}
    kb.store.replace_source("/faq.md", "h", [DocumentDraft.model_validate(faq)])
    kb.catch_up()
    doc_id = document_id("/faq.md", "main")
    question, first_answer = kb.store.chunks([doc_id])
    assert question.text == "パスワードを忘れたときは？"
    # The question chunk is the best lexical match (the answer chunk repeats the title, at more length)...
    lexical = kb.searcher.legs("パスワード 忘れた", Filters(), 10).lexical
    assert lexical.best[doc_id][0] == question.id
    # ...but the snippet shows the answer, since the hit line already shows the question.
    hit = next(h for h in kb.searcher.search("パスワード 忘れた").hits if h.document.id == doc_id)
    assert hit.chunk_id == first_answer.id
    assert "".join(s.text for s in hit.snippet).startswith("ログイン画面")


def _document_score(kind: str, cosines: list[float]) -> float:
    """The dense document score by hand: for FAQs and lessons, the mean of the lead chunk's and the best
    other chunk's cosine; otherwise (and for one chunk) the best chunk's."""
    if kind not in ("faq", "lesson") or len(cosines) == 1:
        return max(cosines)
    return (cosines[0] + max(cosines[1:])) / 2


def test_a_documents_dense_score_blends_its_lead_chunk_with_its_best_passage(kb: KnowledgeBase) -> None:
    """A long FAQ or lesson does not outrank on one stray passage alone: its lead chunk counts half."""
    searcher = Searcher(kb.indexer)
    query = "vendor selection"
    legs = searcher.legs(query, Filters(), 50, mode="dense")
    q = kb.embedder.embed_query(query)
    blended = kept = 0
    for doc_id in legs.dense.order:
        chunks = kb.store.chunks([doc_id])
        doc = kb.store.get_many([doc_id])[0]
        cosines = (kb.embedder.embed_documents([index_text(doc.title, c) for c in chunks]) @ q).tolist()
        if len(cosines) > 1:
            blended += doc.kind in ("faq", "lesson")
            kept += doc.kind not in ("faq", "lesson")
        assert legs.dense.best[doc_id][1] == pytest.approx(_document_score(str(doc.kind), cosines), abs=1e-5)
    assert blended >= 1, "the fixture should hold a lesson or FAQ of several chunks"
    scores = [legs.dense.best[d][1] for d in legs.dense.order]
    assert scores == sorted(scores, reverse=True)


def test_a_filtered_search_survives_a_save_that_compacts_without_a_write(kb: KnowledgeBase) -> None:
    """The follower's idle save compacts dead lexical rows without a write: cached row masks must not outlive it."""
    fields = {"kind": Kind.faq, "title": "一時的な質問", "body": "すぐ消す", "language": "ja"}
    kb.store.replace_source("/tmp.md", "h", [DocumentDraft.model_validate(fields)])
    kb.catch_up(save=False)
    kb.store.remove_source("/tmp.md")
    kb.catch_up(save=False)
    assert kb.indexer.lexical._dead, "the removal should leave dead rows for the save to compact"
    lessons = Filters(kinds=("lesson",))
    before = [h.document.id for h in kb.searcher.search("vendor", filters=lessons).hits]
    version = kb.indexer.version
    kb.indexer.save()
    assert kb.indexer.version == version and not kb.indexer.lexical._dead
    after = [h.document.id for h in kb.searcher.search("vendor", filters=lessons).hits]
    assert after == before and document_id("/l2.md", "main") in after


def test_a_long_query_weighs_meaning_less(kb: KnowledgeBase) -> None:
    """kb.search.fusion.Weights reaches the ranking: a pasted narrative leans on its words."""
    searcher = kb.searcher
    short = "ベンダー選定の遅延"
    narrative = (
        "ベンダー選定が遅延した。評価基準を決めずにRFPを出し、提案の比較に時間がかかった。"
        "要件定義と見積の前提がそろわず、契約交渉、稟議、予算承認、体制構築、移行計画、教育、運用設計も遅れた。"
    )
    for query, long in ((short, False), (narrative, True)):
        legs = searcher.legs(query, Filters(), 10)
        scores = searcher._calibrated("hybrid", legs)
        assert (legs.words > LONG_QUERY_WORDS) is long
        assert {legs.docs[d].language for d in scores} == {"ja", "en"}  # both rules are exercised
        weights = Weights.of(words=legs.words, language="ja")
        for doc_id in scores:
            same = legs.docs[doc_id].language == "ja"
            expected = weights.dense if same else weights.dense_across
            assert scores[doc_id].dense_weight == pytest.approx(expected)
            assert (expected < DENSE_WEIGHT) is long
