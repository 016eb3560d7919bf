"""Splitting a retrospective into its lessons, each linked back to it.

Recognised sections (level-2 headings, either language):
うまくいったこと / 課題・うまくいかなかったこと / 教訓 / 改善策・次回への提言,
What went well / What went wrong / Lessons / Recommendations / Action items.

Lessons are found, in order of preference:

1. level-3 headings under the lessons section, each with labelled parts
   (``**事象**: …``, ``**Recommendation**: …``);
2. a list under the lessons section, one item per lesson; when the
   what-went-wrong and recommendation sections hold lists of the same length,
   item *i* of each is paired with lesson *i*;
3. with no lessons section, the recommendations alone, paired the same way.

Besides those, every table whose header row names lesson columns is a table of
lessons, one per row: a PMO often writes a retrospective as one slide or page
with 事象 | 原因 | 教訓 | 提言 (問題点 | 対策, 良かった点 | 悪かった点, Issue | Lesson |
Recommendation) across the top. A header is recognised as a register's is
(``columns.find_header``: the column names of ``columns.ALIASES``, the section
names above as well), and needs a 事象, 教訓 or 提言 column. A row's title is its
title column, else its lesson, else its issue; its lesson parts fill their
fields, and its other cells follow in the body labelled by their headers
(``**原因**: …``). Rows that are empty or repeat the header are skipped; a table
whose header is not recognised stays text in the retrospective.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.columns import ALIASES, Column, Header, find_header, fold_header
from ingest.lessons import LABELS, lesson_markdown
from ingest.mdtree import Table, fold, labelled_parts, list_items, paragraphs, sections, tables, without_lines
from kb.search.location import unescape_markdown

SECTION_NAMES: dict[str, tuple[str, ...]] = {
    "well": (
        "うまくいったこと",
        "良かったこと",
        "良かった点",
        "よかったこと",
        "keep",
        "whatwentwell",
        "wentwell",
        "successes",
    ),
    "wrong": (
        "課題うまくいかなかったこと",
        "事象",
        "発生事象",
        "うまくいかなかったこと",
        "悪かった点",
        "悪かったこと",
        "よくなかった点",
        "課題",
        "問題点",
        "反省点",
        "problem",
        "problems",
        "whatwentwrong",
        "whatdidntgowell",
        "whatdidnotgowell",
        "wentwrong",
        "challenges",
        "issues",
    ),
    "lessons": ("教訓", "学び", "得られた教訓", "lessons", "lessonslearned", "lessonlearned", "learnings"),
    "recommendations": (
        "改善策次回への提言",
        "改善策",
        "次回への提言",
        "提言",
        "改善点",
        "try",
        "アクション",
        "アクションアイテム",
        "recommendations",
        "recommendation",
        "actionitems",
        "actions",
        "nextsteps",
        "improvements",
    ),
}
_SECTION_OF = {alias: name for name, aliases in SECTION_NAMES.items() for alias in aliases}

# A lessons table's columns: a register's names (``columns.ALIASES``, which win) and the section names above.
_SECTION_COLUMNS = {"well": "meta", "wrong": "driving_event", "lessons": "lesson", "recommendations": "recommendation"}
TABLE_COLUMNS = {alias: _SECTION_COLUMNS[name] for alias, name in _SECTION_OF.items() if alias not in ALIASES}
_PARTS = ("lesson", "driving_event", "recommendation")  # also the order a row's title is looked for in
_FIELDS = ("impact", "category")  # short values kept in their fields too, as a register's are


@dataclass(frozen=True)
class SplitLesson:
    """One lesson found in a retrospective: a title and its parts."""

    title: str
    parts: dict[str, str]
    notes: tuple[tuple[str, str], ...] = ()  # (header, Markdown) of a table row's other cells


def split_retrospective(body: str) -> list[SplitLesson]:
    """The lessons of a retrospective body: from its sections in the order they are written, then its tables'."""
    found = [(table, header) for table in tables(body) if (header := lesson_header(table.rows))]
    rest = without_lines(body, [(table.start, table.end) for table, _ in found])
    from_tables = [lesson for table, header in found for lesson in _table_lessons(table, header)]
    return _section_lessons(rest) + from_tables


