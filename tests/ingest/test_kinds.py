"""Kind inference: folder, then a kind word in the file name, then in the title; a clear error otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.kinds import kind_from_words, require_kind
from ingest.markdown import MarkdownIngester
from ingest.text import TextIngester
from kb.errors import InvalidInput
from kb.record.models import Kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("release-procedure", Kind.procedure),
        ("ReleaseProcedure", Kind.procedure),
        ("kickoff_checklist_template", Kind.template),
        ("Customer support FAQ", Kind.faq),
        ("crm-migration-retrospective-2025", Kind.retrospective),
        ("Lessons learned: vendor selection", Kind.lesson),
        ("リリース手順書", Kind.procedure),
        ("見積依頼の様式", Kind.template),
        ("ＦＡＱ（総務）", Kind.faq),
        ("経費精算 よくある質問", Kind.faq),
        ("EC サイト刷新 振り返り", Kind.retrospective),
        ("データ移行の教訓", Kind.lesson),
        # the head of the compound comes last in both languages
        ("retrospective-template-ja", Kind.template),
        ("振り返りテンプレート", Kind.template),
    ],
)
def test_a_kind_word_in_either_language_names_the_kind(text: str, kind: Kind) -> None:
    assert kind_from_words(text) is kind


@pytest.mark.parametrize("text", ["notes", "templated-reports", "faqtory", "procedural notes", "2025 議事録", ""])
def test_words_that_only_contain_a_kind_word_name_none(text: str) -> None:
    assert kind_from_words(text) is None


def test_the_folder_wins_over_the_file_name_and_the_file_name_over_the_title() -> None:
    folder = require_kind(Path("/kb/faq/release-procedure.md"), source="x", title="教訓")
    name = require_kind(Path("/kb/misc/release-procedure.md"), source="x", title="教訓")
    title = require_kind(Path("/kb/misc/release.md"), source="x", title="データ移行の教訓")
    assert (folder, name, title) == (Kind.faq, Kind.procedure, Kind.lesson)


def test_markdown_without_a_kind_is_classified_by_its_title_heading() -> None:
    text = "# 変更管理手順\n\n1. 変更要求票を起票する\n2. PMOが影響を評価する\n"
    (doc,) = MarkdownIngester().parse(Path("/kb/misc/change.md"), text.encode(), source="change.md")
    assert (doc.kind, doc.title) == (Kind.procedure, "変更管理手順")


def test_text_file_without_a_kind_is_classified_by_its_file_name() -> None:
    data = b"Escalate within one hour.\nCall the duty manager first.\n"
    (doc,) = TextIngester().parse(Path("/kb/misc/escalation-runbook.txt"), data, source="escalation-runbook.txt")
    assert doc.kind is Kind.procedure


def test_nothing_naming_a_kind_is_still_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match=r"cannot tell the kind: add `kind:`.*pass --kind") as info:
        MarkdownIngester().parse(Path("/kb/misc/notes.md"), b"# Weekly notes\n\nsome text", source="notes.md")
    assert "name the kind in its file name or title" in info.value.message
    assert "手順" in info.value.message
