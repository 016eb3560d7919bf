"""Lessons: recognising their parts in Japanese and English, and writing them back as Markdown.

A lesson has three parts, each with many names in real notes: what happened
(事象, 背景, Driving event, What happened), the lesson (教訓, 学び, Lesson
learned) and what to do next time (提言, 対策, 改善策, Recommendation, Action).
"""

from __future__ import annotations

from ingest.mdtree import fold, labelled_parts, sections

# Folded names (see ``mdtree.fold``) of section headings and labels, per lesson field.
LESSON_PARTS: dict[str, tuple[str, ...]] = {
    "driving_event": (
        "事象",
        "発生事象",
        "背景",
        "出来事",
        "状況",
        "経緯",
        "何が起きたか",
        "起きたこと",
        "問題",
        "課題",
        "drivingevent",
        "event",
        "whathappened",
        "background",
        "situation",
        "issue",
        "problem",
        "context",
    ),
    "lesson": ("教訓", "学び", "気づき", "lesson", "lessons", "lessonlearned", "lessonslearned", "learning", "insight"),
    "recommendation": (
        "提言",
        "対策",
        "改善策",
        "推奨",
        "推奨事項",
        "次回への提言",
        "アクション",
        "再発防止策",
        "recommendation",
        "recommendations",
        "action",
        "actions",
        "actionitem",
        "nexttime",
        "countermeasure",
    ),
    "impact": ("影響", "影響度", "impact"),
}

LABELS: dict[str, str] = {alias: name for name, aliases in LESSON_PARTS.items() for alias in aliases}

HEADINGS = {
    "ja": {"driving_event": "事象", "lesson": "教訓", "recommendation": "提言"},
    "en": {"driving_event": "Driving event", "lesson": "Lesson", "recommendation": "Recommendation"},
}


def lesson_parts(body: str) -> tuple[dict[str, str], str]:
    """Find lesson parts in a body, as level-2 sections or as ``**Label**: text`` paragraphs.

    Returns the parts found and the text that belongs to none of them.
    """
    preamble, found_sections = sections(body, 2)
    parts: dict[str, str] = {}
    rest: list[str] = [preamble] if preamble else []
    for section in found_sections:
        name = LABELS.get(fold(section.heading))
        if name and name not in parts:
            parts[name] = section.body
        else:
            rest.append(f"## {section.heading}\n\n{section.body}")
    if parts:
        return parts, "\n\n".join(rest).strip()
    return labelled_parts(body, LABELS)


def lesson_markdown(parts: dict[str, str], language: str) -> str:
    """The Markdown body of a lesson made from its parts, with headings in its language."""
    names = HEADINGS["ja" if language == "ja" else "en"]
    blocks = [f"## {names[field]}\n\n{parts[field]}" for field in names if parts.get(field)]
    return "\n\n".join(blocks)
