"""The LexicalIndex contract (``kb.search.lexical.protocol``): what the indexer and the searcher rely on.

Run on every configuration the product ships or a user can set: the default
BM25 index, and one without the hiragana fallback and translation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from kb.search.lexical import Bm25Index
from kb.search.lexical.protocol import LexicalIndex
from tests.kb.test_crosslanguage import DictGlossary

GLOSSARY = DictGlossary({"遅延": ("delay",), "ベンダー": ("vendor",), "選定": ("selection",)})
MAKERS: dict[str, Callable[[], LexicalIndex]] = {
    "bm25": lambda: Bm25Index(glossary=GLOSSARY),
    "bm25-plain": lambda: Bm25Index(fallback=False, translate=False, glossary=GLOSSARY),
}
ROWS = [
    (1, "ベンダー選定が遅延した"),
    (2, "予算の見積もりを見直した"),
    (3, "Vendor selection slipped by ten weeks"),
    (4, "Budget estimate was revised"),
]


@pytest.fixture(params=sorted(MAKERS))
def index(request: pytest.FixtureRequest) -> LexicalIndex:
    made = MAKERS[request.param]()
    made.add(ROWS)
    return made


def ids(found: list[tuple[int, float]]) -> list[int]:
    return [i for i, _ in found]


def test_search_finds_by_id_best_first_in_the_querys_language(index: LexicalIndex) -> None:
    assert ids(index.search("ベンダー選定", 10))[0] == 1
    assert ids(index.search("vendor selection", 10))[0] == 3
    found = index.search("budget estimate", 10)
    assert ids(found)[0] == 4 and all(a >= b for (_, a), (_, b) in itertools.pairwise(found))
    assert index.search("vendor", 0) == [] and len(index) == 4 and sorted(index.ids) == [1, 2, 3, 4]


def test_replace_and_remove_by_id(index: LexicalIndex) -> None:
    index.add([(3, "Budget overrun in the test phase")])  # an id already present is replaced
    assert 3 not in ids(index.search("vendor selection", 10)) and 3 in ids(index.search("overrun", 10))
    index.remove([3, 99])  # unknown ids are ignored
    assert ids(index.search("overrun", 10)) == [] and len(index) == 3


def test_a_row_mask_filters_and_goes_stale_with_the_layout(index: LexicalIndex) -> None:
    mask = index.rows_of(np.array([4], dtype=np.int64))
    assert ids(index.search("budget estimate revised", 10, allowed=mask)) == [4]
    assert ids(index.search("budget estimate revised", 10, allowed={2, 4}.__contains__)) == [4]
    before = index.layout
    index.add([(5, "Another budget note")])
    assert index.layout != before
    with pytest.raises(ValueError, match="before the last write"):
        index.search("budget", 10, allowed=mask)


def test_the_ceiling_calibrates_a_full_match_to_about_one(index: LexicalIndex) -> None:
    (best,) = index.search("Budget estimate was revised", 1)
    assert 0.5 < best[1] / index.ceiling("Budget estimate was revised") <= 1.5
    assert index.ceiling("zzz qqq") > 0  # words in no chunk still count: a chunk cannot match them


def test_query_words_counts_distinct_words(index: LexicalIndex) -> None:
    assert index.query_words("budget budget estimate") == 2
    assert index.query_words("ベンダー選定の遅延") >= 3  # ベンダー, 選定, 遅延 (particles aside)
    assert index.query_words("") == 0


def test_across_languages_only_when_translating(index: LexicalIndex) -> None:
    translating = isinstance(index, Bm25Index) and index.translate
    across = ids(index.search_translated("ベンダー選定の遅延", 10))
    assert across == ([3] if translating else [])
    if translating:
        assert index.translated_ceiling("ベンダー選定の遅延") > 0 and index.english("遅延") == ("delay",)


def test_terms_in_gives_original_offsets_of_the_words_asked_for(index: LexicalIndex) -> None:
    text = "ＰＭＯのベンダー選定が遅延した"
    found = index.terms_in(text, frozenset(index.analyzer.query_terms("ベンダー 遅延")))
    assert [text[a:b] for _, a, b in found.terms] == ["ベンダー", "遅延"]


def test_save_keeps_what_search_answers(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "lexical")
    loaded = Bm25Index.load(tmp_path / "lexical", glossary=GLOSSARY)
    assert loaded.identity == index.identity
    for query in ("ベンダー選定", "budget estimate", "vendor"):
        assert loaded.search(query, 10) == index.search(query, 10)
