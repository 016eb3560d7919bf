"""Documents from the retrospective form: the retrospective and one lesson per lesson entered.

Built directly from the fields (no Markdown parsing of user text), stored under
a synthetic source ``form:<uuid>`` so the retrospective and its lessons are
written in one transaction and linked by the same ids a file would give them.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

from ingest.lessons import lesson_markdown
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind
from kb.record.store import document_id
from kb.search.language import detect_language

SECTION_TITLES = {
    "ja": ("うまくいったこと", "課題・うまくいかなかったこと", "教訓"),
    "en": ("What went well", "What went wrong", "Lessons"),
}


@dataclass
class LessonEntry:
    lesson: str
    title: str | None = None
    driving_event: str | None = None
    recommendation: str | None = None


@dataclass
class RetrospectiveEntry:
    title: str
    lessons: list[LessonEntry]
    project: str | None = None
    phase: str | None = None
    doc_date: dt.date | None = None
    language: str | None = None
    owner: str | None = None
    tags: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # restricted to these groups, its lessons too
    went_well: list[str] = field(default_factory=list)
    went_wrong: list[str] = field(default_factory=list)


# A bullet the author typed ("- ", "* ", "・", "•"): the list item gets our own "- ", never a second one ("-5 %"
# is not a bullet: a Markdown bullet needs the space).
_TYPED_BULLET = re.compile(r"^\s*(?:[-*+]\s+|[•・●]\s*)")


def _bullets(items: list[str]) -> str:
    """One Markdown list item per non-blank line, whether or not the author started it with a bullet."""
    lines = (" ".join(_TYPED_BULLET.sub("", item, count=1).split()) for item in items)
    return "\n".join("- " + line for line in lines if line)


def _title(entry: LessonEntry) -> str:
    if entry.title and entry.title.strip():
        return entry.title.strip()
    first = entry.lesson.strip().splitlines()[0]
    return first if len(first) <= 80 else first[:79] + "…"


def _lesson_block(entry: LessonEntry, parts: dict[str, str], language: str) -> str:
    """A lesson in the retrospective's 教訓 section: its title, then its parts under their own headings.

    A lesson of the lesson text alone gets no second 教訓 heading under the
    section's, and a one-line lesson whose title is that line is not written twice.
    """
    title = _title(entry)
    if set(parts) == {"lesson"}:
        return f"### {title}" if parts["lesson"] == title else f"### {title}\n\n{parts['lesson']}"
    return f"### {title}\n\n" + lesson_markdown(parts, language).replace("## ", "#### ")


def retrospective_drafts(entry: RetrospectiveEntry) -> tuple[str, list[DocumentDraft]]:
    """(source, drafts): the retrospective first, then its lessons, all sharing the metadata.

    ``InvalidInput`` names a blank lesson (``lessons.2.lesson``).
    """
    for number, lesson in enumerate(entry.lessons):
        if not lesson.lesson.strip():  # its title would be its first line, and a blank lesson has none
            raise InvalidInput("a lesson cannot be blank", place=f"lessons.{number}.lesson")
    source = f"form:{uuid.uuid4().hex}"
    text = " ".join([entry.title, *entry.went_well, *entry.went_wrong, *(e.lesson for e in entry.lessons)])
    language = entry.language or detect_language(text)
    well, wrong, lessons_title = SECTION_TITLES["ja" if language == "ja" else "en"]
    lesson_parts = [
        {
            k: v.strip()
            for k, v in (("driving_event", e.driving_event), ("lesson", e.lesson), ("recommendation", e.recommendation))
            if v and v.strip()
        }
        for e in entry.lessons
    ]
    sections = [(well, _bullets(entry.went_well)), (wrong, _bullets(entry.went_wrong))]
    lesson_blocks = [_lesson_block(e, parts, language) for e, parts in zip(entry.lessons, lesson_parts, strict=True)]
    sections.append((lessons_title, "\n\n".join(lesson_blocks)))
    body = "\n\n".join(f"## {name}\n\n{content}" for name, content in sections if content)
    shared = {
        "language": language,
        "project": entry.project,
        "phase": entry.phase,
        "doc_date": entry.doc_date,
        "owner": entry.owner,
        "tags": entry.tags,
        "groups": entry.groups,
    }
    drafts = [DocumentDraft.model_validate({**shared, "kind": Kind.retrospective, "title": entry.title, "body": body})]
    parent = document_id(source, "main")
    for number, (e, parts) in enumerate(zip(entry.lessons, lesson_parts, strict=True), start=1):
        drafts.append(
            DocumentDraft.model_validate(
                {
                    **shared,
                    **parts,
                    "kind": Kind.lesson,
                    "title": _title(e),
                    "body": lesson_markdown(parts, language),
                    "parent_id": parent,
                    "key": f"lesson-{number}",
                }
            )
        )
    return source, drafts
