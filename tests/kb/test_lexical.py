"""BM25 index: search, Japanese fallback, add/remove/replace, filters, persistence, segments."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from kb.search.analysis import match_spans, merge_spans
from kb.search.lexical import Bm25Index, _field

DOCS: list[tuple[int, str]] = [
    (1, "ベンダーの選定方法と評価基準"),
    (2, "予算管理とコストの見積もり"),
    (3, "Vendor selection process and criteria"),
    (4, "ＰＭＯの役割と体制"),
    (5, "国民健康保険料の納付について"),
    (6, "会議の議事録はやまだたろうが作成します"),
]


@pytest.fixture
def index() -> Bm25Index:
    ix = Bm25Index()
    ix.add(DOCS)
    return ix


def ids(hits: list[tuple[int, float]]) -> list[int]:
    return [i for i, _ in hits]


def test_search_ranks_best_first(index: Bm25Index) -> None:
    hits = index.search("ベンダー選定", 10)
    assert hits[0][0] == 1
    assert all(a[1] >= b[1] for a, b in itertools.pairwise(hits))


def test_spelling_variant_and_width_match(index: Bm25Index) -> None:
    assert ids(index.search("ベンダ", 1)) == [1]  # ベンダ finds ベンダー
    # pmo finds ＰＭＯ: an English query reaches Japanese chunks through their gloss field, which keeps their English words
    assert ids(index.search_translated("pmo", 1)) == [4]
    assert ids(index.search("ＶＥＮＤＯＲＳ", 1)) == [3]  # width, case and plural


def test_mixed_query(index: Bm25Index) -> None:
    assert set(ids(index.search("PMOの予算", 10))) >= {2, 4}


@pytest.mark.parametrize("query", ["健康保", "康保", "険料", "料の", "の納", "だた", "ろうが", "議事"])
def test_japanese_query_sharing_characters_always_finds_the_document(index: Bm25Index, query: str) -> None:
    """Substrings that are not words of the document still find it (bigrams, then kana bigrams)."""
    expected = 5 if query in "国民健康保険料の納付について" else 6
    assert expected in ids(index.search(query, 10))


def test_fallback_hits_rank_below_primary_hits(index: Bm25Index) -> None:
    hits = index.search("ろうが予算", 10)
    assert ids(hits)[0] == 2  # 予算 is a word of doc 2
    assert 6 in ids(hits)  # doc 6 only shares the kana bigram ろう/うが
    assert hits[0][1] > dict(hits)[6]


def test_no_match_and_degenerate_queries(index: Bm25Index) -> None:
    assert index.search("zzz unknownword", 10) == []
    assert index.search("", 10) == []
    assert index.search("。、", 10) == []
    assert index.search("予算", 0) == []
    assert Bm25Index().search("予算", 10) == []


def test_len_and_ids(index: Bm25Index) -> None:
    assert len(index) == 6
    assert index.ids == [1, 2, 3, 4, 5, 6]
    assert 3 in index and 99 not in index


def test_remove(index: Bm25Index) -> None:
    index.remove([1, 99])  # unknown ids are ignored
    assert 1 not in ids(index.search("ベンダー", 10))
    assert len(index) == 5
    assert index.ids == [2, 3, 4, 5, 6]


def test_re_adding_an_id_replaces_it(index: Bm25Index) -> None:
    index.add([(2, "リスク管理計画")])
    assert len(index) == 6
    assert 2 not in ids(index.search("予算", 10))
    assert ids(index.search("リスク", 10)) == [2]
    # within one batch the last text of an id wins
    index.add([(7, "一つ目"), (7, "品質保証")])
    assert ids(index.search("品質", 10)) == [7]
    assert index.search("一つ目", 10) == []


def test_allowed_filter(index: Bm25Index) -> None:
    everything = ids(index.search("管理 ベンダー 予算 pmo", 10))
    assert len(everything) >= 3
    allowed = {everything[-1], 4}
    filtered = index.search("管理 ベンダー 予算 pmo", 10, allowed=allowed.__contains__)
    assert set(ids(filtered)) == allowed
    assert index.search("管理 ベンダー 予算 pmo", 10, allowed=lambda _: False) == []


def test_allowed_filter_with_many_rejections() -> None:
    ix = Bm25Index()
    ix.add([(i, f"予算 {'管理 ' * (i % 7)}") for i in range(500)])
    hits = ix.search("予算 管理", 5, allowed=lambda i: i % 100 == 3)
    assert ids(hits) and all(i % 100 == 3 for i in ids(hits))
    assert len(hits) == 5


def test_a_row_mask_filters_as_the_same_ids_do() -> None:
    ix = Bm25Index()
    ix.add([(i, f"予算 {'管理 ' * (i % 7)} vendor {i}") for i in range(500)])
    ix.remove([103])  # a dead row is never admitted
    wanted = np.array([i for i in range(500) if i % 100 == 3] + [9999], dtype=np.int64)  # 9999: not indexed
    mask = ix.rows_of(wanted)
    for query in ("予算 管理", "vendor", "よさん"):
        for k in (2, 5, 50):
            assert ix.search(query, k, allowed=mask) == ix.search(query, k, allowed=set(wanted.tolist()).__contains__)
    assert ids(ix.search_translated("vendor", 10, allowed=mask)) == ids(
        ix.search_translated("vendor", 10, allowed=set(wanted.tolist()).__contains__)
    )
    assert 103 not in ids(ix.search("予算 管理", 10, allowed=mask))
    ix.add([(600, "予算 管理")])
    with pytest.raises(ValueError, match="before the last write"):
        ix.search("予算", 5, allowed=mask)


def test_a_row_mask_does_not_outlive_a_compaction_even_at_the_same_length() -> None:
    """Compaction moves rows: a mask of the old layout would admit other chunks, even when the row count is back."""
    ix = Bm25Index()
    ix.add([(i, f"予算 vendor {i}") for i in range(10)])
    ix.remove([0])
    mask = ix.rows_of(np.array([1], dtype=np.int64))
    ix.compact()
    ix.add([(10, "予算 vendor 10")])  # 10 rows again, every one moved up by one
    with pytest.raises(ValueError, match="before the last write"):
        ix.search("予算", 5, allowed=mask)
    assert ids(ix.search("予算", 5, allowed=ix.rows_of(np.array([1], dtype=np.int64)))) == [1]


def test_terms_in_finds_the_wanted_terms_with_original_spans(index: Bm25Index) -> None:
    text = DOCS[0][1]  # ベンダーの選定方法と評価基準
    found = index.terms_in(text, frozenset({"ベンダー", "基準", "予算"}))
    assert [(t, text[s:e]) for t, s, e in found.terms] == [("ベンダー", "ベンダー"), ("基準", "基準")]
    every = index.terms_in(text, None)
    assert [t for t, _, _ in every.terms] == index.analyzer.tokenize(text)


def test_save_and_load_round_trip(index: Bm25Index, tmp_path: Path) -> None:
    index.remove([3])
    target = tmp_path / "bm25"
    index.save(target)
    loaded = Bm25Index.load(target)
    assert loaded.ids == index.ids and len(loaded) == 5
    for query in ("ベンダー選定", "予算", "だた", "pmo", "健康保"):
        assert loaded.search(query, 10) == index.search(query, 10)
    # the loaded index keeps working incrementally
    loaded.add([(8, "調達ベンダーの契約")])
    assert 8 in ids(loaded.search("ベンダー", 10))
    # saving again replaces the directory atomically, leaving no temporary siblings
    loaded.save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bm25"]
    assert 8 in ids(Bm25Index.load(target).search("ベンダー", 10))


def test_save_keeps_options(tmp_path: Path) -> None:
    ix = Bm25Index(k1=1.1, b=0.6, bigram_weight=0.5)
    ix.add(DOCS)
    ix.save(tmp_path / "i")
    loaded = Bm25Index.load(tmp_path / "i")
    assert (loaded.k1, loaded.b, loaded.bigram_weight) == (1.1, 0.6, 0.5)
    assert loaded.analyzer_config == ix.analyzer_config


def test_load_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Bm25Index.load(tmp_path / "nothing")


def test_incremental_build_equals_bulk_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small adds (tail sealed into segments, segments merged) score like one bulk add."""
    texts = [
        (i, f"{['予算', 'ベンダー', 'リスク', '品質'][i % 4]}の管理 第{i}回 review notes {i % 3}") for i in range(120)
    ]
    bulk = Bm25Index()
    bulk.add(texts)
    monkeypatch.setattr(_field, "TAIL_LIMIT", 8)
    small = Bm25Index()
    for start in range(0, len(texts), 3):
        small.add(texts[start : start + 3])
        if start % 30 == 0:
            small.search("予算", 5)  # queries in between: impacts computed, then more rows added
    assert len(small._words.segments) > 1
    for query in ("予算の管理", "ベンダー review", "第7回", "notes 2"):
        got = small.search(query, 20)
        want = bulk.search(query, 20)
        assert ids(got) == ids(want)
        assert [round(s, 3) for _, s in got] == pytest.approx([round(s, 3) for _, s in want], rel=0.03)


