"""Markdown ingest: front matter, kinds, retrospectives split into lessons, FAQ files split into pairs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ingest.markdown import MarkdownIngester
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind, Status
from kb.record.store import document_id
from tests.ingest.hostile import alias_bomb, deep_front_matter, huge_front_matter


def parse(text: str, path: str = "/kb/notes/x.md") -> list[DocumentDraft]:
    return MarkdownIngester().parse(Path(path), text.encode("utf-8"), source=path)


RETRO_JA = """---
kind: retrospective
title: 基幹システム刷新 振り返り
project: 基幹システム刷新
phase: 移行
tags: [移行, ベンダー]
date: 2025-10-01
---

## うまくいったこと

- 週次の定例で課題を早期に共有できた

## 課題・うまくいかなかったこと

- ベンダー選定に3か月かかった

## 教訓

### 評価基準を先に決める

**事象**: RFP発行後に評価項目を議論し始め、選定が長期化した。

**教訓**: 評価基準と配点はRFP前に合意しておく。

**提言**: ベンダー評価シートをRFPと同時に承認する。

### 引き継ぎ資料を成果物にする

**事象**: 担当者交代で設計判断の経緯が失われた。

**提言**: 判断記録（ADR）を残す。

## 改善策・次回への提言

- 評価シートのテンプレートを使う
"""


def test_retrospective_yields_itself_and_one_lesson_per_subheading() -> None:
    retro, first, second = parse(RETRO_JA)
    assert retro.kind is Kind.retrospective and retro.project == "基幹システム刷新"
    assert first.kind is Kind.lesson and first.title == "評価基準を先に決める"
    assert first.driving_event == "RFP発行後に評価項目を議論し始め、選定が長期化した。"
    assert first.lesson == "評価基準と配点はRFP前に合意しておく。"
    assert first.recommendation == "ベンダー評価シートをRFPと同時に承認する。"
    assert first.parent_id == document_id("/kb/notes/x.md", "main")
    assert (first.project, first.phase, first.tags, str(first.doc_date)) == (
        "基幹システム刷新",
        "移行",
        ["移行", "ベンダー"],
        "2025-10-01",
    )
    assert first.body.startswith("## 事象\n\nRFP発行後")
    assert second.recommendation == "判断記録（ADR）を残す。" and second.lesson is None
    assert [d.key for d in (retro, first, second)] == ["main", "lesson-1", "lesson-2"]


RETRO_EN_LISTS = """---
title: CRM migration retrospective
lang: en
---

## What went well

- Daily stand-ups with the vendor

## What went wrong

- The vendor shortlist took ten weeks
- Test data was ready only in week 9

## Lessons

- Agree selection criteria before the RFP
- Test data is a deliverable with an owner

## Action items

1. Publish the vendor evaluation sheet with the RFP
2. Name a test data owner at kickoff
"""


def test_retrospective_lists_are_paired_by_position() -> None:
    _, first, second = parse(RETRO_EN_LISTS, "/kb/retrospectives/crm.md")
    assert first.lesson == "Agree selection criteria before the RFP"
    assert first.driving_event == "The vendor shortlist took ten weeks"
    assert first.recommendation == "Publish the vendor evaluation sheet with the RFP"
    assert second.driving_event == "Test data was ready only in week 9"
    assert second.recommendation == "Name a test data owner at kickoff"
    assert second.body == (
        "## Driving event\n\nTest data was ready only in week 9\n\n## Lesson\n\n"
        "Test data is a deliverable with an owner\n\n## Recommendation\n\nName a test data owner at kickoff"
    )


def test_retrospective_lists_of_other_lengths_are_not_paired() -> None:
    text = RETRO_EN_LISTS.replace("- Test data was ready only in week 9\n", "")
    _, first, _ = parse(text, "/kb/retrospectives/crm.md")
    assert first.driving_event is None


FAQ = """---
kind: faq
title: PMO internal FAQ
lang: ja
category: 申請
---

## Q. 予算の追加申請はどこから出しますか？

A. PMOポータルの「予算変更」フォームから申請してください。

## 変更要求の承認にはどのくらいかかりますか？

