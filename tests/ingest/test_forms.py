"""The retrospective form's domain rules, whatever calls them (API, page, CLI)."""

from __future__ import annotations

import pytest

from ingest.forms import LessonEntry, RetrospectiveEntry, retrospective_drafts
from kb.errors import InvalidInput


def test_a_blank_lesson_is_an_invalid_input_naming_it() -> None:
    entry = RetrospectiveEntry(title="t", lessons=[LessonEntry(lesson="ok"), LessonEntry(lesson=" \n ")])
    with pytest.raises(InvalidInput, match=r"^lessons\.1\.lesson: a lesson cannot be blank"):
        retrospective_drafts(entry)


def test_each_lesson_is_titled_by_its_first_line() -> None:
    _, drafts = retrospective_drafts(RetrospectiveEntry(title="t", lessons=[LessonEntry(lesson="\n  First\nsecond")]))
    assert [d.title for d in drafts] == ["t", "First"]


def test_a_line_typed_with_a_bullet_is_one_list_item_not_two() -> None:
    entry = RetrospectiveEntry(
        title="t",
        lessons=[LessonEntry(lesson="x")],
        went_well=["- 早期にレビューした", "* weekly demos", "・ 定例会", "-5 % cost", "plain"],
    )
    _, (retro, _lesson) = retrospective_drafts(entry)
    assert "- 早期にレビューした\n- weekly demos\n- 定例会\n- -5 % cost\n- plain" in retro.body
    assert "- -" not in retro.body.replace("- -5", "")