def test_removals_trigger_compaction_and_keep_results_right() -> None:
    ix = Bm25Index()
    ix.add([(i, f"文書{i} 予算" if i % 2 else f"文書{i} リスク") for i in range(100)])
    ix.remove(range(0, 60))
    assert ix._dead == 0  # compacted once a fifth of the rows were dead
    assert len(ix) == 40 and ix.ids == list(range(60, 100))
    hits = ix.search("予算", 100)
    assert sorted(ids(hits)) == [i for i in range(60, 100) if i % 2]
    ix.add([(5, "予算 予算 予算")])
    assert ids(ix.search("予算", 1)) == [5]


def test_common_term_pruning_keeps_rare_terms_and_never_empties_a_query() -> None:
    ix = Bm25Index(prune_min_rows=0)
    ix.add([(i, "共通 語" + (" 希少" if i == 3 else "")) for i in range(10)])
    assert ids(ix.search("共通 希少", 10)) == [3]  # 共通 is in every row: pruned
    assert len(ix.search("共通", 10)) == 10  # but a query of only common terms still matches


def test_invalid_options() -> None:
    with pytest.raises(ValueError):
        Bm25Index(b=1.5)


def test_concurrent_searches_agree_with_sequential_ones() -> None:
    ix = Bm25Index()
    ix.add([(i, f"{['予算', 'ベンダー', 'リスク'][i % 3]}の管理 案件{i}") for i in range(300)])
    ix.add([(1000, "追加のベンダー契約")])  # stays in the doc-major tail
    queries = ["予算の管理", "ベンダー契約", "リスク", "案件7", "管理"] * 20
    expected = [ix.search(q, 10) for q in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda q: ix.search(q, 10), queries))
    assert got == expected


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("ベンダー選定 遅延", "ベンダ選定が３か月遅延した。Vendor selection slipped."),
        ("vendor selection delays", "The vendor shortlist delayed selection by ten weeks."),
        ("テスト計画", "結合テストの計画と準備"),
        ("nothing", "全く関係ない文章"),
    ],
)
def test_terms_in_agrees_with_match_spans(query: str, text: str) -> None:
    index = Bm25Index()
    found = index.terms_in(text, frozenset(index.analyzer.query_terms(query)))
    assert merge_spans([(s, e) for _, s, e in found.terms]) == match_spans(text, [t for t, _, _ in found.terms])


