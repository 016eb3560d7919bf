from __future__ import annotations

from kb.pmo.diff import DiffLine, diff_lines


def test_equal_texts_have_no_diff() -> None:
    assert diff_lines("a\nb", "a\nb") == []


def test_changed_line_is_removed_then_added_with_context_and_folding() -> None:
    old = "\n".join(f"line {n}" for n in range(10))
    new = old.replace("line 5", "line five")
    assert diff_lines(old, new, context=1) == [
        DiffLine("skip", "", 4),
        DiffLine("same", "line 4"),
        DiffLine("removed", "line 5"),
        DiffLine("added", "line five"),
        DiffLine("same", "line 6"),
        DiffLine("skip", "", 3),
    ]


def test_added_section_at_the_end() -> None:
    assert diff_lines("## 1\nA", "## 1\nA\n## 2\nB") == [
        DiffLine("same", "## 1"),
        DiffLine("same", "A"),
        DiffLine("added", "## 2"),
        DiffLine("added", "B"),
    ]