通常5営業日です。
"""


def test_faq_file_yields_one_document_per_question() -> None:
    first, second = parse(FAQ)
    assert first.kind is Kind.faq
    assert first.question == first.title == "予算の追加申請はどこから出しますか？"
    assert first.answer == "PMOポータルの「予算変更」フォームから申請してください。"
    assert second.question == "変更要求の承認にはどのくらいかかりますか？"
    assert first.category == "申請" and first.meta == {"collection": "PMO internal FAQ"}
    assert first.key != second.key and first.key.startswith("faq-")


def test_faq_keys_follow_the_question_not_its_position() -> None:
    before = {d.question: d.key for d in parse(FAQ)}
    moved = FAQ.replace("## Q. 予算", "## 新しい質問？\n\n回答です。\n\n## Q. 予算")
    after = {d.question: d.key for d in parse(moved)}
    assert all(after[q] == k for q, k in before.items())


def test_lesson_sections_become_fields() -> None:
    (doc,) = parse(
        "---\ntitle: Vendor delays\n---\n\n## Driving event\n\nIt slipped.\n\n## Lesson\n\nDecide early.\n\n"
        "## Recommendation\n\nUse the sheet.\n",
        "/kb/lessons/v.md",
    )
    assert (doc.kind, doc.driving_event, doc.lesson, doc.recommendation) == (
        Kind.lesson,
        "It slipped.",
        "Decide early.",
        "Use the sheet.",
    )
    assert doc.language == "en"


def test_kind_from_folder_title_from_heading_and_language_detected() -> None:
    (doc,) = parse("# 変更管理手順\n\n1. 変更要求を起票する。\n", "/kb/procedures/change.md")
    assert doc.kind is Kind.procedure and doc.title == "変更管理手順" and doc.language == "ja"
    assert doc.body == "1. 変更要求を起票する。"


def test_template_front_matter_fields() -> None:
    (doc,) = parse(
        "---\nkind: template\ntitle: Risk register\nversion: 2.0\nstatus: Draft\nreview_by: 2027-03-31\n"
        "supersedes: Risk register 1.0\nowner: PMO\nextra_field: [1, 2]\n---\n\n| Risk | Owner |\n|---|---|\n",
    )
    assert doc.version == "2.0" and doc.status is Status.draft and str(doc.review_by) == "2027-03-31"
    assert doc.supersedes == "Risk register 1.0" and doc.meta == {"extra_field": [1, 2]}


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("---\ntitle: x\nkind: [unclosed\n---\nbody", 4, "not valid YAML"),
        ("---\ntitle: x\nkind: memo\n---\nbody", 3, "`kind` must be one of"),
        ("---\ntitle: x\nstatus: done\n---\nbody", 3, "`status` must be one of"),
        ("---\ntitle: x\ntags: {a: 1}\n---\nbody", 3, "`tags` must be a list"),
        ("---\ntitle: x\nreview_by: next year\n---\nbody", 3, "must be a date"),
        ("---\ntitle: x\n---\n\n", 4, "no content"),
        ("---\ntitle: x\nbody without end", 1, "never closed"),
        ("---\n- a\n- b\n---\nbody", 2, "must be a mapping"),
    ],
    ids=["yaml", "kind", "status", "tags", "date", "empty-body", "unclosed", "list"],
)
def test_bad_front_matter_names_the_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as info:
        parse(text, "/kb/lessons/bad.md")
    assert info.value.line == line
    assert info.value.message.startswith(f"/kb/lessons/bad.md:{line}: ")


def test_unknown_kind_without_folder_hint_is_an_error() -> None:
    with pytest.raises(InvalidInput, match="cannot tell the kind"):
        parse("just some notes", "/kb/misc/notes.md")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (alias_bomb(), 4, "YAML anchor `&a0`: anchors and aliases are not accepted"),
        ("---\ntitle: x\ntags: [a, b]\nproject: *p\n---\nbody", 4, "YAML alias `*p`"),
        ("---\ntitle: x\nblob: !!binary aGVsbG8=\n---\nbody", 3, "YAML tag `tag:yaml.org,2002:binary`"),
        ("---\ntitle: x\nrun: !!python/object/apply:os.system [ls]\n---\nbody", 3, "YAML tag"),
        (deep_front_matter(), 20, "nested more than 16 levels deep"),
        ("---\ntitle: x\nk: " + "[" * 100 + "]" * 100 + "\n---\nbody", 3, "nested more than 16 levels deep"),
        (huge_front_matter(), 1, "characters, over the limit of 65,536"),
    ],
    ids=["alias-bomb", "alias", "binary-tag", "python-tag", "deep-block", "deep-flow", "huge"],
)
def test_hostile_front_matter_is_refused_at_its_line(text: str, line: int, reason: str) -> None:
    """Refused before any object is built: an alias bomb fails in milliseconds, not minutes."""
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as info:
        parse(text, "/kb/lessons/bad.md")
    assert reason in info.value.message
    assert info.value.line == line
    assert info.value.message.startswith(f"/kb/lessons/bad.md:{line}: front matter ")
    assert time.perf_counter() - started < 1.0


def test_front_matter_within_the_limits_still_reads() -> None:
    """Nesting a real file uses, explicit plain tags and a long but sane block all pass the screen."""
    long_lesson = "x" * 30_000
    (doc,) = parse(
        "---\nkind: lesson\ntitle: !!str 2024\ntags: [a, b]\nextra: {a: {b: [1, 2]}}\n"
        f"lesson: {long_lesson}\n---\n\n## Lesson\n\nok\n"
    )
    assert doc.title == "2024" and doc.meta == {"extra": {"a": {"b": [1, 2]}}} and doc.lesson == long_lesson
