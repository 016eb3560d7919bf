"""One spreadsheet row or one JSON record → one document (a lesson, an FAQ, or another kind).

Shared by CSV, XLSX and JSON Lines, so a lessons register reads the same
whatever it was saved as. A lesson row's body is written with
``lesson_markdown``, so it reads like a Markdown lesson, with the abstract (if
any) as its opening paragraph; the parts also land in their own fields.

Any bad value fails the whole file with the row and the column named: the
issue asks for nothing half-stored, and one clear error is easier to fix than
a file that was silently stored without some of its rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ingest.columns import LESSON_TARGETS, Column
from ingest.kinds import FOLDER_KINDS, kind_from_path
from ingest.lessons import lesson_markdown
from ingest.markup import escape_text
from ingest.mojibake import find_mojibake
from ingest.options import IngestOptions
from ingest.values import (
    cell_text,
    is_placeholder,
    parse_date,
    parse_kind,
    parse_language,
    parse_status,
    split_tags,
)
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind
from kb.search.language import detect_language

_PLAIN_FIELDS = ("project", "phase", "category", "owner", "version", "supersedes", "impact")
_TEXT_FIELDS = ("title", "abstract", "driving_event", "lesson", "recommendation", "question", "answer", "body")
_LESSON_PARTS = ("driving_event", "lesson", "recommendation")
TITLE_CHARS = 80


def guess_kind(targets: Iterable[str], options: IngestOptions, path: Path) -> Kind | None:
    """The kind of rows without a kind column: what the columns say, then ``--kind``, then the folder.

    Question and answer columns make FAQs, lesson-part columns lessons; like a
    Markdown file's front matter, what the file itself says beats ``--kind``,
    which is for files that do not say (a register of templates with a body column).
    """
    targets = set(targets)
    if {"question", "answer"} <= targets:
        return Kind.faq
    if targets & LESSON_TARGETS:
        return Kind.lesson
    return options.kind or kind_from_path(path)


def row_draft(
    cells: Sequence[tuple[Column, object]],
    *,
    kind: Kind | None,
    key: str,
    place: str,
    source: str,
    noun: str = "column",
) -> DocumentDraft | None:
    """The document of one row, ``None`` for an empty row; ``InvalidInput`` naming ``place`` and the column.

    ``noun`` is what a column is called in this format (a JSON record has keys); ``place`` may be
    empty when the caller names the spot by a line number instead.
    """
    values: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    row_id: str | None = None
    for column, raw in cells:
        if column.target == "ignore":
            continue
        if column.target == "meta":
            kept = raw if isinstance(raw, list | dict) else cell_text(raw)
            if kept not in ("", [], {}):
                meta[column.header] = kept
            continue
        try:
            if isinstance(raw, dict):
                raise ValueError("expected a value, not an object")
            if isinstance(raw, list) and column.target not in ("tags", "groups"):
                raw = "\n".join(cell_text(item) for item in raw)
            text = "" if isinstance(raw, list) else cell_text(raw)
            if not (raw if isinstance(raw, list) else text):
                continue
            if column.target == "id":
                row_id = text
            else:
                read_value(values, column.target, raw, text)
        except ValueError as exc:
            where = f"{place}, " if place else ""
            raise InvalidInput(str(exc), source=source, place=f"{where}{noun} {column.header!r}") from None
    if not values and row_id is None and not meta:
        return None
    kind = values.pop("kind", None) or kind
    if kind is None:
        raise InvalidInput(
            "cannot tell the kind of the rows: name columns such as 教訓/lesson or 質問/回答 (Q/A), "
            "add a kind column, pass --kind, or put the file under lessons/ or faq/",
            source=source,
            place=place or None,
        )
    if kind is Kind.faq:
        _faq(values, place=place, source=source)
    elif kind is Kind.lesson:
        _lesson(values, place=place, source=source)
    else:
        _other(values, kind, place=place, source=source)
    values.pop("abstract", None)
    if (found := find_mojibake(values["title"] + "\n" + values["body"])) is not None:
        raise InvalidInput(found.describe(), source=source, place=place or None)
    values.setdefault("language", detect_language(values["title"] + "\n" + values["body"]))
    return DocumentDraft.model_validate({**values, "kind": kind, "meta": meta, "key": key})


def read_value(values: dict[str, Any], target: str, raw: object, text: str) -> None:
    """Put one value into ``values[target]``, parsed for its field; ``ValueError`` when it does not fit."""
    if target in ("doc_date", "review_by"):
        values[target] = parse_date(raw)
    elif target in ("tags", "groups"):
        values[target] = split_tags(raw)
    elif target == "status":
        values["status"] = parse_status(text)
    elif target == "kind":
        values["kind"] = parse_kind(text, FOLDER_KINDS)
    elif target == "language":
        values["language"] = parse_language(text)
    elif target in _PLAIN_FIELDS:
        if not is_placeholder(text):
            values[target] = text
    elif target in _TEXT_FIELDS:
        values[target] = text


def _lesson(values: dict[str, Any], *, place: str, source: str) -> None:
    parts = {name: values[name] for name in _LESSON_PARTS if values.get(name)}
    abstract = values.get("abstract", "")
    extra = values.get("body", "")
    if not parts and not abstract and not extra:
        raise InvalidInput(
            "a lesson row needs text in a driving event, lesson, recommendation, abstract or body column",
            source=source,
            place=place or None,
        )
    title = values.get("title") or _first_line(parts.get("lesson") or abstract or extra or next(iter(parts.values())))
    language = values.get("language") or detect_language(title + "\n" + " ".join([abstract, *parts.values(), extra]))
    blocks = [escape_text(abstract), lesson_markdown({k: escape_text(v) for k, v in parts.items()}, language)]
    values.update(title=title, language=language, body="\n\n".join(b for b in [*blocks, escape_text(extra)] if b))


def _faq(values: dict[str, Any], *, place: str, source: str) -> None:
    question, answer = values.get("question"), values.get("answer") or values.get("body")
    if not question:
        raise InvalidInput("an FAQ row needs a question (column 質問/Q/question)", source=source, place=place or None)
    if not answer:
        raise InvalidInput(f"question {question!r} has no answer", source=source, place=place or None)
    values.update(title=values.get("title") or question, answer=answer, body=escape_text(answer))


def _other(values: dict[str, Any], kind: Kind, *, place: str, source: str) -> None:
    body = values.get("body") or values.get("abstract")
    if not body:
        raise InvalidInput(f"a {kind.value} row needs a body (column 本文/body)", source=source, place=place or None)
    values.update(title=values.get("title") or _first_line(body), body=escape_text(body))


def _first_line(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), text.strip())
    line = re.split(r"(?<=[。！？])|(?<=[.!?])\s", line, maxsplit=1)[0]
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def claim_id(seen: dict[str, str], row_id: str, *, source: str, line: int | None, place: str) -> None:
    """Record that ``place`` uses ``row_id``; a second row with the same id is an error naming both."""
    if row_id in seen:
        raise InvalidInput(f"repeats the id {row_id!r} of {seen[row_id]}", source=source, line=line, place=place)
    seen[row_id] = place