def lesson_header(rows: list[list[str]]) -> Header | None:
    """The header of a table of lessons, or ``None`` when the table is something else."""
    header = find_header(rows, TABLE_COLUMNS)
    return header if header is not None and header.targets & set(_PARTS) else None


def _table_lessons(table: Table, header: Header) -> list[SplitLesson]:
    names = [fold_header(cell) for cell in table.rows[header.row]]
    lessons = []
    for row in table.rows[header.row + 1 :]:
        if [fold_header(cell) for cell in row] == names:
            continue  # the header again, as on a table continued from the slide before
        if lesson := _row_lesson(row, header.columns):
            lessons.append(lesson)
    return lessons


def _row_lesson(row: list[str], columns: tuple[Column, ...]) -> SplitLesson | None:
    """One row's lesson; ``None`` when it holds nothing but its number or title."""
    parts: dict[str, str] = {}
    notes: list[tuple[str, str]] = []
    title = ""
    for column in columns:
        text = row[column.index].strip() if column.index < len(row) else ""
        if not text or column.target in ("id", "ignore"):
            continue
        if column.target in _PARTS:
            parts[column.target] = text
        elif column.target == "title":
            title = text
        else:
            notes.append((column.header, text))
            if column.target in _FIELDS:
                parts[column.target] = unescape_markdown(text)
    if not parts and not notes:
        return None
    named = title or next((parts[name] for name in _PARTS if name in parts), "") or notes[0][1]
    return SplitLesson(_title_from(unescape_markdown(named)), parts, tuple(notes))


def _section_lessons(body: str) -> list[SplitLesson]:
    _, found = sections(body, 2)
    by_name: dict[str, str] = {}
    for section in found:
        name = _SECTION_OF.get(fold(section.heading))
        if name and name not in by_name:
            by_name[name] = section.body
    wrong = _items(by_name.get("wrong", ""))
    recommendations = _items(by_name.get("recommendations", ""))
    lessons_text = by_name.get("lessons", "")
    if lessons_text:
        _, subsections = sections(lessons_text, 3)
        if subsections:
            return [_from_subsection(s.heading, s.body) for s in subsections]
        texts = _items(lessons_text)
        return [_paired(text, "lesson", i, len(texts), wrong, recommendations) for i, text in enumerate(texts)]
    return [
        _paired(text, "recommendation", i, len(recommendations), wrong, []) for i, text in enumerate(recommendations)
    ]


def _items(markdown: str) -> list[str]:
    return list_items(markdown) or paragraphs(markdown)


def _from_subsection(heading: str, body: str) -> SplitLesson:
    parts, rest = labelled_parts(body, LABELS)
    if rest:
        parts["lesson"] = (parts.get("lesson", "") + "\n\n" + rest).strip()
    return SplitLesson(heading, parts)


def _paired(text: str, field: str, index: int, count: int, wrong: list[str], recommendations: list[str]) -> SplitLesson:
    """A lesson from one list item, with labelled parts inside it or partners from other sections."""
    parts, rest = labelled_parts(text, LABELS)
    if rest:
        parts[field] = (parts.get(field, "") + "\n\n" + rest).strip()
    if "driving_event" not in parts and len(wrong) == count:
        parts["driving_event"] = wrong[index]
    if "recommendation" not in parts and len(recommendations) == count:
        parts["recommendation"] = recommendations[index]
    return SplitLesson(_title_from(parts.get(field) or text), parts)


def _title_from(text: str, limit: int = 80) -> str:
    """A short title from a lesson's first sentence."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    for end in ("。", ". "):
        if end in first:
            first = first.split(end, 1)[0] + ("。" if end == "。" else "")
            break
    first = first.strip("*_ ")
    return first if len(first) <= limit else first[: limit - 1] + "…"


def lesson_body(lesson: SplitLesson, language: str) -> str:
    """Markdown body for a split-out lesson: its parts under headings, then its other cells labelled."""
    notes = [f"**{header}**: {text}" for header, text in lesson.notes]
    return "\n\n".join(b for b in [lesson_markdown(lesson.parts, language), *notes] if b)
