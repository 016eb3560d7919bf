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
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.lessons import LABELS, lesson_markdown
from ingest.mdtree import fold, labelled_parts, list_items, paragraphs, sections

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


@dataclass(frozen=True)
class SplitLesson:
    """One lesson found in a retrospective: a title and its parts."""

    title: str
    parts: dict[str, str]


def split_retrospective(body: str) -> list[SplitLesson]:
    """The lessons of a retrospective body, in the order they are written."""
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
    """Markdown body for a split-out lesson."""
    return lesson_markdown(lesson.parts, language)
