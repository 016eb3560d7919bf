"""Word documents: headings, lists and tables kept as Markdown; lessons and FAQs split like Markdown; originals kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.docx import DOCX_MEDIA_TYPE, DocxIngester
from ingest.options import IngestOptions
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind
from tests.ingest.samples import docx_file, encrypt_office


def parse(path: str, data: bytes, kind: Kind | None = None) -> list[DocumentDraft]:
    return DocxIngester().parse(Path(path), data, source=path, options=IngestOptions(kind=kind))


PROCEDURE = docx_file(
    [
        ("Title", "変更管理手順書"),
        ("Heading 1", "目的"),
        ("", "プロジェクトの変更要求を統制し、影響を評価してから承認する。"),
        ("Heading 1", "手順"),
        ("List Number", "変更要求票を起票する"),
        ("List Number", "PMOが影響を評価する"),
        ("List Bullet 2", "スケジュールとコストの両方を見る"),
        ("Heading 2", "承認者"),
        ("table", [["金額", "承認者"], ["100万円未満", "部長"], ["100万円以上", "本部長 | CFO"]]),
        ("", "<script>alert(1)</script> は文字として残る。"),
    ]
)


def test_a_procedure_keeps_headings_lists_tables_and_its_original() -> None:
    (doc,) = parse("/kb/procedures/change.docx", PROCEDURE)
    assert (doc.kind, doc.title, doc.language) == (Kind.procedure, "変更管理手順書", "ja")
    assert doc.body == (
        "## 目的\n\nプロジェクトの変更要求を統制し、影響を評価してから承認する。\n\n"
        "## 手順\n\n1. 変更要求票を起票する\n1. PMOが影響を評価する\n  - スケジュールとコストの両方を見る\n\n"
        "### 承認者\n\n| 金額 | 承認者 |\n| --- | --- |\n| 100万円未満 | 部長 |\n| 100万円以上 | 本部長 \\| CFO |\n\n"
        "\\<script>alert(1)\\</script> は文字として残る。"
    )
    assert doc.original is not None and doc.original.data == PROCEDURE
    assert (doc.original.filename, doc.original.media_type) == ("change.docx", DOCX_MEDIA_TYPE)
    assert doc.attachment_id == doc.original.digest


def test_a_word_lesson_fills_its_parts_and_keeps_no_original() -> None:
    data = docx_file(
        [
            ("Heading 1", "Driving event"),
            ("", "UAT started before the business users were trained."),
            ("Heading 1", "Lesson"),
            ("", "Training is part of the UAT plan, not a follow-up."),
            ("Heading 1", "Recommendation"),
            ("", "Schedule the training two weeks before UAT."),
        ],
        title="Train business users before UAT",
    )
    (doc,) = parse("/kb/x/uat.docx", data, kind=Kind.lesson)
    assert (doc.title, doc.language) == ("Train business users before UAT", "en")
    assert doc.driving_event == "UAT started before the business users were trained."
    assert doc.recommendation == "Schedule the training two weeks before UAT."
    assert doc.original is None


def test_a_word_faq_splits_at_its_questions_and_the_kind_can_come_from_the_category_property() -> None:
    data = docx_file(
        [
            ("Heading 2", "会議室の予約方法は？"),
            ("", "ポータルから予約します。"),
            ("Heading 2", "Q. 稟議の期限は？"),
            ("", "月末です。"),
        ],
        title="総務FAQ",
        category="よくある質問",
    )
    first, second = parse("/kb/misc/faq.docx", data)
    assert (first.kind, first.question, first.answer) == (Kind.faq, "会議室の予約方法は？", "ポータルから予約します。")
    assert second.question == "稟議の期限は？"
    with pytest.raises(InvalidInput, match=r"paragraph 1: question '会議室' has no answer"):
        parse("/kb/misc/faq.docx", docx_file([("Heading 2", "会議室"), ("Heading 2", "稟議"), ("", "月末")]), Kind.faq)
    with pytest.raises(InvalidInput, match=r"paragraph 3: question '稟議' has no answer"):
        parse("/kb/misc/faq.docx", docx_file([("Heading 2", "会議"), ("", "x"), ("Heading 2", "稟議")]), Kind.faq)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (encrypt_office(PROCEDURE), "password-protected"),
        (PROCEDURE[: len(PROCEDURE) // 2], "damaged or truncated"),
        (PROCEDURE[:-30], "damaged or truncated"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old binary Office file"),
        (b"%PDF-1.4 renamed", "not a zip package"),
        (docx_file([("", "   ")]), "no text"),
    ],
    ids=["encrypted", "truncated-half", "truncated-tail", "legacy-doc", "not-zip", "empty"],
)
def test_broken_word_files_get_one_clear_error(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as info:
        parse("/kb/procedures/bad.docx", data)
    assert info.value.message.startswith("/kb/procedures/bad.docx: ")


def test_without_a_kind_a_word_file_is_classified_by_its_title_or_refused() -> None:
    (doc,) = parse("/kb/misc/change.docx", PROCEDURE)  # its title is 変更管理手順書
    assert doc.kind is Kind.procedure
    with pytest.raises(InvalidInput, match="cannot tell the kind: pass --kind"):
        parse("/kb/misc/change.docx", docx_file([("Title", "変更管理"), ("", "本文")]))


def test_a_word_retrospective_splits_its_table_of_lessons_into_one_lesson_per_row() -> None:
    data = docx_file(
        [
            ("Title", "CRM刷新 振り返り"),
            ("", "全体として予定どおり稼働した。"),
            ("table", [["事象", "教訓", "提言"], ["移行が遅れた", "本番量で試す", "リハーサルを2回"], ["", "", ""]]),
        ]
    )
    retro, lesson = parse("/kb/retrospectives/crm.docx", data)
    assert retro.kind is Kind.retrospective and "| 移行が遅れた | 本番量で試す | リハーサルを2回 |" in retro.body
    assert (lesson.kind, lesson.title, lesson.driving_event, lesson.recommendation) == (
        Kind.lesson, "本番量で試す", "移行が遅れた", "リハーサルを2回",
    )  # fmt: skip
