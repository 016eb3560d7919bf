"""Snippets: the window with the most matches, marked, never markup."""

from __future__ import annotations

from kb.search.snippets import SnippetPart, snippet, window


def test_short_text_is_shown_whole_with_matches_marked() -> None:
    assert snippet("ベンダー選定が遅延した", [(0, 4), (7, 9)]) == [
        SnippetPart("ベンダー", True),
        SnippetPart("選定が"),
        SnippetPart("遅延", True),
        SnippetPart("した"),
    ]


def test_window_prefers_the_densest_region_and_keeps_left_context() -> None:
    spans = [(10, 12), (500, 503), (520, 523), (540, 545)]
    begin, end = window(1000, spans, 100)
    assert (begin, end) == (480, 580)


def test_cut_text_gets_ellipses_and_newlines_become_spaces() -> None:
    text = "a" * 300 + "\nmatch here\n" + "b" * 300
    segments = snippet(text, [(301, 306)], width=100)
    assert segments[0] == SnippetPart("…") and segments[-1] == SnippetPart("…")
    assert SnippetPart("match", True) in segments
    assert all("\n" not in s.text for s in segments)


def test_no_spans_shows_the_start() -> None:
    assert snippet("x" * 500, [], width=50) == [SnippetPart("x" * 50), SnippetPart("…")]


def test_markup_in_text_stays_text() -> None:
    segments = snippet("<script>alert(1)</script>", [(8, 13)])
    assert "".join(s.text for s in segments) == "<script>alert(1)</script>"


def test_a_match_the_window_cuts_is_shown_whole() -> None:
    """The window's edge never leaves half a word marked ("da" of "data")."""
    text = "x" * 95 + " data " + "y" * 100
    segments = snippet(text, [(96, 100)], width=98)
    assert SnippetPart("data", True) in segments
    assert all(s.text in ("data", "…") or not s.match for s in segments)


def test_a_snippet_never_starts_or_ends_inside_a_latin_word() -> None:
    text = "前置き。" * 40 + "RFPdocument発行後に要件が変わった。" + "後書き" * 30
    at = text.index("要件")
    shown = "".join(p.text for p in snippet(text, [(at, at + 2)], width=60))  # the window starts 12 before 要件
    assert shown.startswith("…RFPdocument発行後")
    long = "x" * 10 + " " + "a" * 300
    assert len("".join(p.text for p in snippet(long, [(5, 6)], width=50))) <= 52  # a 300-letter run is still cut
