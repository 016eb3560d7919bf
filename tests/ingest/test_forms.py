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


def test_a_lesson_of_one_line_is_written_once_under_the_lessons_heading() -> None:
    one = "切替前に在庫データの照合手順を決めておく。"
    entry = RetrospectiveEntry(
        title="倉庫移転の振り返り",
        lessons=[
            LessonEntry(lesson=one),
            LessonEntry(lesson="照合は二人で行う。\n片方は現場の担当者にする。", title="照合の体制"),
            LessonEntry(lesson="早めに決める。", driving_event="照合手順が前日まで決まらなかった。"),
        ],
    )
    _, (retro, *lessons) = retrospective_drafts(entry)
    assert retro.body.count(one) == 1 and retro.body.count("教訓") == 2  # the section, and the third lesson's part
    assert "### 照合の体制\n\n照合は二人で行う。\n片方は現場の担当者にする。" in retro.body
    assert "#### 教訓\n\n早めに決める。" in retro.body  # a lesson with other parts keeps their headings
    assert [d.title for d in lessons] == [one, "照合の体制", "早めに決める。"]
