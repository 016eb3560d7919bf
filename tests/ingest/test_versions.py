"""Versions of a standard file: read out of its name, and kept when the same name arrives changed."""

from __future__ import annotations

import pytest

from ingest.pipeline import FileStatus
from ingest.registry import default_registry
from ingest.uploads import ingest_upload
from ingest.versions import title_and_version
from kb.engine import KnowledgeBase
from kb.pmo.lifecycle import current_version, family
from kb.record.models import Kind, Status
from tests.ingest.samples import pptx_file, xlsx


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("WBSテンプレート v2", ("WBSテンプレート", "2")),
        ("変更管理手順書 第3版", ("変更管理手順書", "3")),
        ("課題管理表（改訂2版）", ("課題管理表", "2")),
        ("risk log ver1.2", ("risk log", "1.2")),
        ("Release procedure Rev 4", ("Release procedure", "4")),
        ("議事録テンプレート 初版", ("議事録テンプレート", "1")),
        ("Server v2 migration", ("Server v2 migration", None)),  # a version must end the name
        ("v2", ("v2", None)),  # nothing left for a title
    ],
)
def test_a_version_is_read_out_of_a_name(name: str, expected: tuple[str, str | None]) -> None:
    assert title_and_version(name) == expected


def upload(kb: KnowledgeBase, name: str, data: bytes) -> FileStatus:
    report, *_ = ingest_upload(kb.store, name, data, registry=default_registry(), max_file_bytes=8_000_000)
    assert report.error is None, report.error
    return report.status


def test_a_changed_upload_of_the_same_name_is_the_next_version_and_the_old_one_is_superseded(
    knowledge_base: KnowledgeBase,
) -> None:
    kb = knowledge_base
    first = xlsx({"WBS": [["No.", "タスク"], ["1", "要件定義"]]})
    second = xlsx({"WBS": [["No.", "タスク"], ["1", "要件定義"], ["2", "基本設計"]]})
    assert upload(kb, "WBSテンプレート.xlsx", first) is FileStatus.added
    assert upload(kb, "WBSテンプレート.xlsx", second) is FileStatus.updated
    docs = kb.store.documents_of_source("upload:WBSテンプレート.xlsx")
    versions = family(kb.store.documents(kind=Kind.template), docs[0])
    assert [(d.version, d.status) for d in versions] == [("2", Status.published), ("1", Status.superseded)]
    assert current_version(versions) is versions[0] and "基本設計" in versions[0].body
    originals = [kb.store.get_attachment(d.attachment_id or "").data for d in versions]
    assert originals == [second, first]  # each version downloads its own file, byte for byte
    assert upload(kb, "WBSテンプレート.xlsx", second) is FileStatus.unchanged
    assert len(kb.store.documents_of_source("upload:WBSテンプレート.xlsx")) == 2


def test_a_version_in_the_file_name_links_two_files_as_one_standard(knowledge_base: KnowledgeBase) -> None:
    kb = knowledge_base
    upload(kb, "計画書テンプレート_v1.pptx", pptx_file([("計画書", ["目的"])]))
    upload(kb, "計画書テンプレート_v2.pptx", pptx_file([("計画書", ["目的と背景"])]))
    templates = kb.store.documents(kind=Kind.template)
    newest = family(templates, templates[0])
    assert [(d.title, d.version) for d in newest] == [("計画書", "2"), ("計画書", "1")]  # titled by its first slide


def test_a_register_uploaded_again_is_replaced_not_versioned(knowledge_base: KnowledgeBase) -> None:
    kb = knowledge_base
    upload(kb, "lessons.xlsx", xlsx({"S": [["件名", "教訓"], ["a", "b"]]}))
    upload(kb, "lessons.xlsx", xlsx({"S": [["件名", "教訓"], ["a", "c"]]}))
    (doc,) = kb.store.documents_of_source("upload:lessons.xlsx")
    assert doc.lesson == "c"
