"""Spreadsheet and record columns: which field each one fills, in Japanese or English.

Lessons registers and FAQ sheets name their columns in many ways (質問/Q/Question,
教訓/Lesson/学び, 対策/Recommendation, 発生日/date …). One alias table maps
folded header names to ``DocumentDraft`` fields; the lesson parts reuse the
labels Markdown lessons are recognised by, so a column is read the same way a
heading is. ``--map HEADER=FIELD`` covers the rest.

Besides real fields there are three pseudo-targets: ``id`` (the row's stable
key), ``abstract`` (a summary put at the top of a lesson's body) and ``meta``
(kept in the document's metadata under the column's own name, as every
unmapped column is); ``ignore`` drops a column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ingest.lessons import LESSON_PARTS
from ingest.mdtree import fold
from kb.errors import InvalidInput

FIELD_NAMES: tuple[str, ...] = (
    "id",
    "title",
    "kind",
    "language",
    "project",
    "phase",
    "category",
    "tags",
    "groups",
    "owner",
    "status",
    "version",
    "doc_date",
    "review_by",
    "supersedes",
    "impact",
    "abstract",
    "driving_event",
    "lesson",
    "recommendation",
    "question",
    "answer",
    "body",
    "meta",
    "ignore",
)

# Shorter names a user may write after --map (``--map 日付=date``).
TARGET_SYNONYMS = {"date": "doc_date", "lang": "language", "summary": "abstract", "skip": "ignore", "key": "id"}

_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "no", "number", "番号", "管理番号", "通番", "連番", "項番", "lessonnumber", "lessonid", "faqid"),
    "title": ("title", "タイトル", "件名", "表題", "題名", "見出し", "subject", "lessontitle", "教訓タイトル", "名称"),
    "kind": ("kind", "種別", "文書種別", "documenttype", "doctype"),
    "language": ("language", "lang", "言語"),
    "project": ("project", "projectname", "プロジェクト", "プロジェクト名", "案件", "案件名", "program",
                "programrelation"),
    "phase": ("phase", "フェーズ", "工程", "段階", "programphase", "stage"),
    "category": ("category", "カテゴリ", "カテゴリー", "分類", "区分", "大分類", "領域", "area"),
    "tags": ("tags", "tag", "タグ", "キーワード", "keywords", "keyword", "topics", "topic", "トピック"),
    "groups": ("groups", "group", "グループ", "閲覧グループ", "公開範囲", "閲覧制限", "restrictedto", "visibleto"),
    "owner": ("owner", "担当", "担当者", "所有者", "作成者", "登録者", "起票者", "author", "reporter", "責任者"),
    "status": ("status", "ステータス", "状態"),
    "version": ("version", "版", "版数", "バージョン"),
    "doc_date": ("date", "日付", "発生日", "登録日", "作成日", "起票日", "記録日", "年月日", "lessondate", "created"),
    "review_by": ("reviewby", "見直し期限", "レビュー期限", "見直し日", "次回見直し"),
    "supersedes": ("supersedes", "旧版"),
    "abstract": ("abstract", "概要", "要約", "summary", "サマリー", "サマリ"),
    "question": ("question", "q", "質問", "問い", "問", "質問内容", "問い合わせ", "問い合わせ内容", "query"),
    "answer": ("answer", "a", "回答", "答え", "答", "回答内容", "response", "reply"),
    "body": ("body", "本文", "内容", "content", "contents", "text", "説明", "詳細", "details"),
    "meta": ("url", "link", "リンク", "organization", "組織", "部署", "部門", "department", "center", "出典", "source"),
    **LESSON_PARTS,  # the same names a lesson's headings and labels go by
}  # fmt: skip
_MORE_IMPACT = ("重大度", "重要度", "severity")

ALIASES: dict[str, str] = {alias: target for target, names in _ALIASES.items() for alias in names}
ALIASES.update({alias: "impact" for alias in _MORE_IMPACT})
LESSON_TARGETS = frozenset({"driving_event", "lesson", "recommendation", "abstract"})

# Notes in a header that are not part of its name: "日付（YYYY/MM/DD）", "Title *", "【必須】件名".
_HEADER_NOTES = re.compile(r"\(.*?\)|（.*?）|【.*?】|\[.*?\]|［.*?］|[*＊※]")

HEADER_SEARCH_ROWS = 10  # title rows and notes above the header are common; ten is plenty


def fold_header(header: str) -> str:
    """The comparison form of a column name: notes dropped, then ``mdtree.fold``."""
    return fold(_HEADER_NOTES.sub("", header))


def target_name(name: str) -> str | None:
    """A target a user wrote after ``--map``, normalised, or None when it is not one."""
    name = name.strip().lower()
    name = TARGET_SYNONYMS.get(name, name)
    return name if name in FIELD_NAMES else None


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its position, its header as written and the field it fills."""

    index: int
    header: str
    target: str  # a FIELD_NAMES entry; "meta" keeps the value under ``header``


