"""``Bm25Index``: incremental BM25 over the Japanese/English analyzer.

Four fields per chunk (see :class:`kb.search.analysis.Terms`)::

    score    = BM25(words) + bigram_weight × BM25(kanji/katakana bigrams)
    fallback = BM25(bigrams with hiragana), only when fewer than k chunks scored
    glosses  = English glosses of a Japanese chunk's words (JMdict), and its own English words

Each chunk is Japanese or English (``kb.search.language.detect_language``). A query
scores the chunks of its own language (:meth:`Bm25Index.search`); the chunks
of the other language are scored apart (:meth:`Bm25Index.search_translated`):
a Japanese query's words are translated into English glosses and searched as
Pirkola's structured query (each word's translations act as one term), an
English query searches the Japanese chunks' gloss field. Keeping the two apart
is what stops an English query's stray matches in Japanese text (a number, a
product name) from posing as the best lexical hit.

Words are the analyzer's terms (Sudachi normalised forms for Japanese,
stemmed words for English). The bigram field catches what segmentation
misses (a compound split differently in query and chunk, an unknown word);
the fallback field makes a Japanese query that shares any character bigram
with a chunk find it, even a query of hiragana only. Fallback hits are
ranked below every primary hit.

Engine: a small hand-written sparse BM25 in numpy (``_field.py``), chosen by
measurement over ``bm25s``: ``bm25s`` cannot add or remove documents (any
change re-indexes every chunk: 5–7 s at 100k chunks even with tokens given),
scores the same (Lucene BM25; nDCG@10 0.5169 vs 0.5175 here on
ja_localgovfaq with identical word tokens) and answered one query at a time
slower (p50 3.8 ms vs 0.5 ms at 100k chunks, words only).
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kb.search.analysis import Analyzer, AnalyzerConfig, Terms, Variants
from kb.search.explain import Analysed
from kb.search.language import detect_language
from kb.search.lexical.glossary import Glossary
from kb.search.lexical.highlight import TermFinder
from kb.search.lexical.translate import Translator

from ._field import F64, Field, Grow

FORMAT = "kb-bm25/2"
_FIELD_NAMES = ("words", "grams", "kana", "glosses")
_LAYOUTS = itertools.count(1)
"""Process-wide numbers for row layouts: no two layouts of any two indexes share one."""


@dataclass(frozen=True, slots=True)
class RowMask:
    """Per row of the index: admitted by a filter (see :meth:`Bm25Index.rows_of`).

    ``layout`` is the index's :attr:`Bm25Index.layout` when the mask was made:
    a mask only fits the rows it was made for, and a mask of the same length
    after a compaction and an add would silently admit other chunks.
    """

    rows: npt.NDArray[np.bool_]
    layout: int


Allowed = Callable[[int], bool] | RowMask | None
COMPACT_DEAD_SHARE = 0.2
"""Compact once this share of stored rows are tombstones."""


class Bm25Index:
    """Incremental BM25 index of chunks keyed by int64 id.

    Defaults are the measured best (``bench/lexical_eval.py``; nDCG@10, gain
    2^grade−1, on ``ja_localgovfaq``: 1 786 FAQ entries, 749 real queries,
    where Elasticsearch BM25 + Kuromoji scores 0.494 and character-bigram
    BM25 0.374):

    - chosen: **nDCG@10 0.5285, Recall@10 0.6306, MRR@10 0.5717**.
    - ``k1=1.5, b=0.75``: grid k1 ∈ {0.9, 1.2, 1.5, 2.0} × b ∈ {0.5, 0.75,
      0.9} spans 0.5211–0.5285, 1.5/0.75 best; on the English sets 1.5 is
      within 0.005 of the best k1 (2.0 on the two FAQ sets).
    - ``bigram_weight=0.25``: ×0 0.5175, ×0.1 0.5215, ×0.25 0.5285, ×0.5
      0.5290, ×1 0.5151; kanji/katakana bigrams alone 0.4790, bigrams of
      whole kana/kanji runs alone 0.3813 (the published floor is 0.374).
    - ``fallback``: hiragana bigrams only when < k chunks scored; costs
      ~35% of the index memory, never changes the top of a ranking that
      had k primary hits.
    - ``prune_df_words=0.5, prune_df_grams=0.2, prune_min_rows=20_000``:
      from 20k chunks on, a query skips terms found in more than half of
      the chunks (bigrams: a fifth) unless nothing else is left; they own
      the longest postings and barely move a ranking (forced on for the
      small eval sets: ja_localgovfaq 0.5275, ja_jsquad 0.9400 unchanged,
      en_stackfaq +0.0004, en_llis unchanged, en_covidqa_faq −0.0095).

    At 100 000 chunks (ja_localgovfaq replicated 56×, 41M characters, one
    thread, a 2-core machine shared with other jobs): query p50 ≈ 0.9–1.0 ms,
    p90 ≈ 1.4–1.8 ms, p99 ≈ 2.2–6 ms (the spread is the other load); build
    148 s of which ~85 s Sudachi analysis and ~10–14 s indexing; ~290 MiB of
    RAM once loaded (the hiragana fallback field is ~35% of it), 145 MiB on
    disk, save 0.3 s, load 0.4 s.

    Thread safety: concurrent ``search``/``terms_in`` calls are safe;
    ``add``, ``remove``, ``compact`` and ``save`` need exclusive access (a
    readers-writer lock in the service).
    """

    def __init__(
        self,
        *,
        analyzer: AnalyzerConfig | None = None,
        k1: float = 1.5,
        b: float = 0.75,
        bigram_weight: float = 0.25,
        fallback: bool = True,
        prune_df_words: float = 0.5,
        prune_df_grams: float = 0.2,
        prune_min_rows: int = 20_000,
        translate: bool = True,
        glossary: Glossary | None = None,
    ) -> None:
        if k1 < 0 or not 0.0 <= b <= 1.0 or bigram_weight < 0:
            raise ValueError("need k1 >= 0, 0 <= b <= 1, bigram_weight >= 0")
        self.analyzer_config = analyzer or AnalyzerConfig()
        self.analyzer = Analyzer(self.analyzer_config)
        self.k1 = k1
        self.b = b
        self.bigram_weight = bigram_weight
        self.fallback = fallback
        self.prune_df_words = prune_df_words
        self.prune_df_grams = prune_df_grams
        self.prune_min_rows = prune_min_rows
        self.translate = translate
        self.translator = Translator(self.analyzer, glossary)  # the dictionary side of the cross-language leg
        self._words = Field()
        self._bigrams = Field()
        self._kana = Field()
        self._glosses = Field()
        self._ja: Grow[np.bool_] = Grow(np.bool_)  # per row: the chunk is Japanese
        self._row_ids: Grow[np.int64] = Grow(np.int64)
        self._alive: Grow[np.bool_] = Grow(np.bool_)
        self._row_of: dict[int, int] = {}
        self._dead = 0
        self._dead_rows: npt.NDArray[np.int64] | None = None
        # Renewed by every change that adds or moves rows (add, compact, load; a remove only marks
        # rows dead): what a row mask, and a cache of masks, must match.
        self.layout = next(_LAYOUTS)
        # Spellings of indexed terms that share nothing with the term (see explain()); None when
        # unknown (an index saved before they were kept): explain() then analyses every run.
        self._variants: Variants | None = {}
        self.term_finder = TermFinder(self.analyzer, lambda: self._variants)  # highlights and explanations
        # A search analyses its query for the lexical leg, the ceiling and the translated leg's two
        # uses: once each per query string (lru_cache is thread-safe; the lists are never mutated).
        self._query_analysis = functools.lru_cache(maxsize=256)(self.analyzer.analyze)
        self._query_groups = functools.lru_cache(maxsize=256)(self.translator.query_groups)

    # -- writes ----------------------------------------------------------------

    def add(self, items: Sequence[tuple[int, str]]) -> None:
        """Index ``(id, text)`` pairs; an id already present is replaced."""
        if not items:
            return
        latest: dict[int, str] = {}
        for chunk_id, text in items:  # the last text of a repeated id wins
            latest.pop(int(chunk_id), None)
            latest[int(chunk_id)] = text
        self._tombstone(latest.keys())
        self.term_finder.spellings_changed()  # the texts may bring new spellings of a term
        words: list[list[str]] = []
        grams: list[list[str]] = []
        kana: list[list[str]] = []
        glosses: list[list[str]] = []
        japanese: list[bool] = []
        for text in latest.values():
            terms = self.analyzer.analyze(text, self._variants)
            words.append(terms.words)
            grams.append(terms.grams if self.bigram_weight > 0 else [])
            kana.append(terms.kana_grams if self.fallback else [])
            ja = detect_language(text) == "ja"
            japanese.append(ja)
            glosses.append(self.translator.gloss_field(terms.words) if ja and self.translate else [])
        first = self._row_ids.size
        self._words.add_rows(first, words)
        self._bigrams.add_rows(first, grams)
        self._kana.add_rows(first, kana)
        self._glosses.add_rows(first, glosses)
        self._ja.extend(np.asarray(japanese, dtype=np.bool_))
        self._row_ids.extend(list(latest.keys()))
        self._alive.extend(np.ones(len(latest), dtype=np.bool_))
        for offset, chunk_id in enumerate(latest):
            self._row_of[chunk_id] = first + offset
        self.layout = next(_LAYOUTS)
        self._maybe_compact()

    @property
    def glossary(self) -> Glossary:
        """The dictionary (JMdict unless one was given), opened on first use."""
        return self.translator.glossary

    @glossary.setter
    def glossary(self, glossary: Glossary) -> None:
        """Translate with another dictionary from now on; chunks indexed before keep the glosses they got (and
        :attr:`identity` changes, so a saved index built with the old one is rebuilt on load)."""
        self.translator.glossary = glossary
        self._query_groups.cache_clear()

    @property
    def identity(self) -> str:
        """Format and dictionary of the index: a saved index with another identity must be rebuilt."""
        return f"{FORMAT};glossary={self.glossary.identity if self.translate else 'none'}"

    def english(self, word: str) -> tuple[str, ...]:
        """The analysed English terms of a Japanese word's glosses (see :class:`Translator`)."""
        return self.translator.english(word)

    def remove(self, ids: Iterable[int]) -> None:
        """Remove chunks by id; unknown ids are ignored."""
        self._tombstone(int(i) for i in ids)
        self._maybe_compact()

    def _tombstone(self, ids: Iterable[int]) -> None:
        alive = self._alive.view()
        for chunk_id in ids:
            row = self._row_of.pop(chunk_id, None)
            if row is not None:
                alive[row] = False
                self._dead += 1
                self._dead_rows = None

    def _maybe_compact(self) -> None:
        if self._dead and self._dead >= COMPACT_DEAD_SHARE * self._row_ids.size:
            self.compact()

    def compact(self) -> None:
        """Drop removed rows now, making N, df and average length exact."""
        alive = self._alive.view().copy()
        for f in self._fields():
            f.compact(alive)
        ids = self._row_ids.view()[alive]
        self._ja.replace(self._ja.view()[alive])
        self._row_ids.replace(ids)
        self._alive.replace(np.ones(len(ids), dtype=np.bool_))
        self._row_of = {int(i): r for r, i in enumerate(ids.tolist())}
        self._dead = 0
        self._dead_rows = None
        self.layout = next(_LAYOUTS)

    # -- reads -----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._row_of)

    @property
    def ids(self) -> list[int]:
        """Ids of the indexed chunks, in row order."""
        return [int(i) for i in self._row_ids.view()[self._alive.view()].tolist()]

    def __contains__(self, chunk_id: object) -> bool:
        return isinstance(chunk_id, int | np.integer) and int(chunk_id) in self._row_of

    def _fields(self) -> tuple[Field, Field, Field, Field]:
        return self._words, self._bigrams, self._kana, self._glosses

    def _scores(self, parts: Sequence[tuple[Field, list[str], float, float]]) -> F64:
        """Sum of ``weight × BM25`` over ``(field, terms, weight, prune_df)`` parts."""
        n = self._row_ids.size
        ids = [fld.term_ids(list(dict.fromkeys(terms))) for fld, terms, _, _ in parts]
        if n >= self.prune_min_rows:
            # common-term pruning: terms in more than prune_df of the rows barely move the
            # ranking but own the longest postings; keep them only if nothing else is left
            kept = [
                [t for t in t_ids if fld.df.view()[t] <= prune_df * n]
                for t_ids, (fld, _, _, prune_df) in zip(ids, parts, strict=True)
            ]
            if any(kept):
                ids = kept
        rows: list[npt.NDArray[np.int64]] = []
        contrib: list[F64] = []
        for t_ids, (fld, _, weight, _) in zip(ids, parts, strict=True):
            r, c = fld.contributions(t_ids, weight, self.k1, self.b)
            rows.append(r)
            contrib.append(c)
        return self._sum(rows, contrib)

    def _sum(self, rows: list[npt.NDArray[np.int64]], contrib: list[F64]) -> F64:
        """Per-row sums of the contributions, 0 for dead rows."""
        n = self._row_ids.size
        if not rows:
            return np.zeros(n, dtype=np.float64)
        scores: F64 = np.bincount(np.concatenate(rows), weights=np.concatenate(contrib), minlength=n).astype(
            np.float64, copy=False
        )
        if self._dead:
            if self._dead_rows is None:
                self._dead_rows = np.flatnonzero(~self._alive.view())
            scores[self._dead_rows] = 0.0
        return scores

    def _primary(self, terms: Terms) -> tuple[tuple[Field, list[str], float, float], ...]:
        # bigrams inside a query word the index knows add nothing the word does not: skipping
        # them cuts the postings read by ~35% at equal quality (bench: 0.5265 vs 0.5267)
        known = [w for w in terms.words if len(w) > 1 and w in self._words.vocab]
        grams = [g for g in terms.grams if not any(g in w for w in known)]
        return (
            (self._words, terms.words, 1.0, self.prune_df_words),
            (self._bigrams, grams, self.bigram_weight, self.prune_df_grams),
        )

    def scores(self, query: str) -> F64:
        """Primary BM25 score (words + weighted bigrams) of every stored row; 0 for dead rows."""
        terms = self._query_analysis(query)
        return self._scores(self._primary(terms))

    def ceiling(self, query: str) -> float:
        """The primary score of a chunk holding each query term once, at average length: Σ weight × idf.

        Dividing a chunk's score by it gives how much of the query the chunk
        matches, weighted by how rare each word is: about 1 when it holds every
        query word, 0.2 when it shares one common word of five. Unlike dividing
        by the best score of the ranking, it does not turn a stray match into
        a perfect one when nothing better exists, so it compares across
        queries and across the store's languages (see ``kb.search.fusion``). A query
        word the index has never seen counts with the idf of a word in no
        chunk: a chunk cannot match it, so it cannot match the whole query.
        Only the query's ``CEILING_TERMS`` most telling terms count: a long
        query is covered by a chunk holding those.
        """
        return _top_sum(self._ceiling_parts(self._primary(self._query_analysis(query))))

    def query_words(self, query: str) -> int:
        """How many distinct words the query has, as the index analyses it (how long a query is)."""
        return len(set(self._query_analysis(query).words))

    def translated_ceiling(self, query: str) -> float:
        """:meth:`ceiling` for :meth:`translated_scores`: one idf per translated word (or English query word).

        A Japanese word's group of glosses counts with the idf of its most
        common known gloss (the group's document frequency is at least that),
        or of a word in no chunk when none of its glosses is indexed.
        """
        n = self._row_ids.size
        if detect_language(query) != "ja":
            words = self.analyzer.query_terms(query)
            return _top_sum(self._ceiling_parts(((self._glosses, words, 1.0, 1.0),)))
        df = self._words.df.view()
        groups = (self._words.term_ids(group) for group in self.translation(query))
        return _top_sum(_idf(n, max((int(df[t]) for t in known), default=0)) for known in groups)

    def _ceiling_parts(self, parts: Sequence[tuple[Field, list[str], float, float]]) -> Iterator[float]:
        n = self._row_ids.size
        for fld, terms, weight, _ in parts:
            df = fld.df.view()
            for term in dict.fromkeys(terms):
                tid = fld.vocab.get(term)
                yield weight * _idf(n, int(df[tid]) if tid is not None else 0)

    def _other_language(self, query: str) -> npt.NDArray[np.bool_]:
        """Rows in the other language than ``query``'s."""
        ja = self._ja.view()
        return ~ja if detect_language(query) == "ja" else ja

    def rows_of(self, chunk_ids: npt.NDArray[np.int64]) -> RowMask:
        """The rows holding ``chunk_ids`` (ids not indexed are ignored), as a mask to pass as ``allowed``.

        A mask filters with one vector operation before ranking, where a
        callable is asked row by row while ranking (~600 rows per leg for a
        filter that admits a sixth of the chunks: a few ms at 100k chunks). It
        describes the rows as they are now: valid until rows are added or
        moved (a compaction, which ``save`` also runs), i.e. while
        :attr:`layout` is unchanged; a search with a stale mask raises.
        """
        return RowMask(np.isin(self._row_ids.view(), chunk_ids), self.layout)

    def _admit(self, scores: F64, allowed: Allowed) -> Callable[[int], bool] | None:
        """Zero the scores of the rows a mask excludes; return the callable filter left to apply, if any."""
        if allowed is None or callable(allowed):
            return allowed
        if allowed.layout != self.layout or allowed.rows.shape != scores.shape:
            raise ValueError("a row mask from before the last write")
        scores[~allowed.rows] = 0.0
        return None

    def search(self, query: str, k: int, allowed: Allowed = None) -> list[tuple[int, float]]:
        """The ``k`` best ``(id, score)`` among the chunks in ``query``'s language, best first.

        Ties: earlier row first. ``allowed`` filters: a callable by id, called
        lazily, best candidate first, only until ``k`` are accepted; or a row
        mask from :meth:`rows_of`. When
        fewer than ``k`` chunks match the words and kanji/katakana bigrams,
        chunks sharing a hiragana bigram with the query follow, scored below
        every primary hit. With ``translate`` off every chunk is scored.
        """
        if k <= 0 or not self._row_of:
            return []
        terms = self._query_analysis(query)
        other = self._other_language(query) if self.translate else None
        scores = self._scores(self._primary(terms))
        if other is not None:
            scores[other] = 0.0
        keep = self._admit(scores, allowed)
        out = self._take(scores, k, keep)
        if len(out) < k and self.fallback and terms.kana_grams:
            extra = self._scores(((self._kana, terms.kana_grams, 1.0, self.prune_df_grams),))
            if other is not None:
                extra[other] = 0.0
            extra[scores > 0] = 0.0  # primary hits were offered already
            self._admit(extra, allowed)
            top = float(extra.max()) if len(extra) else 0.0
            if top > 0:
                if out:  # rank below the primary hits
                    extra *= 0.5 * out[-1][1] / top
                out += self._take(extra, k - len(out), keep)
        return out

    def translation(self, query: str) -> list[list[str]]:
        """A Japanese query as English term groups, one per query word (its gloss terms; English words as is).

        Empty for an English query (it is matched against the gloss field instead).
        """
        if not self.translate or detect_language(query) != "ja":
            return []
        return self._query_groups(query)

    def translated_scores(self, query: str) -> F64:
        """BM25 of every row in the other language than ``query``'s, across languages (0 elsewhere).

        A Japanese query: its translation (:meth:`translation`) as a structured
        query on the English chunks' words. An English query: its words on the
        Japanese chunks' gloss field.
        """
        if detect_language(query) == "ja":
            groups = [ids for g in self.translation(query) if (ids := self._words.term_ids(g))]
            n = self._row_ids.size
            if n >= self.prune_min_rows:
                # as common-term pruning in _scores: a group holding a term found in more than
                # prune_df of the rows is at least that common (its df is a union), so it weighs
                # next to nothing and owns the longest postings
                df = self._words.df.view()
                kept = [g for g in groups if max(df[t] for t in g) <= self.prune_df_words * n]
                groups = kept or groups
            rows, contrib = self._words.group_contributions(groups, self.k1, self.b)
            scores = self._sum([rows], [contrib])
        else:
            words = self.analyzer.query_terms(query)
            scores = self._scores(((self._glosses, words, 1.0, self.prune_df_words),))
        scores[~self._other_language(query)] = 0.0
        return scores

    def search_translated(self, query: str, k: int, allowed: Allowed = None) -> list[tuple[int, float]]:
        """The ``k`` best ``(id, score)`` among the chunks in the other language (see :meth:`translated_scores`)."""
        if k <= 0 or not self._row_of or not self.translate:
            return []
        scores = self.translated_scores(query)
        return self._take(scores, k, self._admit(scores, allowed))

    def _take(self, scores: F64, k: int, allowed: Callable[[int], bool] | None) -> list[tuple[int, float]]:
        row_ids = self._row_ids.view()
        if allowed is None:  # the first k rows, read out in one vector operation each
            rows = list(itertools.islice(_ranked(scores, k), k))
            return list(zip(row_ids[rows].tolist(), scores[rows].tolist(), strict=True))
        out: list[tuple[int, float]] = []
        for row in _ranked(scores, 4 * k):
            chunk_id = int(row_ids[row])
            if allowed(chunk_id):
                out.append((chunk_id, float(scores[row])))
                if len(out) == k:
                    break
        return out

    def terms_in(self, text: str, words: frozenset[str] | None) -> Analysed:
        """``text`` normalised, its offset maps, and its terms among ``words`` (all its terms when None).

        For explanations and highlights (:mod:`kb.search.explain`), analysing
        only the runs that can hold one of ``words``
        (:class:`kb.search.lexical.highlight.TermFinder`).
        """
        return self.term_finder.terms_in(text, words)

    # -- persistence -------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write the index to ``directory`` atomically (temp dir, then rename)."""
        directory = Path(directory)
        if self._dead:
            self.compact()
        for f in self._fields():
            f.flush()
        parent = directory.parent
        parent.mkdir(parents=True, exist_ok=True)
        tmp = parent / f".{directory.name}.tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            meta: dict[str, Any] = {
                "format": FORMAT,
                "k1": self.k1,
                "b": self.b,
                "bigram_weight": self.bigram_weight,
                "fallback": self.fallback,
                "prune_df_words": self.prune_df_words,
                "prune_df_grams": self.prune_df_grams,
                "prune_min_rows": self.prune_min_rows,
                "translate": self.translate,
                "identity": self.identity,
                "analyzer": {**asdict(self.analyzer_config), "stopwords": sorted(self.analyzer_config.stopwords)},
                "rows": self._row_ids.size,
            }
            arrays: dict[str, npt.NDArray[Any]] = {"row_ids": self._row_ids.view(), "ja": self._ja.view()}
            for name, fld in zip(_FIELD_NAMES, self._fields(), strict=True):
                indptr, rows, tfs = fld.main_arrays()
                arrays[f"{name}_indptr"] = indptr
                arrays[f"{name}_rows"] = rows
                arrays[f"{name}_tfs"] = tfs
                arrays[f"{name}_df"] = fld.df.view()
                arrays[f"{name}_lengths"] = fld.lengths.view()
                with open(tmp / f"{name}.vocab.json", "w", encoding="utf-8") as fh:
                    json.dump(fld.terms, fh, ensure_ascii=False)
            if self._variants is not None:
                with open(tmp / "variants.json", "w", encoding="utf-8") as fh:
                    json.dump({t: sorted(v) for t, v in self._variants.items()}, fh, ensure_ascii=False)
            np.savez(tmp / "arrays.npz", **arrays)  # type: ignore[arg-type]
            with open(tmp / "meta.json", "w", encoding="utf-8") as fh:
                json.dump(meta, fh, ensure_ascii=False, indent=1)
            for path in tmp.iterdir():
                with open(path, "rb") as fh:
                    os.fsync(fh.fileno())
            old = parent / f".{directory.name}.old-{uuid.uuid4().hex}"
            if directory.exists():
                os.rename(directory, old)
            os.rename(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, directory: Path, *, glossary: Glossary | None = None) -> Bm25Index:
        """Read an index written by :meth:`save`; ``ValueError`` when it was built with another format or dictionary."""
        directory = Path(directory)
        if not (directory / "meta.json").exists():
            # a crash between the two renames of save() leaves only the old copy
            olds = sorted(directory.parent.glob(f".{directory.name}.old-*"), key=lambda p: p.stat().st_mtime)
            if not olds:
                raise FileNotFoundError(f"no BM25 index in {directory}")
            directory = olds[-1]
        with open(directory / "meta.json", encoding="utf-8") as fh:
            meta = json.load(fh)
        if meta.get("format") != FORMAT:
            raise ValueError(f"unsupported index format {meta.get('format')!r} in {directory}")
        a = dict(meta["analyzer"])
        a["stopwords"] = frozenset(a["stopwords"])
        a["drop_pos"] = tuple(a["drop_pos"])
        index = cls(
            analyzer=AnalyzerConfig(**a),
            k1=meta["k1"],
            b=meta["b"],
            bigram_weight=meta["bigram_weight"],
            fallback=meta["fallback"],
            prune_df_words=meta["prune_df_words"],
            prune_df_grams=meta["prune_df_grams"],
            prune_min_rows=meta["prune_min_rows"],
            translate=meta["translate"],
            glossary=glossary,
        )
        if meta.get("identity") != index.identity:
            raise ValueError(f"index in {directory} was built as {meta.get('identity')!r}, not {index.identity!r}")
        with np.load(directory / "arrays.npz") as z:
            row_ids = z["row_ids"]
            for name, field in zip(_FIELD_NAMES, index._fields(), strict=True):
                field.df.replace(z[f"{name}_df"])
                field.lengths.replace(z[f"{name}_lengths"])
                field.load_segment(
                    z[f"{name}_indptr"].astype(np.int64),
                    z[f"{name}_rows"].astype(np.int32),
                    z[f"{name}_tfs"].astype(np.uint16),
                )
                with open(directory / f"{name}.vocab.json", encoding="utf-8") as fh:
                    field.terms = json.load(fh)
                field.vocab = {t: i for i, t in enumerate(field.terms)}
            index._ja.replace(z["ja"])
        variants = directory / "variants.json"
        if variants.exists():
            with open(variants, encoding="utf-8") as fh:
                index._variants = {t: set(v) for t, v in json.load(fh).items()}
        else:  # saved before variants were kept: explain() analyses every run
            index._variants = None
        index._row_ids.replace(row_ids)
        index._alive.replace(np.ones(len(row_ids), dtype=np.bool_))
        index._row_of = {int(i): r for r, i in enumerate(row_ids.tolist())}
        index.layout = next(_LAYOUTS)
        return index

    def nbytes(self) -> int:
        """Approximate bytes held by the numpy arrays (vocabularies not counted)."""
        return sum(f.nbytes() for f in self._fields()) + self._row_ids.view().nbytes * 2


