"""Reciprocal rank fusion of ranked lists (Cormack, Clarke & Büttcher, SIGIR 2009).

``score(d) = Σ_i w_i / (k + rank_i(d))`` with ranks from 1. The constant ``k``
damps the weight of the very top ranks so that one leg cannot dominate with a
single confident hit; the paper found k = 60 robust across collections. The
weights and k the product uses were tuned on the dev sets in ``../shared/eval``
(see ``kb.search``); they are arguments here so tests can use hand-computed values.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

RRF_K = 60


def first_ranks(ranking: Sequence[K]) -> dict[K, int]:
    """1-based rank of each key's first occurrence (later duplicates are ignored)."""
    ranks: dict[K, int] = {}
    for key in ranking:
        if key not in ranks:
            ranks[key] = len(ranks) + 1
    return ranks


def rrf(
    rankings: Sequence[Sequence[K]], weights: Sequence[float] | None = None, k: int = RRF_K
) -> list[tuple[K, float]]:
    """Fuse rankings; return (key, fused score), best first, ties broken by first appearance."""
    weights = weights if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[K, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for key, rank in first_ranks(ranking).items():
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    order = {key: n for n, key in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


def relative_score_fusion(
    lexical: Sequence[tuple[K, float]],
    dense: Sequence[tuple[K, float]],
    dense_weight: float = 1.0,
    translated: Sequence[tuple[K, float]] = (),
    translated_weight: float = 0.0,
) -> list[tuple[K, float]]:
    """Fuse scored lists by normalised score: ``bm25 / top_bm25 + w_t · bm25_t / top_t + w · minmax(cosine)``.

    Unlike RRF, it keeps each leg's confidence: a BM25 hit far above the rest
    (an exact title, a rare term) stays far above, while a flat BM25 ranking lets
    the dense leg decide. BM25 is divided by its top score (its floor is 0); the
    dense leg's cosines are min-max scaled over every document given, since their
    floor is not 0. The search gives the dense leg's cosine for the lexical hits
    too (see ``kb.search``), so a document is missing from ``dense`` only when it
    has no vector; a document missing from a leg gets 0 from it. ``translated``
    is the lexical leg across languages (``Bm25Index.search_translated``),
    normalised on its own: its scores come from another field and another
    language's documents, so they do not compare with ``lexical``'s. The BM25
    lists are best first; ``dense`` may come in any order.
    """
    scores: dict[K, float] = {}
    for leg, weight in ((lexical, 1.0), (translated, translated_weight)):
        if leg and weight > 0:
            top = leg[0][1] or 1.0
            for key, score in leg:
                scores[key] = scores.get(key, 0.0) + weight * score / top
    if dense:
        values = [score for _, score in dense]
        high, low = max(values), min(values)
        for key, score in dense:
            scaled = (score - low) / (high - low) if high > low else 1.0
            scores[key] = scores.get(key, 0.0) + dense_weight * scaled
    order = {key: n for n, key in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))
