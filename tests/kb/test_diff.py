"""The version diff compares what readers see (rendered text), with changed words marked, compactly."""

from __future__ import annotations

from kb.pmo.diff import DiffLine, diff_lines, text_blocks, word_diff


def test_equal_texts_have_no_diff() -> None:
    assert diff_lines("a\nb", "a\nb") == []
    assert diff_lines("A paragraph\nwrapped.", "A paragraph wrapped.") == []  # reads the same: no change


def test_the_rendered_text_not_the_markdown_source_is_compared() -> None:
    md = "# Title\n\nIntro **bold** text.\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert text_blocks(md) == ["Title", "Intro bold text.", "• one", "• two", "a | b", "1 | 2"]


def test_a_changed_paragraph_is_one_line_with_its_words_marked() -> None:
    old = "\n\n".join(f"Paragraph {n} stays." for n in range(10)) + "\n\nApprove the budget by Friday."
    new = old.replace("by Friday", "by Monday")
    lines = diff_lines(old, new, context=1)
    assert lines == [
        DiffLine("skip", "", 9),
        DiffLine("same", "Paragraph 9 stays."),
        DiffLine(
            "changed",
            "Approve the budget by Monday.",
            parts=(("same", "Approve the budget by "), ("removed", "Friday"), ("added", "Monday"), ("same", ".")),
        ),
    ]
    assert not any(line.text == "" and line.op != "skip" for line in lines)  # no blank line per line


def test_japanese_changes_are_marked_by_character_and_unrelated_blocks_are_removed_and_added() -> None:
    assert word_diff("承認は部長が行う", "承認は課長が行う") == (
        ("same", "承認は"),
        ("removed", "部"),
        ("added", "課"),
        ("same", "長が行う"),
    )
    assert diff_lines("## 1\n\nA", "## 1\n\nA\n\n## 2\n\nA completely different section") == [
        DiffLine("same", "1"),
        DiffLine("same", "A"),
        DiffLine("added", "2"),
        DiffLine("added", "A completely different section"),
    ]
