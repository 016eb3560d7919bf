"""Cross-language lexical search: the JMdict glossary, the gloss field, structured queries, the language gate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.engine import KnowledgeBase
from kb.record.models import DocumentDraft, Kind
from kb.record.store import document_id
from kb.search.lexical import Bm25Index
from kb.search.lexical.glossary import ATTRIBUTION, JmdictGlossary, default_glossary


class DictGlossary:
    """A hand-made glossary, so scores can be computed by hand."""

    def __init__(self, entries: dict[str, tuple[str, ...]], identity: str = "test-glossary") -> None:
        self.entries = entries
        self.identity = identity

    def glosses(self, word: str) -> tuple[str, ...]:
        return self.entries.get(word, ())


def ids(hits: list[tuple[int, float]]) -> list[int]:
    return [i for i, _ in hits]


# -- the dictionary ------------------------------------------------------------


def test_jmdict_gives_the_first_sense_of_common_entries() -> None:
    glossary = default_glossary()
    assert glossary is default_glossary()  # loaded once per process
    assert "delay" in glossary.glosses("遅延")
    assert glossary.glosses("ベンダー") == ("vendor",)
    assert "acquisition" in glossary.glosses("取得") and "merit" not in glossary.glosses("取得")
    assert "certificate of residence" in glossary.glosses("住民票")
    assert glossary.glosses("存在しない語ですね") == ()
    assert glossary.identity.startswith("jmdict:1.5:")


def test_glosses_drop_parenthesised_notes() -> None:
    assert "to apply for" in JmdictGlossary().glosses("申し込む")
    assert all("(" not in g for g in JmdictGlossary().glosses("申し込む"))


def test_the_attribution_names_the_edrdg_and_the_licence() -> None:
    assert "EDRDG" in ATTRIBUTION and "CC BY-SA 4.0" in ATTRIBUTION and "edrdg.org/edrdg/licence" in ATTRIBUTION


# -- the index with the real dictionary ------------------------------------------

DOCS = [
    (1, "Vendor selection was delayed by three months because the criteria came late."),
    (2, "The rocket engine test stand needed new valves."),
    (3, "住民票の写しを取得するには、本人確認書類を持って窓口へ来てください。"),
    (4, "粗大ごみの出し方について"),
    (5, "I 型の申請書を使ってください。"),  # a stray "I" in Japanese text
]


@pytest.fixture(scope="module")
def index() -> Bm25Index:
    ix = Bm25Index()
    ix.add(DOCS)
    return ix


def test_a_japanese_query_finds_the_english_document_through_the_dictionary(index: Bm25Index) -> None:
    query = "ベンダー選定の遅延"
    assert ids(index.search(query, 10)) == []  # no Japanese chunk matches, and English chunks are not searched
    assert ids(index.search_translated(query, 10)) == [1]
    assert ["vendor"] in index.translation(query)


def test_an_english_query_finds_the_japanese_document_through_its_glosses(index: Bm25Index) -> None:
    query = "How do I get a copy of my certificate of residence?"
    assert ids(index.search(query, 10)) == []
    assert ids(index.search_translated(query, 10))[0] == 3


def test_an_english_query_does_not_match_stray_english_in_japanese_text_as_a_lexical_hit(index: Bm25Index) -> None:
    # "I" in chunk 5 used to be the English query's best BM25 hit: noise, with a normalised score of 1.0
    assert 5 not in ids(index.search("Can I submit a marriage registration at night?", 10))
    assert ids(index.search("valves for the test stand", 10)) == [2]  # same-language search is as before


def test_translation_keeps_english_words_of_a_japanese_query(index: Bm25Index) -> None:
    assert ["rocket"] in index.translation("rocket のエンジン試験")
    assert 2 in ids(index.search_translated("rocket のエンジン試験", 10))
    assert index.translation("an English query") == []


def test_a_saved_index_remembers_languages_and_glosses(index: Bm25Index, tmp_path: Path) -> None:
    index.save(tmp_path / "lexical")
    loaded = Bm25Index.load(tmp_path / "lexical")
    for query in ("ベンダー選定の遅延", "certificate of residence copy", "valves"):
        assert loaded.search(query, 10) == index.search(query, 10)
        assert loaded.search_translated(query, 10) == index.search_translated(query, 10)
    with pytest.raises(ValueError, match="built as"):
        Bm25Index.load(tmp_path / "lexical", glossary=DictGlossary({}, identity="another dictionary"))


# -- structured queries, by hand ----------------------------------------------------


@pytest.mark.parametrize("filler", [0, 200], ids=["few-rows", "rare-terms"])
def test_a_words_translations_score_as_one_term(filler: int) -> None:
    """Pirkola: the translations of one word share its weight; tf adds up and df counts rows with any."""
    glossary = DictGlossary({"遅延": ("delay", "lag", "latency")})
    rest = [(10 + i, f"budget line {i}") for i in range(filler)]
    english = [(1, "delay lag report"), (2, "latency budget"), (3, "budget review"), (4, "budget plan"), *rest]
    ix = Bm25Index(glossary=glossary)
    ix.add(english)
    merged = Bm25Index(translate=False)  # the same rows with the translations written as one term
    merged.add([(1, "xdelay xdelay report"), (2, "xdelay budget"), (3, "budget review"), (4, "budget plan"), *rest])
    got = dict(ix.search_translated("遅延", 10))
    want = dict(merged.search("xdelay", 10))
    assert got.keys() == want.keys() == {1, 2}
    assert got == pytest.approx(want)
    # a flat bag would count "delay" and "lag" as two rare words: chunk 1 would score about twice chunk 2
    assert got[1] / got[2] < 1.5


def test_a_japanese_chunk_gets_the_glosses_of_its_words_and_keeps_its_english_words() -> None:
    ix = Bm25Index(glossary=DictGlossary({"遅延": ("delay",), "ベンダー": ("vendor", "supplier")}))
    ix.add([(1, "ベンダーの遅延とPMO")])
    assert ix.english("ベンダー") == ("vendor", "supplier")
    for query in ("supplier", "delays", "PMO"):
        assert ids(ix.search_translated(query, 10)) == [1], query


def test_one_kana_words_are_not_looked_up() -> None:
    ix = Bm25Index(glossary=DictGlossary({"か": ("mosquito",)}))
    assert ix.english("か") == ()


# -- fusion --------------------------------------------------------------------------


def test_hybrid_search_ranks_same_language_first_and_finds_the_other_language(knowledge_base: KnowledgeBase) -> None:
    """A mixed corpus: a Japanese query keeps its Japanese match on top and still finds the English lesson."""
    drafts = {
        "/ja.md": ("ベンダー選定の遅延", "評価基準を先に決めずにRFPを出し、ベンダー選定が3か月遅延した。", "ja"),
        "/en.md": ("Vendor selection delays", "Late evaluation criteria delayed the vendor selection.", "en"),
        "/other.md": ("Rocket valves", "The engine test stand needed new valves.", "en"),
    }
    for source, (title, body, language) in drafts.items():
        doc = {"kind": Kind.lesson, "title": title, "body": body, "language": language}
        knowledge_base.store.replace_source(source, source, [DocumentDraft.model_validate(doc)])
    knowledge_base.catch_up()
    hits = knowledge_base.searcher.search("ベンダー選定の遅延").hits
    order = [h.document.id for h in hits]
    assert order[:2] == [document_id("/ja.md", "main"), document_id("/en.md", "main")]
    english = hits[1]
    assert english.explanation.lexical_rank == 1  # first of the translated leg
    pairs = english.explanation.via_translation  # the query's words and the document's, as each writes them
    assert ("ベンダー", "vendor") in pairs and any(q == "遅延" and d.lower().startswith("delay") for q, d in pairs)
    assert english.explanation.matched_words == []
    assert {s.text.lower() for s in english.snippet if s.match} >= {"vendor"}  # its translations are marked
    lexical_only = knowledge_base.searcher.search("ベンダー選定の遅延", mode="lexical").hits
    assert [h.document.id for h in lexical_only][:2] == order[:2]
    assert np.isfinite(hits[0].score)
