"""Japanese words into English terms through the glossary: what the cross-language lexical leg matches on.

A Japanese chunk is indexed with a gloss field (its words' English glosses,
and its own English words) that an English query searches; a Japanese query
is translated into one group of English terms per word (Pirkola's structured
query: each word's translations act as one term) and searched on the English
chunks' words. Both sides are analysed with the index's own analyzer, so a
gloss and an English chunk's word meet as the same stemmed term. The BM25
scoring of either side stays in :mod:`kb.search.lexical.index`.
"""

from __future__ import annotations

import re

from kb.search.analysis import Analyzer
from kb.search.language import has_japanese
from kb.search.lexical.glossary import Glossary, default_glossary

_KANA_ONLY = re.compile("[\u3041-\u30ff]")
# Words of JMdict glosses that say nothing about the meaning (after stemming):
# "to do something to someone", "(usu.) …", "one's …".
GLOSS_NOISE = frozenset({"someth", "someon", "one", "oneself", "etc", "usu", "esp", "e.g", "eg", "e", "g", "i"})


class Translator:
    """The glossary seen through an analyzer: English terms per Japanese word, cached per word.

    The cache is a plain dict filled on first sight of a word; two threads
    filling the same entry write the same value, so no lock is needed.
    """

    def __init__(self, analyzer: Analyzer, glossary: Glossary | None = None) -> None:
        self.analyzer = analyzer
        self._glossary = glossary
        self._english: dict[str, tuple[str, ...]] = {}  # Japanese word -> analysed English gloss terms

    @property
    def glossary(self) -> Glossary:
        """The dictionary (JMdict unless one was given), opened on first use: an index that never translates
        never loads it."""
        if self._glossary is None:
            self._glossary = default_glossary()
        return self._glossary

    @glossary.setter
    def glossary(self, glossary: Glossary) -> None:
        """Use another dictionary from now on (translations cached from the old one are forgotten)."""
        self._glossary = glossary
        self._english.clear()

    def english(self, word: str) -> tuple[str, ...]:
        """The analysed English terms of a Japanese word's glosses (cached; empty for unknown words).

        A lone kana is a particle or a fragment, never a word worth translating.
        """
        found = self._english.get(word)
        if found is None:
            terms: dict[str, None] = {}
            if not (len(word) == 1 and _KANA_ONLY.match(word)):
                for gloss in self.glossary.glosses(word):
                    for term in self.analyzer.tokenize(gloss):
                        if term not in GLOSS_NOISE and not has_japanese(term):
                            terms[term] = None
            found = self._english[word] = tuple(terms)
        return found

    def gloss_field(self, words: list[str]) -> list[str]:
        """The English rendering of a Japanese chunk: its words' gloss terms, and its own English words."""
        out: list[str] = []
        for word in words:
            out.extend(self.english(word) if has_japanese(word) else (word,))
        return out

    def query_groups(self, query: str) -> list[list[str]]:
        """A Japanese query as English term groups, one per distinct query word (its gloss terms; English words
        as they are); a word with no gloss adds no group."""
        groups: dict[tuple[str, ...], None] = {}
        for word in self.analyzer.query_terms(query):
            group = self.english(word) if has_japanese(word) else (word,)
            if group:
                groups[group] = None
        return [list(g) for g in groups]
