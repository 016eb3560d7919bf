"""Reciprocal rank fusion, checked against hand-computed values."""

from __future__ import annotations

import pytest

from kb.fusion import first_ranks, rrf


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
