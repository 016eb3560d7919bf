"""Reciprocal rank fusion and calibrated fusion, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from kb.search.fusion import (
    CONFIDENT_COVERAGE,
    DENSE_WEIGHT,
    LONG_QUERY_WORDS,
    TRANSLATED_WEIGHT,
    Calibrated,
    LegScores,
    Weights,
    calibrated_fusion,
    first_ranks,
    rrf,
)


def test_first_ranks_ignores_duplicates() -> None:
    assert first_ranks(["a", "b", "a", "c"]) == {"a": 1, "b": 2, "c": 3}


def test_rrf_scores_by_hand() -> None:
    fused = dict(rrf([["a", "b"], ["b", "c"]], k=60))
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 62)


def test_rrf_order_weights_and_ties() -> None:
    assert [key for key, _ in rrf([["a", "b"], ["b", "c"]])] == ["b", "a", "c"]
    # k=1, weights 1 and 4: c = 4/2 = 2.0 beats a = 1/2 + 4/3 ≈ 1.83
    assert rrf([["a", "b"], ["c", "a"]], weights=[1.0, 4.0], k=1)[0][0] == "c"
    # equal scores keep the order of first appearance
    assert [key for key, _ in rrf([["x"], ["y"]])] == ["x", "y"]


def test_rrf_needs_one_weight_per_ranking() -> None:
    with pytest.raises(ValueError, match="one weight"):
        rrf([["a"]], weights=[1.0, 2.0])


def test_calibrated_fusion_by_hand() -> None:
    scores = {
        "a": LegScores(lexical=0.9),  # most query words, same language
        "b": LegScores(translated=1.0, dense=1.0),  # every word across languages and a close meaning
        "c": LegScores(lexical=0.2, dense=0.5),  # a stray word and a loose meaning
    }
    assert dict(calibrated_fusion(scores)) == pytest.approx(
        {"a": 0.9, "b": TRANSLATED_WEIGHT + DENSE_WEIGHT, "c": 0.2 + 0.5 * DENSE_WEIGHT}
    )
    assert [key for key, _ in calibrated_fusion(scores)] == ["b", "a", "c"]


def test_a_stray_same_language_word_does_not_outrank_a_strong_cross_language_match() -> None:
    """The mixed-store failure: a weak same-language match used to be normalised to 1.0 and win."""
    stray = LegScores(lexical=0.15, dense=0.3)
    strong_other_language = LegScores(translated=0.8, dense=1.1)
    assert strong_other_language.fused > stray.fused
    assert strong_other_language.strength >= 1.0 > stray.strength


def test_strength_by_hand() -> None:
    assert LegScores(lexical=CONFIDENT_COVERAGE).strength == pytest.approx(1.0)  # half the words: confident
    assert LegScores(lexical=0.2, translated=0.3, dense=0.4).strength == pytest.approx(0.9)  # weak
    assert LegScores(translated=0.3, dense=0.75).strength == pytest.approx(1.05)
    assert LegScores().strength == 0.0


def test_calibrated_arrays_rank_gate_and_explain_as_leg_scores_do() -> None:
    """The searcher's arrays (kb.search.fusion.Calibrated) give what a LegScores per document gives."""
    legs = {
        "a": LegScores(lexical=0.9),
        "b": LegScores(translated=1.0, dense=1.0),
        "c": LegScores(lexical=0.2, dense=0.5),
        "d": LegScores(lexical=0.2, dense=0.5),  # a tie with c: the earlier one first
    }
    arrays = Calibrated(
        list(legs),
        np.array([s.lexical for s in legs.values()]),
        np.array([s.translated for s in legs.values()]),
        np.array([s.dense for s in legs.values()]),
    )
    assert arrays.ranked() == calibrated_fusion(legs)
    assert arrays.strength_of(["c", "a"]).tolist() == [legs["c"].strength, legs["a"].strength]
    assert dict(arrays) == legs and len(arrays) == 4


def test_a_long_query_leans_on_its_words() -> None:
    """A pasted narrative: the document holding its words beats one that is merely about the same sort of thing."""
    short, long = Weights.of(words=6, language="ja"), Weights.of(words=3 * LONG_QUERY_WORDS, language="ja")
    assert short == Weights.of(words=LONG_QUERY_WORDS, language="ja") == Weights()
    assert long.dense == pytest.approx(DENSE_WEIGHT / 3)
    assert long.dense_across == long.dense and long.translated == TRANSLATED_WEIGHT  # either language alike
    words, meaning = LegScores(lexical=0.6, dense=0.2), LegScores(lexical=0.45, dense=0.7)
    assert meaning.fused > words.fused  # a short query: the closer meaning wins
    long_words, long_meaning = (
        LegScores(s.lexical, s.translated, s.dense, dense_weight=long.dense) for s in (words, meaning)
    )
    assert long_words.fused > long_meaning.fused
    assert long_meaning.strength == meaning.strength  # how confident a match is does not change
    arrays = Calibrated(
        ["w", "m"], np.array([0.6, 0.45]), np.zeros(2), np.array([0.2, 0.7]), dense_weight=np.full(2, long.dense)
    )
    assert arrays.ranked() == calibrated_fusion({"w": long_words, "m": long_meaning})
    assert arrays["m"] == long_meaning


def test_an_english_query_weighs_a_japanese_answer_over_stray_english_words() -> None:
    """mixed_jaen en→ja: an English question's everyday words in a long English narrative outranked the Japanese FAQ."""
    en, ja = Weights.of(words=8, language="en"), Weights.of(words=8, language="ja")
    assert ja == Weights() and en.dense == DENSE_WEIGHT
    assert en.translated > TRANSLATED_WEIGHT and en.dense_across > DENSE_WEIGHT
    stray = LegScores(lexical=0.3, dense=0.35)  # an English lesson sharing "city" and "use"
    answer = {"translated": 0.2, "dense": 0.45}  # the Japanese FAQ that answers, through glosses and meaning
    assert LegScores(**answer).fused < stray.fused
    assert LegScores(**answer, translated_weight=en.translated, dense_weight=en.dense_across).fused > stray.fused
    arrays = Calibrated(
        ["s", "a"],
        np.array([0.3, 0.0]),
        np.array([0.0, 0.2]),
        np.array([0.35, 0.45]),
        translated_weight=en.translated,
        dense_weight=np.array([en.dense, en.dense_across]),
    )
    assert [key for key, _ in arrays.ranked()] == ["a", "s"]
