"""Explanations on the demo with the real embedder: words as written, never an index term (slow)."""

from __future__ import annotations

import pytest

from kb.engine import KnowledgeBase
from kb.pmo.brief import BriefRequest, make_brief
from kb.search.language import has_japanese
from tests import test_search_demo

pytestmark = pytest.mark.slow
demo = test_search_demo.demo  # the demo knowledge base, built once per module

QUERIES = [
    "打ち上げ前の試験不足",
    "ソフトウェアの要求変更",
    "基幹システム刷新のテスト計画",
    "要件定義書の作成",
    "ベンダー選定の遅延",
    "data migration",
    "vendor selection delays",
    "test plan for the core system renewal",
    "CRM 移行 リハーサル",
]


def query_words(kb: KnowledgeBase, text: str) -> set[str]:
    """The words of ``text`` an explanation may name: as written, no piece of a longer word."""
    return {w.text for w in kb.indexer.lexical.analyzer.written_words(text) if w.alone}


@pytest.mark.parametrize("query", QUERIES)
def test_explanations_name_query_words_and_document_words_only(demo: KnowledgeBase, query: str) -> None:
    """No stem (migrat), no bigram (ー選, 幹シ), no lone character that is not a query word, named or marked."""
    allowed = query_words(demo, query)
    hits = demo.searcher.search(query, limit=20, weak=True).hits
    assert hits
    for hit in hits:
        e = hit.explanation
        assert set(e.matched_words) <= allowed, hit.document.title
        doc = demo.store.get(hit.document.id)
        text = f"{doc.title}\n{doc.body}"
        for word, theirs in e.via_translation:
            assert word in allowed and theirs in text and len(theirs) > 1, (hit.document.title, word, theirs)
        for segment in (s for s in hit.snippet if s.match):
            if has_japanese(segment.text):
                assert len(segment.text) > 1 or segment.text in allowed, (hit.document.title, segment.text)
            else:
                assert segment.text[:1].isalnum() and segment.text[-1:].isalnum(), segment.text  # a whole word
    assert any(h.explanation.matched_words or h.explanation.via_translation for h in hits)


def test_the_launch_query_marks_no_lone_character(demo: KnowledgeBase) -> None:
    """前 of 打ち上げ前 used to be marked alone in every 「…前に…」 text."""
    for hit in demo.searcher.search("打ち上げ前の試験不足", limit=20, weak=True).hits:
        assert "前" not in [s.text for s in hit.snippet if s.match]
        assert "前" not in hit.explanation.matched_words


@pytest.mark.parametrize(
    "description",
    [
        "基幹システム刷新のテスト計画を立てる。ベンダー選定が遅れないようにしたい。",
        "We are migrating the CRM. Key dates for the project are fixed by the vendor.",
    ],
)
def test_brief_reasons_name_words_of_their_reason(demo: KnowledgeBase, description: str) -> None:
    """The brief once gave 「幹シ, ム刷」 and "date, key, project" (stems) as reasons."""
    brief = make_brief(demo.searcher, demo.store, BriefRequest(description), visible_to=None)
    items = brief.items()
    assert items and any(i.matched or i.via_translation for i in items)
    for item in items:
        allowed = query_words(demo, item.reason)
        assert set(item.matched) <= allowed, (item.document.title, item.matched)
        assert all(word in allowed for word, _ in item.via_translation)
