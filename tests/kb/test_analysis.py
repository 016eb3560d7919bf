"""Text analysis: normalisation, Japanese/English/mixed tokens, language, highlight spans."""

from __future__ import annotations

import pytest

from kb.search.analysis import (
    Analyzer,
    AnalyzerConfig,
    bigrams,
    match_spans,
    normalize,
    normalize_with_map,
    query_terms,
    tokenize,
)
from kb.search.language import detect_language


def test_normalize_folds_width_and_case() -> None:
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert normalize("ｶﾞｲﾄﾞﾗｲﾝ") == "ガイドライン"
    assert normalize("PMO Office") == "pmo office"


def test_normalize_with_map_points_back_to_the_original() -> None:
    text = "ＰＭＯのｶﾞｲﾄﾞ"
    norm, starts, ends = normalize_with_map(text)
    assert norm == "pmoのガイド"
    assert len(starts) == len(ends) == len(norm)
    # ガ came from two half-width characters (ｶ + ﾞ)
    g = norm.index("ガ")
    assert text[starts[g] : ends[g]] == "ｶﾞ"


@pytest.mark.parametrize(
    "text",
    [
        "【お知らせ】（１）申込み・届出は〒６６０－８５０１まで。\n■ＦＡＱ：Ｑ＆Ａ～",
        "ｶﾞｲﾄﾞ ﬁle Straße İstanbul ㄱㅏ e\u0301 ①② ㍻ ﾊﾟﾊﾟ",
        "“quoted” — it’s ※ 々 ═",
    ],
)
def test_normalize_with_map_agrees_with_normalize(text: str) -> None:
    norm, starts, ends = normalize_with_map(text)
    assert len(starts) == len(ends) == len(norm)
    assert all(0 <= a < b <= len(text) for a, b in zip(starts, ends, strict=True))
    if "ㄱㅏ" not in text:  # Hangul jamo compose across characters: the documented exception
        assert norm == normalize(text)
    if "６６０" in text:  # full-width digits normalise one for one, and map back position for position
        at = norm.index("660-8501")
        assert text[starts[at] : ends[at + 7]] == "６６０－８５０１"


def test_full_width_and_half_width_tokenize_alike() -> None:
    assert tokenize("ＡＢＣ１２３") == tokenize("abc123") == ["abc123"]
    assert tokenize("ｶﾞｲﾄﾞﾗｲﾝ") == tokenize("ガイドライン")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ベンダー", "ベンダ"),
        ("サーバー", "サーバ"),
        ("申し込み", "申込"),
        ("申し込み", "申込み"),
    ],
)
def test_spelling_variants_fold_to_one_term(a: str, b: str) -> None:
    assert tokenize(a) == tokenize(b)
    assert len(tokenize(a)) == 1


def test_particles_auxiliaries_and_punctuation_are_dropped() -> None:
    terms = tokenize("ベンダーの選定を行った。")
    assert "選定" in terms and "ベンダー" in terms
    for dropped in ("の", "を", "た", "。"):
        assert dropped not in terms


def test_mixed_script_text() -> None:
    terms = tokenize("PMOのプロジェクト計画をreviewする（2024年度）")
    assert terms[:4] == ["pmo", "プロジェクト", "計画", "review"]
    assert "2024" in terms and "年度" in terms


def test_english_words_lowercased_stopworded_and_stemmed() -> None:
    assert tokenize("The Projects of the PMO") == ["project", "pmo"]
    assert tokenize("vendors") == tokenize("vendor")
    assert tokenize("the vendor's contract") == ["vendor", "contract"]


def test_unstemmed_analyzer_keeps_words() -> None:
    plain = Analyzer(AnalyzerConfig(stemmer="none", stopwords=frozenset()))
    assert plain.tokenize("The Projects") == ["the", "projects"]


def test_query_terms_are_unique_in_order() -> None:
    assert query_terms("予算 予算 管理") == ["予算", "管理"]


def test_bigrams_of_kanji_and_katakana_runs() -> None:
    assert bigrams("国民健康保険") == ["国民", "民健", "健康", "康保", "保険"]
    # hiragana splits runs; a one-character run gives itself
    assert bigrams("料の納付") == ["料", "納付"]
    assert bigrams("english only") == []


def test_kana_bigrams_cover_what_the_other_terms_miss() -> None:
    terms = Analyzer().analyze("これはテストです")
    assert terms.words == ["テスト"]
    assert "です" in terms.kana_grams and "これ" in terms.kana_grams


def test_long_input_does_not_crash() -> None:
    text = "これはプロジェクト管理のテストです。" * 4000  # ~200 KB of UTF-8, over Sudachi's limit
    terms = tokenize(text)
    assert terms.count("テスト") == 4000
    assert tokenize("あ" * 60_000) is not None  # no sentence ends at all


def test_empty_and_symbol_only_text() -> None:
    assert tokenize("") == []
    assert tokenize("。、！？ ---") == []
    assert query_terms("   ") == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("会議の議事録を共有します", "ja"),
        ("Meeting minutes are shared weekly", "en"),
        ("PMOのproject management officeについて", "ja"),
        ("We met 田中 yesterday at the office", "en"),
        ("ｶﾞｲﾄﾞﾗｲﾝ", "ja"),
        ("", "en"),
        ("12345", "en"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_match_spans_maps_full_width_text_to_original_offsets() -> None:
    text = "ＰＭＯのベンダ選定ｶﾞｲﾄﾞ"
    spans = match_spans(text, query_terms("pmo ベンダー ガイド"))
    assert [text[s:e] for s, e in spans] == ["ＰＭＯ", "ベンダ", "ｶﾞｲﾄﾞ"]
    assert spans == [(0, 3), (4, 7), (9, 14)]


def test_match_spans_english_stem_and_case() -> None:
    text = "Vendor selection: the VENDORS were reviewed."
    spans = match_spans(text, query_terms("vendor"))
    assert [text[s:e] for s, e in spans] == ["Vendor", "VENDORS"]


def test_match_spans_substring_terms_and_merging() -> None:
    text = "国民健康保険料"
    # a bigram is not a token of the text: matched as a substring, overlaps merged
    assert match_spans(text, ["民健", "健康"]) == [(1, 4)]
    assert match_spans(text, []) == []
    assert match_spans("", ["a"]) == []


def test_a_remembered_run_gives_its_spans_at_each_place_it_appears() -> None:
    """Highlights remember each kana/kanji run's analysis (Analyzer._analyse_run); spans move with the run."""
    analyzer = Analyzer()
    norm = normalize("要件定義の遅延。 CRM: 要件定義の遅延")
    found = analyzer.analyze_normalized(norm)
    first = [(t, s, e) for t, s, e in found if s < norm.index("crm")]
    second = [(t, s, e) for t, s, e in found if s > norm.index("crm")]
    shift = norm.rindex("要件") - norm.index("要件")
    assert first and [(t, s + shift, e + shift) for t, s, e in first] == second
    assert all(norm[s:e] for _, s, e in found)
    assert [t for t, _, _ in found] == [t for t in analyzer.tokenize(norm)]  # the same terms as indexing
