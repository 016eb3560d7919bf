"""Reciprocal rank fusion, checked against hand-computed values."""

from __future__ import annotations

import pytest

from kb.fusion import first_ranks, relative_score_fusion, rrf


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


def test_relative_score_fusion_by_hand() -> None:
    fused = dict(relative_score_fusion([("a", 10.0), ("b", 5.0)], [("b", 0.9), ("c", 0.5), ("d", 0.1)]))
    assert fused["a"] == pytest.approx(1.0)
    assert fused["b"] == pytest.approx(0.5 + 1.0)
    assert fused["c"] == pytest.approx(0.5)
    assert fused["d"] == pytest.approx(0.0)


def test_relative_score_fusion_keeps_a_confident_lexical_hit_on_top() -> None:
    # BM25 is sure of "a"; the dense leg barely separates its candidates.
    fused = relative_score_fusion([("a", 30.0), ("b", 3.0)], [("b", 0.52), ("a", 0.51), ("c", 0.50)], 1.0)
    assert fused[0][0] == "a"
    assert relative_score_fusion([], [("x", 0.3)])[0] == ("x", 1.0)
