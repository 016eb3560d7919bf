"""Where a query's terms are in a hit's text: the spans that highlights and explanations are drawn from.

A hit's text is analysed as it was indexed (Sudachi for Japanese, stemmed
words for English) so a highlighted span is exactly a term that matched.
Analysing a whole chunk is the largest cost of rendering a hit (~0.5 ms per
600-character chunk), so only the kana/kanji runs that can hold one of the
query's words are analysed: those with a trace of its spelling
(:func:`kb.search.analysis.spelled_in`) or one of its other spellings seen
while indexing (こども for 子供). That skips most runs of a chunk and finds
exactly what analysing all of them would.
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Callable

from kb.search.analysis import Analyzer, Variants, normalize_with_map, spelling_marks
from kb.search.explain import Analysed


class TermFinder:
    """Finds terms in hit texts for one index: its analyzer, and the spellings its indexing has seen.

    ``variants`` returns the index's spellings of its terms (term → surfaces
    sharing nothing with the term), or None when they are unknown (an index
    saved before they were kept): then every run is analysed. Results are
    cached per (text, words), as paging and filtering bring the same hits back
    (lru_cache is thread-safe).
    """

    def __init__(self, analyzer: Analyzer, variants: Callable[[], Variants | None]) -> None:
        self.analyzer = analyzer
        self._variants = variants
        self._analysed = functools.lru_cache(maxsize=1024)(self._analyse_text)
        self._run_filter = functools.lru_cache(maxsize=256)(self._make_run_filter)

    def spellings_changed(self) -> None:
        """Indexing brought new spellings of a term: the run filters built so far may miss them."""
        self._run_filter.cache_clear()

    def terms_in(self, text: str, words: frozenset[str] | None) -> Analysed:
        """``text`` normalised, its offset maps, and its terms among ``words`` (all its terms when None);
        spans are original offsets."""
        return self._analysed(text, words)

    def _analyse_text(self, text: str, words: frozenset[str] | None) -> Analysed:
        norm, starts, ends = normalize_with_map(text)
        keep = self._run_filter(words) if words is not None else None
        terms = tuple(
            (term, starts[s], ends[e - 1])
            for term, s, e in self.analyzer.analyze_normalized(norm, keep)
            if e > s and (words is None or term in words)
        )
        return Analysed(norm, array("i", starts), array("i", ends), terms)

    def _make_run_filter(self, words: frozenset[str]) -> Callable[[str], object] | None:
        """A test passed by every kana/kanji run that may hold one of ``words``; None: analyse every run."""
        variants = self._variants()
        if variants is None:
            return None
        chars: set[str] = set()
        strings: set[str] = set()
        for word in words:
            strong = spelling_marks(word)
            if strong:
                chars.update(strong)
            else:
                strings.add(word)
            strings.update(variants.get(word, ()))
        marks = frozenset(chars)
        spellings = tuple(strings)
        # set and substring tests run in C; a compiled regex of the same cost ~0.8 ms per query to build
        return lambda run: not marks.isdisjoint(run) or any(s in run for s in spellings)
