"""Text analysis for lexical search: normalisation, tokens, language, highlight spans.

One analyzer serves Japanese, English and text that mixes them:

1. **Normalise** (:func:`normalize`): Unicode NFKC then case folding, so
   ``ＡＢＣ１２３`` → ``abc123`` and half-width ``ｶﾞｲﾄﾞ`` → ``ガイド``.
2. **Split by script**: maximal runs of kana/kanji go to the Japanese path,
   runs of other letters/digits to the word path, so an English word gets the
   same term inside Japanese text as in an English one. Text without
   kana/kanji never touches the morphological analyser.
3. **Japanese path**: SudachiPy morphemes in split mode A (short units),
   keeping the dictionary's *normalised form* so spelling variants fold
   together (ベンダ/ベンダー, 申込/申込み/申し込み, サーバ/サーバー), dropping
   particles, auxiliary verbs, symbols, whitespace and a few other function
   words (:data:`DEFAULT_DROP_POS`). Input is cut into pieces well under
   Sudachi's ~49 KB limit, so any length works.
4. **Word path**: Unicode word runs, possessive ``'s`` removed, Lucene's 33
   English stopwords dropped, Snowball (Porter 2) stemming via PyStemmer.
5. **Character bigrams** of kanji/katakana runs (:func:`bigrams`), and
   separately the bigrams that contain hiragana (``Terms.kana_grams``): the
   index scores the first as a low-weight second field and searches the
   second only when nothing else matched, so a Japanese query that shares
   characters with a document finds it even where the morphemes differ.

Every default was chosen by measurement (``bench/lexical_eval.py``): see
:class:`AnalyzerConfig`, and ``kb.search.lexical.Bm25Index`` for BM25 and bigrams.

Speed: ~0.45–0.5M chars/s for Japanese on one thread (Sudachi alone
~0.85M), ~4M chars/s for English. Thread safety: a Sudachi tokenizer (and a
PyStemmer stemmer) must not be shared by threads, so each thread gets its
own, over one shared dictionary.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

from sudachipy import Dictionary, Morpheme, SplitMode, Tokenizer

from kb.search.language import JA_CLASS

SplitModeName = Literal["A", "B", "C"]
FormName = Literal["normalized", "dictionary", "surface"]
StemmerName = Literal["none", "plural", "snowball"]

_JA_RUN = re.compile(f"[{JA_CLASS}]+")
_HIRAGANA = re.compile("[\u3041-\u3096\u309d-\u309f]")
_CONTENT_RUN = re.compile(f"(?:(?![\u3041-\u3096\u309d-\u309f])[{JA_CLASS}])+")
# One script run: Japanese, or a word of any other script (letters, digits;
# apostrophes inside words are kept so "don't" stays one token).
_RUN = re.compile(f"(?P<ja>[{JA_CLASS}]+)|(?P<w>(?:(?![{JA_CLASS}])[^\\W_])+(?:['’](?:(?![{JA_CLASS}])[^\\W_])+)*)")
_Stem = Callable[[str], str]

Variants = dict[str, set[str]]
"""Term → its spellings (morpheme surfaces) that :func:`spelled_in` does not find from the term alone."""
_WORD_CACHE_SIZE = 200_000

# Sudachi refuses input over ~49 149 bytes; pieces are cut well below that.
RUN_CACHE = 16384
"""Kana/kanji runs whose analysis highlights remember (``Analyzer._analyse_run``)."""
_MAX_PIECE_CHARS = 4000


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Lucene's English stop set (the chosen default) and a longer list that adds
# pronouns, auxiliaries and question words; measured in AnalyzerConfig.
LUCENE_STOPWORDS: frozenset[str] = _wordset(
    """
    a an and are as at be but by for if in into is it no not of on or such that the their then there
    these they this to was will with
    """
)
ENGLISH_STOPWORDS: frozenset[str] = LUCENE_STOPWORDS | _wordset(
    """
    about above after again against all am any aren't because been before being below between both
    can can't cannot could couldn't did didn't do does doesn't doing don't down during each few from
    further had hadn't has hasn't have haven't having he her here hers herself him himself his how i
    isn't it's its itself just let's me more most mustn't my myself nor off once only other ought our
    ours ourselves out over own same she should shouldn't so some than that's theirs them themselves
    there's those through too under until up very wasn't we were weren't what what's when where which
    while who whom why with won't would wouldn't you your yours yourself yourselves s t
    """
)

BASIC_DROP_POS: tuple[str, ...] = ("助詞", "助動詞", "補助記号", "空白")
DEFAULT_DROP_POS: tuple[str, ...] = (
    *BASIC_DROP_POS,
    "動詞,非自立可能",  # する ある いる なる ...
    "形容詞,非自立可能",  # ない よい ...
    "代名詞",
    "接続詞",
    "感動詞",
    "連体詞",  # この その ...
    "形状詞,助動詞語幹",  # よう そう
    "名詞,助動詞語幹",
)
"""Parts of speech dropped (a ``,``-joined prefix of Sudachi's POS tuple)."""


class Terms(NamedTuple):
    """What the index stores of one text."""

    words: list[str]
    """Morphological terms (Japanese) and words (other scripts), in order."""
    grams: list[str]
    """Character bigrams of kanji/katakana runs; a one-character run gives itself."""
    kana_grams: list[str]
    """Bigrams with hiragana in them: only searched when nothing else matched."""


class Written(NamedTuple):
    """A word of a query as its writer wrote it, with its index term: what an explanation may name."""

    term: str
    """The index term (Sudachi normalised form, English stem)."""
    text: str
    """The word as written (original characters): ベンダ, migration, 打ち上げ."""
    alone: bool
    """False for a one-character piece glued to a content neighbour (前 of 打ち上げ前): not a word on its own."""
    whole: bool = True
    """False when ``text`` runs past the term's own morpheme (打ち上げ for 打つ): it matches only as written."""


@dataclass(frozen=True)
class AnalyzerConfig:
    """Options of the analyzer; the defaults are the measured best.

    nDCG@10 (gain 2^grade−1) on ``ja_localgovfaq`` (1 786 FAQ entries, 749
    real queries), each row changing one option of the default (BM25 k1=1.5,
    b=0.75, kanji/katakana bigrams ×0.25); Elasticsearch BM25 + Kuromoji
    scores 0.494 there:

    - ``split_mode``: **A 0.5285**, B 0.5114, C 0.4695; C plus its A splits
      0.5140, B plus A 0.5161
    - ``form``: **normalized 0.5285**, dictionary 0.5067, surface 0.5081
    - ``drop_pos``: keep all 0.4951, only 助詞/助動詞/補助記号/空白 0.5204,
      **default 0.5285**, + 接頭辞/接尾辞 0.5247, + 名詞,数詞 0.5291 (noise)
    - ``bigram_hiragana`` (bigrams of whole kana/kanji runs in the scored
      field): True 0.5128, **False 0.5285**

    English, nDCG@10 on en_stackfaq / en_covidqa_faq / en_llis_title2lesson:

    - **default (Lucene stopwords, Snowball)**: 0.7338 / 0.6604 / 0.8026
    - ``stopwords`` none 0.7271 / 0.6606 / 0.8006; extended list (adds
      question words and pronouns) 0.7321 / 0.6478 / 0.8033
    - ``stemmer`` none 0.6731 / 0.6524 / 0.7878; plural-only 0.7028 / 0.6658 / 0.8002
    """

    split_mode: SplitModeName = "A"
    """Sudachi split mode: A short units, B middle, C named entities and compounds."""
    form: FormName = "normalized"
    """Which form of a morpheme is the term."""
    drop_pos: tuple[str, ...] = DEFAULT_DROP_POS
    stopwords: frozenset[str] = LUCENE_STOPWORDS
    stemmer: StemmerName = "snowball"
    """English stemming: none, plural-only (S-stemmer) or Snowball English (PyStemmer)."""
    expand_a: bool = False
    """With split mode B or C, also emit each morpheme's mode-A parts."""
    bigram_hiragana: bool = False
    """Score bigrams of whole kana/kanji runs (True) instead of kanji/katakana runs."""


def _group_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of ``text`` that NFKC must see together: a base and its combining marks."""
    n = len(text)
    i = 0
    while i < n:
        j = i + 1
        while j < n and (unicodedata.combining(text[j]) or text[j] in "\uff9e\uff9f"):
            j += 1
        yield i, j
        i = j


def normalize(text: str) -> str:
    """NFKC then case folding: width, compatibility forms and case are folded.

    >>> normalize("ＡＢＣ１２３ ｶﾞｲﾄﾞ")
    'abc123 ガイド'
    """
    return unicodedata.normalize("NFKC", text).casefold()


def normalize_with_map(text: str) -> tuple[str, list[int], list[int]]:
    """Normalise ``text`` and map every output character back to the input.

    Returns ``(normalised, starts, ends)`` where output character ``i`` came
    from ``text[starts[i]:ends[i]]``. Normalisation is done per base character
    with its combining marks, so it equals :func:`normalize` for all but exotic
    input (Hangul jamo sequences), and lengths may change either way (``ﬁ`` →
    ``fi``, ``ｶﾞ`` → ``ガ``).
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    one_to_one = _one_to_one_run()
    while pos < len(text):
        # Fast path: a run of characters that each normalise to one character (ASCII, kana,
        # kanji, full-width forms, CJK punctuation, newlines), unless a combining mark follows its
        # last character, is normalised whole and maps position for position. Per-character
        # normalisation cost ~3 ms per 600-character chunk; runs make it a few hundredths of that.
        run = one_to_one.match(text, pos)
        end = run.end() if run else pos
        if end < len(text) and end > pos and _combines(text[end]):
            end -= 1
        if end > pos:
            piece = text[pos:end]
            norm = unicodedata.normalize("NFKC", piece).casefold()
            if len(norm) == end - pos:  # else something composed (Hangul jamo): per character below
                out.append(norm)
                starts.extend(range(pos, end))
                ends.extend(range(pos + 1, end + 1))
                pos = end
                continue
        for i, j in _group_spans(text[pos : pos + 1] + _marks_after(text, pos + 1)):
            piece = text[pos + i : pos + j]
            norm = piece.lower() if piece.isascii() else unicodedata.normalize("NFKC", piece).casefold()
            out.append(norm)
            starts.extend([pos + i] * len(norm))
            ends.extend([pos + j] * len(norm))
            step = j
        pos += step
    return "".join(out), starts, ends


@lru_cache(maxsize=1)
def _one_to_one_run() -> re.Pattern[str]:
    """A run of characters that NFKC and case folding each turn into exactly one character.

    Built once from Unicode's own tables (a few ms) rather than listed by
    hand: the full-width digits, brackets and letters of Japanese text, ・, ■,
    【】 and newlines broke a hand-listed run every few characters.
    """
    ranges = ((0x09, 0x0E), (0x20, 0x3000), (0x3000, 0x3100), (0x4E00, 0xA000), (0xFF00, 0xFF61), (0xFFE0, 0xFFEF))
    codes = [
        code
        for low, high in ranges
        for code in range(low, high)
        if not _combines(ch := chr(code))
        and not 0xD800 <= code < 0xE000
        and len(norm := unicodedata.normalize("NFKC", ch).casefold()) == 1
        and not _combines(norm)
    ]
    parts: list[str] = []
    first = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code != prev + 1:
            parts.append(re.escape(chr(first)) + ("-" + re.escape(chr(prev)) if prev > first else ""))
            first = code
        prev = code
    return re.compile(f"[{''.join(parts)}]+")


def _combines(ch: str) -> bool:
    return bool(unicodedata.combining(ch)) or ch in "\uff9e\uff9f\u3099\u309a"


def _marks_after(text: str, start: int) -> str:
    end = start
    while end < len(text) and _combines(text[end]):
        end += 1
    return text[start:end]


def _pieces(text: str, limit: int = _MAX_PIECE_CHARS) -> Iterator[tuple[int, str]]:
    """Cut ``text`` into ``(offset, piece)`` no longer than ``limit`` characters.

    Cuts prefer a sentence end or newline in the last quarter of the window.
    """
    n = len(text)
    start = 0
    while n - start > limit:
        window = text[start : start + limit]
        cut = max(window.rfind("。"), window.rfind("\n"), window.rfind("."), window.rfind("！"), window.rfind("？"))
        end = start + cut + 1 if cut >= limit * 3 // 4 else start + limit
        yield start, text[start:end]
        start = end
    if start < n:
        yield start, text[start:]


def _plural_stem(word: str) -> str:
    """Minimal English plural stemmer (Harman's S-stemmer)."""
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 2 and word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


class Analyzer:
    """Turns text into index terms; one instance per configuration.

    Cheap to call from many threads: the Sudachi tokenizer is per thread,
    the dictionary is shared.
    """

    def __init__(self, config: AnalyzerConfig | None = None) -> None:
        self.config = config or AnalyzerConfig()
        self._dictionary = _dictionary()
        self._local = threading.local()
        self._drop_pos_ids = _pos_ids(self.config.drop_pos)
        self._form: Callable[[Morpheme], str] = {
            "normalized": Morpheme.normalized_form,
            "dictionary": Morpheme.dictionary_form,
            "surface": Morpheme.surface,
        }[self.config.form]
        self._expand_a = self.config.expand_a and self.config.split_mode != "A"
        # English word -> term: stemming is pure, and a corpus repeats a small vocabulary
        self._word_terms: dict[str, str | None] = {}
        self._run_spans = functools.lru_cache(maxsize=RUN_CACHE)(self._analyse_run)

    def _stemmer(self) -> _Stem:
        stem: _Stem | None = getattr(self._local, "stem", None)
        if stem is None:
            name = self.config.stemmer
            if name == "none":
                stem = _identity
            elif name == "plural":
                stem = _plural_stem
            else:
                import Stemmer  # type: ignore[import-not-found]  # PyStemmer; not thread-safe: one per thread

                stem = Stemmer.Stemmer("english").stemWord
            self._local.stem = stem
        return stem

    def _tokenizer(self) -> Tokenizer:
        tok: Tokenizer | None = getattr(self._local, "tokenizer", None)
        if tok is None:
            mode = {"A": SplitMode.A, "B": SplitMode.B, "C": SplitMode.C}[self.config.split_mode]
            tok = self._dictionary.tokenizer(mode)
            self._local.tokenizer = tok
        return tok

    # -- words ---------------------------------------------------------------

    def _word_term(self, word: str) -> str | None:
        found = self._word_terms.get(word, "")
        if found != "":
            return found
        term = self._stem_word(word)
        if len(self._word_terms) >= _WORD_CACHE_SIZE:
            self._word_terms.clear()  # crude but bounded; refills with the words in use
        self._word_terms[word] = term
        return term

    def _stem_word(self, word: str) -> str | None:
        w = word.replace("’", "'")
        if w.endswith("'s"):
            w = w[:-2]
        if not w or w in self.config.stopwords:
            return None
        return self._stemmer()(w)

    def _ja_terms(
        self,
        run: str,
        offset: int,
        terms: list[str],
        spans: list[tuple[int, int]] | None,
        variants: Variants | None = None,
    ) -> None:
        """Append the terms of a kana/kanji run (and their spans, when asked for).

        ``variants``, when given, receives each spelling that :func:`spelled_in`
        would not find from its term alone (see :class:`kb.search.lexical.Bm25Index`).
        """
        tok = self._tokenizer()
        drop = self._drop_pos_ids
        form = self._form
        expand = self._expand_a
        for base, piece in _pieces(run):
            start = offset + base
            for m in tok.tokenize(piece):
                if m.part_of_speech_id() in drop:
                    continue
                term = form(m)
                if not term:
                    continue
                term = term.lower()
                terms.append(term)
                if spans is not None:
                    spans.append((start + m.begin(), start + m.end()))
                if variants is not None:
                    _note_variant(variants, term, m.surface())
                if expand:
                    subs = m.split(SplitMode.A)
                    if len(subs) > 1:
                        for sm in subs:
                            if sm.part_of_speech_id() not in drop:
                                sub = sm.normalized_form().lower()
                                terms.append(sub)
                                if spans is not None:
                                    spans.append((start + sm.begin(), start + sm.end()))
                                if variants is not None:
                                    _note_variant(variants, sub, sm.surface())

    def _analyse_run(self, run: str) -> tuple[tuple[str, int, int], ...]:
        """The terms of a kana/kanji run with their spans in it: highlights analyse the same runs again and again."""
        terms: list[str] = []
        spans: list[tuple[int, int]] = []
        self._ja_terms(run, 0, terms, spans)
        return tuple((t, s, e) for t, (s, e) in zip(terms, spans, strict=True))

    def _terms(
        self,
        norm: str,
        spans: list[tuple[int, int]] | None,
        variants: Variants | None = None,
        keep: Callable[[str], object] | None = None,
    ) -> list[str]:
        terms: list[str] = []
        for m in _RUN.finditer(norm):
            if m.lastgroup == "ja":
                if keep is not None and not keep(m.group()):
                    continue
                if spans is None or variants is not None:  # indexing
                    self._ja_terms(m.group(), m.start(), terms, spans, variants)
                    continue
                start = m.start()  # a highlight: the run's analysis is remembered
                for ja_term, s, e in self._run_spans(m.group()):
                    terms.append(ja_term)
                    spans.append((start + s, start + e))
            else:
                term = self._word_term(m.group())
                if term is not None:
                    terms.append(term)
                    if spans is not None:
                        spans.append(m.span())
        return terms

    def analyze_normalized(self, norm: str, keep: Callable[[str], object] | None = None) -> list[tuple[str, int, int]]:
        """Terms of already-normalised text, each with its span ``[start, end)`` in ``norm``.

        ``keep``, when given, is asked about each kana/kanji run: a run it
        answers falsy for is not analysed (its terms are left out). Sudachi is
        the cost of analysis; a caller that wants only some terms' spans skips
        the runs that cannot hold them (see :func:`spelled_in`).
        """
        spans: list[tuple[int, int]] = []
        terms = self._terms(norm, spans, keep=keep)
        return [(t, s, e) for t, (s, e) in zip(terms, spans, strict=True)]

    def tokenize(self, text: str) -> list[str]:
        """Index terms of ``text``, in order, duplicates kept (they are term frequencies)."""
        return self._terms(normalize(text), None)

    def query_terms(self, text: str) -> list[str]:
        """Terms of a query: the same analysis as indexing, duplicates removed, order kept."""
        return list(dict.fromkeys(self.tokenize(text)))

    def written_words(self, text: str) -> list[Written]:
        """The words of ``text`` (a query) as written, one per term, first occurrence first.

        A Japanese verb takes the verb pieces glued after it (打ち上げ: the index
        keeps 打つ and drops 上げ), so it reads as the writer's word. A
        one-character morpheme next to a content morpheme (not a particle,
        auxiliary, symbol or space) is a piece of a longer word: 前 of
        打ち上げ前, 書 of 要件定義書; it is marked not ``alone``.
        """
        norm, starts, ends = normalize_with_map(text)
        tok = self._tokenizer()
        glue = _pos_ids(BASIC_DROP_POS)
        out: dict[str, Written] = {}
        for run in _RUN.finditer(norm):
            if run.lastgroup != "ja":
                term = self._word_term(run.group())
                if term is not None and term not in out:
                    out[term] = Written(term, text[starts[run.start()] : ends[run.end() - 1]], True)
                continue
            pieces = [
                (run.start() + base + m.begin(), run.start() + base + m.end(), m)
                for base, piece in _pieces(run.group())
                for m in tok.tokenize(piece)
            ]
            for i, (start, end, m) in enumerate(pieces):
                term = self._form(m).lower()
                if m.part_of_speech_id() in self._drop_pos_ids or not term or term in out:
                    continue
                stop = end
                if m.part_of_speech()[0] == "動詞":
                    for _, after, nxt in pieces[i + 1 :]:
                        if nxt.part_of_speech()[:2] != ("動詞", "非自立可能"):
                            break
                        stop = after
                neighbours = [pieces[k][2] for k in (i - 1, i + 1) if 0 <= k < len(pieces)]
                alone = end - start > 1 or all(n.part_of_speech_id() in glue for n in neighbours)
                out[term] = Written(term, text[starts[start] : ends[stop - 1]], alone, stop == end)
        return list(out.values())

    def analyze(self, text: str, variants: Variants | None = None) -> Terms:
        """All terms of ``text`` (normalising it once): words, bigrams, kana bigrams.

        ``variants``, when given, collects the spellings :func:`spelled_in` would miss.
        """
        norm = normalize(text)
        words = self._terms(norm, None, variants)
        if self.config.bigram_hiragana:
            return Terms(words, _bigrams(norm, _JA_RUN), [])
        return Terms(words, _bigrams(norm, _CONTENT_RUN), _kana_bigrams(norm))

    def match_spans(self, text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
        """Spans ``[start, end)`` of ``text`` (original offsets) that match ``terms``.

        A term matches where the analyzer produces it from ``text`` (so a query
        term ``ベンダー`` highlights ``ベンダ``); a term the analyzer does not
        produce here (a character bigram, say) matches as a substring of the
        normalised text. Overlapping spans are merged; the result is sorted.
        """
        wanted = {normalize(t) for t in terms if t}
        if not wanted or not text:
            return []
        norm, starts, ends = normalize_with_map(text)
        spans: list[tuple[int, int]] = []
        found: set[str] = set()
        for term, s, e in self.analyze_normalized(norm):
            if term in wanted and e > s:
                spans.append((starts[s], ends[e - 1]))
                found.add(term)
        for term in wanted - found:
            pos = norm.find(term)
            while pos >= 0:
                spans.append((starts[pos], ends[pos + len(term) - 1]))
                pos = norm.find(term, pos + 1)
        return merge_spans(spans)


def spelled_in(term: str, text: str) -> bool:
    """Whether ``text`` holds a trace of ``term``'s own spelling: one of its non-hiragana characters, or all of it.

    A morpheme whose term (its normalised form) is ``term`` and whose surface
    passes this test lies in a run that passes it too, so a caller looking
    for ``term`` may skip the runs that fail, unless the term has spellings
    that share nothing with it (こども for 子供, 一 for 1): :func:`_note_variant`
    collects those while indexing.
    """
    strong = spelling_marks(term)
    return any(c in text for c in strong) if strong else term in text


def spelling_marks(term: str) -> str:
    """``term``'s characters other than hiragana (kanji, katakana, letters, digits); empty if it is all hiragana."""
    return _HIRAGANA.sub("", term)


def _note_variant(variants: Variants, term: str, surface: str) -> None:
    if term != surface and not spelled_in(term, surface):
        variants.setdefault(term, set()).add(surface)


def _identity(word: str) -> str:
    return word


def _bigrams(norm: str, runs: re.Pattern[str] = _JA_RUN) -> list[str]:
    out: list[str] = []
    for m in runs.finditer(norm):
        run = m.group()
        if len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def _kana_bigrams(norm: str) -> list[str]:
    """Bigrams of kana/kanji runs that contain hiragana, and lone hiragana.

    The complement of the kanji/katakana bigrams: together they cover every
    bigram inside a Japanese run, which is what the index falls back on.
    """
    out: list[str] = []
    for m in _JA_RUN.finditer(norm):
        run = m.group()
        if len(run) == 1:
            if _HIRAGANA.match(run):
                out.append(run)
            continue
        if not _HIRAGANA.search(run):
            continue
        out.extend(g for i in range(len(run) - 1) if _HIRAGANA.search(g := run[i : i + 2]))
    return out


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort spans and merge those that overlap or touch."""
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


@lru_cache(maxsize=1)
def _dictionary() -> Dictionary:
    return Dictionary()


@lru_cache(maxsize=8)
def _pos_ids(drop: tuple[str, ...]) -> frozenset[int]:
    """Ids of the parts of speech to drop; an entry matches a POS prefix joined by ``,``."""
    if not drop:
        return frozenset()
    prefixes = [tuple(p.split(",")) for p in drop]
    dic = _dictionary()
    ids: set[int] = set()
    i = 0
    while True:
        try:
            pos = dic.pos_of(i)
        except (IndexError, ValueError, OverflowError):
            break
        if pos is None:
            break
        if any(pos[: len(p)] == p for p in prefixes):
            ids.add(i)
        i += 1
    return frozenset(ids)


@lru_cache(maxsize=1)
def default_analyzer() -> Analyzer:
    """The shared analyzer with the default (measured best) configuration."""
    return Analyzer()


def tokenize(text: str) -> list[str]:
    """Index terms of ``text`` with the default analyzer (see :class:`Analyzer`)."""
    return default_analyzer().tokenize(text)


def query_terms(text: str) -> list[str]:
    """Query terms of ``text`` with the default analyzer: unique, in order."""
    return default_analyzer().query_terms(text)


def bigrams(text: str) -> list[str]:
    """Kanji/katakana character bigrams of ``text`` (normalised first), as indexed."""
    return _bigrams(normalize(text), _CONTENT_RUN)


def match_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Spans of original ``text`` matching ``terms`` (see :meth:`Analyzer.match_spans`)."""
    return default_analyzer().match_spans(text, terms)