@dataclass(frozen=True)
class Header:
    """The header row found in a sheet: its 0-based position among the rows and its columns."""

    row: int
    columns: tuple[Column, ...]

    @property
    def targets(self) -> frozenset[str]:
        return frozenset(c.target for c in self.columns)


def _target(header: str, explicit: Mapping[str, str]) -> str | None:
    folded = fold_header(header)
    return explicit.get(folded) or ALIASES.get(folded)


def find_header(rows: Sequence[Sequence[object]], explicit: Mapping[str, str]) -> Header | None:
    """The first row, among the first ten, whose non-empty cells mostly name known columns.

    A row qualifies when at least two of its cells (one, for a sheet of a single
    column) name a field and they are at least half of its non-empty cells, so a
    title row ("2024年度 教訓一覧") or a note above the table is passed over.
    """
    for number, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = [str(c).strip() if c is not None else "" for c in row]
        filled = [c for c in cells if c]
        known = [c for c in filled if _target(c, explicit)]
        if filled and len(known) >= min(2, len(filled)) and 2 * len(known) >= len(filled):
            return Header(number, columns(cells, explicit))
    return None


def columns(headers: Sequence[str], explicit: Mapping[str, str]) -> tuple[Column, ...]:
    """Map header cells to targets; the first column for a field wins, later ones go to ``meta``."""
    taken: set[str] = set()
    out: list[Column] = []
    for index, header in enumerate(headers):
        if not header:
            continue
        target = _target(header, explicit) or "meta"
        if target in taken and target not in ("meta", "ignore"):
            target = "meta"
        taken.add(target)
        out.append(Column(index, header, target))
    return tuple(out)


PREVIEW_ROWS = HEADER_SEARCH_ROWS  # the header is looked for among these, so they are what a user maps from
PREVIEW_COLUMNS = 30
PREVIEW_CHARS = 80


class UnrecognisedColumns(InvalidInput):
    """No header row among the first rows: carries those rows as text, so a person can say what each column is.

    The upload page shows ``rows`` (at most ``PREVIEW_ROWS`` × ``PREVIEW_COLUMNS``
    cells of ``PREVIEW_CHARS``) with a field to pick per column, and ingests the
    file again with that mapping, as ``--map`` does. The rows travel back from
    the ingest worker with the error (an exception pickles its attributes).
    """

    def __init__(self, message: str, *, source: str | None = None, rows: Sequence[Sequence[str]] = ()) -> None:
        super().__init__(message, source=source)
        self.rows = [[cell[:PREVIEW_CHARS] for cell in row[:PREVIEW_COLUMNS]] for row in list(rows)[:PREVIEW_ROWS]]


def likely_header(rows: Sequence[Sequence[str]]) -> int | None:
    """The row a person would call the header: the first of those with the most filled cells (two at least).

    A title row ("2024年度 教訓一覧") or a note above the table fills fewer
    cells than the header and the rows under it.
    """
    filled = [sum(1 for c in row if c.strip()) for row in rows]
    most = max(filled, default=0)
    return filled.index(most) if most >= 2 else None