CEILING_TERMS = 10
"""A chunk holding the query's ten most telling terms (by weight × idf) matches all of it.

A long query (a paragraph describing what went wrong) cannot be matched whole
by any one chunk; without the cap its coverage stayed small for every document
and the dense leg decided alone (en_llis_event2lesson, narrative queries,
nDCG@10 0.853 → 0.782). Capped at 10 terms: 0.840, queries of ten terms or
fewer are unchanged, and no other set moved by more than +0.004 (8 terms let 21 %
of oos_nasa through, 10 terms 19.5 %).
"""


def _top_sum(parts: Iterable[float]) -> float:
    """The sum of the ``CEILING_TERMS`` largest of ``parts``."""
    return sum(sorted(parts, reverse=True)[:CEILING_TERMS])


def _idf(n: int, df: int) -> float:
    """BM25's idf (as ``Field.contributions`` computes it), the score of one occurrence at average length."""
    return float(np.log1p((n - df + 0.5) / (df + 0.5)))


def _ranked(scores: F64, first: int) -> Iterator[int]:
    """Rows with a positive score, best first, ties by row; ranked lazily in growing pools.

    A pool is every row scoring at least some threshold, so each pool is a
    prefix of the full ranking. The threshold starts at half the best score
    and is lowered until the pool holds ``n`` rows (cheap vector compares; no
    partition of the whole array, which is slow when scores tie a lot); a
    large pool is cut to its ``n`` best with a partition. Pools grow 8× while
    the caller keeps asking (a restrictive ``allowed`` filter), so the common
    case sorts about ``first`` rows.
    """
    if not len(scores):
        return
    best = float(scores.max())
    if best <= 0:
        return
    done = 0
    n = first
    while True:
        frac = 0.5
        while True:
            cand = np.flatnonzero(scores >= best * frac) if frac > 0 else np.flatnonzero(scores)
            if len(cand) >= n or frac == 0:
                break
            frac = frac / 8 if frac > 1e-4 else 0.0
        pool = len(cand)
        cs = scores[cand]
        if pool > n:
            threshold = np.partition(cs, len(cs) - n)[len(cs) - n]
            keep = cs >= threshold
            cand, cs = cand[keep], cs[keep]
        ranked = cand[np.lexsort((cand, -cs))]
        yield from ranked[done:].tolist()
        done = len(ranked)
        if frac == 0 and pool <= n:
            return  # every positive row has been ranked
        n *= 8


__all__ = ["Bm25Index"]
