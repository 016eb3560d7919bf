"""Explanations in words: the query's words as written, translations as pairs, never an index term."""

from __future__ import annotations

import pytest

from kb.search.analysis import Analyzer, Written, normalize_with_map
from kb.search.explain import (
    Analysed,
    Match,
    explain_match,
    in_words,
    merged,
    needs_every_term,
    similar_meaning,
    strength_word,
    wanted_terms,
)

GLOSSES = {"要求": ("requir", "request"), "変更": ("chang",), "移行": ("migrat", "transit"), "前": ("befor",)}


def english(term: str) -> tuple[str, ...]:
    return GLOSSES.get(term, ())


def doc(text: str, terms: list[tuple[str, int, int]]) -> Analysed:
    """A text analysed by hand: its terms at the given original offsets."""
    norm, starts, ends = normalize_with_map(text)
    return Analysed(norm, starts, ends, terms)


def test_same_language_words_are_named_as_the_query_writes_them_and_marked_as_the_text_does() -> None:
    text = "ベンダ選定が遅れた"
    query = [Written("ベンダー", "ベンダー", True), Written("選定", "選定", True), Written("遅延", "遅延", True)]
    found = explain_match(query, text, doc(text, [("ベンダー", 0, 3), ("選定", 3, 5)]), english)
    assert found == Match(["ベンダー", "選定"], [], [(0, 5)])


def test_an_english_stem_is_named_by_the_query_word() -> None:
    text = "We migrated the data."
    query = [Written("data", "data", True), Written("migrat", "migration", True)]
    found = explain_match(query, text, doc(text, [("migrat", 3, 11), ("data", 16, 20)]), english)
    assert found == Match(["data", "migration"], [], [(3, 11), (16, 20)])


def test_a_one_character_piece_of_a_longer_query_word_is_neither_named_nor_marked() -> None:
    """前 of 打ち上げ前 is no query word: a text's 前に is not a match of it."""
    text = "公開の前に試験する"
    query = [Written("前", "前", False), Written("試験", "試験", True)]
    found = explain_match(query, text, doc(text, [("前", 3, 4), ("試験", 5, 7)]), english)
    assert found == Match(["試験"], [], [(5, 7)])


def test_a_lone_character_typed_alone_is_a_query_word() -> None:
    text = "本の返却"
    found = explain_match([Written("本", "本", True)], text, doc(text, [("本", 0, 1)]), english)
    assert found == Match(["本"], [], [(0, 1)])


def test_a_compound_segmented_differently_counts_whole_and_a_bigram_alone_never() -> None:
    """No term matched: テスト計画 is in the text as written (marked whole); 刷新's bigram 刷新 is not its word."""
    text = "結合テスト計画書とシステム刷"
    query = [
        Written("テスト計画", "テスト計画", True),
        Written("刷新", "刷新", True),
        Written("システム", "システム", True),
    ]
    found = explain_match(query, text, doc(text, []), english)
    assert found == Match(["テスト計画", "システム"], [], [(2, 7), (9, 13)])


def test_a_verb_written_past_its_term_matches_only_as_written() -> None:
    """打ち上げ (term 打つ) is not in 打ち合わせ, whose 打ち is also 打つ."""
    text = "打ち合わせの日程"
    query = [Written("打つ", "打ち上げ", True, whole=False)]
    assert explain_match(query, text, doc(text, [("打つ", 0, 2)]), english) == Match()


def test_a_japanese_word_translated_into_english_names_the_documents_words() -> None:
    text = "Requirements change; the request came late."
    query = [Written("要求", "要求", True), Written("変更", "変更", True)]
    terms = [("requir", 0, 12), ("chang", 13, 19), ("request", 25, 32)]
    found = explain_match(query, text, doc(text, terms), english)
    assert found.words == []
    assert found.translations == [("要求", "Requirements"), ("要求", "request"), ("変更", "change")]
    assert found.spans == [(0, 12), (13, 19), (25, 32)]


def test_an_english_word_translated_from_a_japanese_document_word() -> None:
    """migration finds 移行 through 移行's gloss; the document's lone 前 (before) is no word to show."""
    text = "移行の前に確認"
    query = [Written("migrat", "migration", True), Written("befor", "before", True)]
    found = explain_match(query, text, doc(text, [("移行", 0, 2), ("前", 3, 4)]), english)
    assert found == Match([], [("migration", "移行")], [(0, 2)])


def test_what_the_explanation_analyses() -> None:
    query = [Written("要求", "要求", True), Written("前", "前", False), Written("data", "data", True)]
    assert wanted_terms(query, english) == {"要求", "前", "data", "requir", "request"}
    assert needs_every_term(query, "データ移行") and not needs_every_term(query, "data only")
    assert not needs_every_term(query[:2], "データ移行")


def test_merged_keeps_query_order_the_first_spans_and_drops_repeated_translations() -> None:
    query = [Written("要求", "要求", True), Written("変更", "変更", True), Written("data", "data", True)]
    title = Match(["data"], [("要求", "Requirements"), ("変更", "Change")], [(0, 4)])
    body = Match([], [("変更", "change"), ("要求", "requests"), ("要求", "request")], [(9, 12)])
    both = merged(query, body, title)
    assert both == Match(["data"], [("要求", "requests"), ("要求", "request"), ("変更", "change")], [(9, 12)])


@pytest.mark.parametrize(
    ("strength", "word"), [(2.4, "strong"), (1.5, "strong"), (1.49, "good"), (1.0, "good"), (0.99, "weak")]
)
def test_strength_words(strength: float, word: str) -> None:
    assert strength_word(strength) == word


def test_similar_meaning_from_half_way_to_the_confidence_line() -> None:
    assert similar_meaning(0.5) and similar_meaning(1.3) and not similar_meaning(0.49)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("打ち上げ前の試験不足", [("打ち上げ", True), ("前", False), ("試験", True), ("不足", True)]),
        ("要件定義書の作成", [("要件", True), ("定義", True), ("書", False), ("作成", True)]),
        ("前の試験", [("前", True), ("試験", True)]),
        ("ＤＡＴＡ migrations ベンダ", [("ＤＡＴＡ", True), ("migrations", True), ("ベンダ", True)]),
    ],
)
def test_written_words_keep_the_query_spelling_and_mark_glued_pieces(query: str, words: list[tuple[str, bool]]) -> None:
    assert [(w.text, w.alone) for w in Analyzer().written_words(query)] == words


def test_in_words() -> None:
    assert in_words(["data"], [("要求", "requests")], True) == [
        "words: data",
        "via translation: 要求 → requests",
        "similar in meaning",
    ]
    assert in_words([], [("要求", "requests"), ("要求", "request"), ("変更", "change")], False) == [
        "via translation: 要求 → requests / request, 変更 → change"
    ]
    assert in_words([], [], False) == []