def test_a_hit_text_is_analysed_once_per_query_for_explanations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paging or filtering brings the same hits back for the same query: their analysis is reused."""
    index = Bm25Index()
    text = "ベンダー選定が遅延した。Vendor selection slipped."
    index.add([(1, text)])
    calls: list[str] = []
    analyse = index.analyzer.analyze_normalized
    monkeypatch.setattr(
        index.analyzer, "analyze_normalized", lambda norm, keep=None: calls.append(norm) or analyse(norm, keep)
    )
    first = index.terms_in(text, frozenset({"ベンダー", "遅延"}))
    again = index.terms_in(text, frozenset({"ベンダー", "遅延"}))
    other = index.terms_in(text, frozenset({"vendor", "選定"}))
    assert len(calls) == 2
    assert first == again and [t for t, _, _ in first.terms] == ["ベンダー", "遅延"]
    assert [t for t, _, _ in other.terms] == ["選定", "vendor"]


def _runs_analysed(index: Bm25Index, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    runs: list[str] = []
    analyse = index.analyzer._ja_terms
    monkeypatch.setattr(index.analyzer, "_ja_terms", lambda run, *a: runs.append(run) or analyse(run, *a))
    return runs


def test_terms_in_analyses_only_the_runs_that_can_hold_a_query_word(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sudachi is the cost of a hit's highlights: runs without a trace of any query word are skipped."""
    text = "本日は晴天なり、会議室の予約について、ベンダー選定が遅れた、以上です。"
    index = Bm25Index()
    index.add([(1, text)])
    words = frozenset(index.analyzer.query_terms("ベンダー選定の遅延"))
    runs = _runs_analysed(index, monkeypatch)
    found = index.terms_in(text, words)
    assert runs == ["ベンダー選定が遅れた"]
    assert [text[a:b] for _, a, b in found.terms] == ["ベンダー", "選定"]


@pytest.mark.parametrize(
    ("query", "text", "marked"),
    [
        ("子供の医療費", "ご案内します。こどもへの助成、医療費", ["こども", "医療費"]),
        ("子供", "こどものための窓口", ["こども"]),
        ("1", "一年かかる", ["一"]),
    ],
)
def test_terms_in_finds_spellings_that_share_nothing_with_the_query_word(
    query: str, text: str, marked: list[str]
) -> None:
    """こども is 子供 to the index: its highlight must not depend on sharing a character with the query."""
    index = Bm25Index()
    index.add([(1, text)])
    words = frozenset(index.analyzer.query_terms(query))
    found = index.terms_in(text, words)
    full = Bm25Index()
    full._variants = None  # as an index saved before variants were kept: every run analysed
    assert found.terms == full.terms_in(text, words).terms
    assert [text[a:b] for a, b in merge_spans([(a, b) for _, a, b in found.terms])] == marked


def test_spellings_are_kept_across_save_and_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "お知らせ。こどもの窓口"
    index = Bm25Index()
    index.add([(1, text)])
    index.save(tmp_path / "lex")
    loaded = Bm25Index.load(tmp_path / "lex")
    words = frozenset(loaded.analyzer.query_terms("子供"))
    runs = _runs_analysed(loaded, monkeypatch)
    found = loaded.terms_in(text, words)
    assert runs == ["こどもの窓口"] and [text[a:b] for _, a, b in found.terms] == ["こども"]
    (tmp_path / "lex" / "variants.json").unlink()  # saved by an older version: exact, only slower
    older = Bm25Index.load(tmp_path / "lex")
    assert older.terms_in(text, words).terms == found.terms
