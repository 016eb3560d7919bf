"""Language-fair ranking and the confidence line, on a small mixed store with a hand-made dictionary."""

from __future__ import annotations

import math

import pytest

from kb.engine import KnowledgeBase
from kb.record.models import DocumentDraft, Kind
from kb.record.store import document_id
from kb.search.lexical import Bm25Index
from kb.search.lexical.index import CEILING_TERMS
from kb.search.searcher import WEAK_FLOOR
from tests.kb.test_crosslanguage import DictGlossary


def _add(kb: KnowledgeBase, source: str, title: str, body: str, language: str) -> str:
    doc = DocumentDraft.model_validate({"kind": Kind.lesson, "title": title, "body": body, "language": language})
    kb.store.replace_source(source, source, [doc])
    return document_id(source, "main")


def test_the_ceiling_is_the_score_of_a_chunk_holding_every_query_word_once() -> None:
    ix = Bm25Index(translate=False, fallback=False, bigram_weight=0.0)
    ix.add([(1, "vendor delay"), (2, "vendor review"), (3, "budget review")])
    # idf = ln(1 + (N − df + 0.5) / (df + 0.5)) with N = 3: vendor df 2, delay df 1, a word no chunk holds df 0
    vendor, delay, unseen = math.log1p(1.5 / 2.5), math.log1p(2.5 / 1.5), math.log1p(3.5 / 0.5)
    assert ix.ceiling("vendor delay") == pytest.approx(vendor + delay)
    # a word no chunk holds raises the ceiling: no chunk can match the whole query any more
    assert ix.ceiling("vendor delay unseen") == pytest.approx(vendor + delay + unseen)
    # chunk 1 holds both words once at (about) average length: its score is (about) the ceiling
    (best, score), *_ = ix.search("vendor delay", 3)
    assert best == 1 and score / ix.ceiling("vendor delay") == pytest.approx(1.0, abs=0.05)


def test_a_strong_match_in_the_other_language_outranks_a_stray_same_language_word(
    knowledge_base: KnowledgeBase,
) -> None:
    """The mixed-store failure: 「前」 alone used to make a Japanese FAQ the best lexical hit, normalised to 1.0."""
    knowledge_base.indexer.lexical.glossary = DictGlossary(
        {"打ち上げ": ("launch",), "試験": ("test",), "不足": ("shortage", "insufficient")}
    )
    stray = _add(knowledge_base, "/ja.md", "転入届の前に", "引っ越しの前に窓口で手続きしてください。", "ja")
    english = _add(
        knowledge_base, "/en.md", "Insufficient testing before launch", "A launch test shortage caused a slip.", "en"
    )
    knowledge_base.catch_up()
    hits = knowledge_base.searcher.search("打ち上げ前の試験不足", weak=True).hits
    order = [h.document.id for h in hits]
    assert order.index(english) < order.index(stray)
    strength = {h.document.id: h.explanation.strength for h in hits}
    assert strength[english] >= 1.0 > strength[stray]
    confident = knowledge_base.searcher.search("打ち上げ前の試験不足")
    assert confident.hits[0].document.id == english


def test_nonsense_finds_nothing_confident_and_says_how_many_weak_matches_there_are(
    knowledge_base: KnowledgeBase,
) -> None:
    _add(
        knowledge_base, "/a.md", "Vendor selection delays", "Late evaluation criteria delayed the vendor choice.", "en"
    )
    _add(knowledge_base, "/b.md", "Earned value management", "Track cost and schedule variance every week.", "en")
    _add(knowledge_base, "/c.md", "Earned value management", "Track cost and schedule variance every week.", "en")
    knowledge_base.catch_up()
    mash = knowledge_base.searcher.search("xqzvbnm qwpoeiru")
    assert mash.hits == [] and mash.total == 0 and mash.facets["kind"] == []
    listed = knowledge_base.searcher.search("xqzvbnm qwpoeiru", weak=True)
    # the weak matches are one flag away, counted as that view lists them: the twin imported twice once
    assert mash.weak == listed.total == len(listed.hits) > 0
    assert sum(1 + len(h.similar) for h in listed.hits) > listed.total
    assert all(h.explanation.strength < 1.0 for h in listed.hits)
    found = knowledge_base.searcher.search("vendor selection delays")
    assert found.total >= 1 and found.hits[0].explanation.strength >= 1.0
    assert all(h.explanation.strength >= WEAK_FLOOR for h in found.hits)


def test_a_long_query_is_covered_by_a_chunk_holding_its_ten_most_telling_words() -> None:
    ix = Bm25Index(translate=False, fallback=False, bigram_weight=0.0)
    words = [f"w{n}" for n in range(12)]
    # chunk r holds w_r … w11, so w_n is in n + 1 chunks: w0 is the most telling word, w11 the least
    ix.add([(row, " ".join(words[row:])) for row in range(12)])
    idf = sorted((math.log1p((12 - (n + 1) + 0.5) / (n + 1 + 0.5)) for n in range(12)), reverse=True)
    assert ix.ceiling(" ".join(words)) == pytest.approx(sum(idf[:CEILING_TERMS]))
    assert ix.ceiling(" ".join(words[-5:])) == pytest.approx(sum(idf[-5:]))  # a short query: every word counts
