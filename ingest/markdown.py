"""Markdown files with YAML front matter, for every content kind.

The kind comes from front matter ``kind:``, then ``--kind``, then the nearest
folder named after a kind (``lessons/``, ``retrospectives/``, ``faq/``,
``templates/``, ``procedures/``, or their Japanese names), then a kind word in
the file name or the title (see ``ingest.kinds``). A retrospective
yields itself plus one lesson per lesson in it; an FAQ file yields one FAQ per
question.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ingest.faq import split_faq
from ingest.frontmatter import parse_front_matter
from ingest.kinds import FOLDER_KINDS, kind_from_path, require_kind
from ingest.lessons import lesson_parts
from ingest.mojibake import find_mojibake
from ingest.options import DEFAULT_OPTIONS, IngestOptions
from ingest.reading import decode_text
from ingest.retrospective import lesson_body, split_retrospective
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind, OriginalFile
from kb.record.store import document_id
from kb.search.language import detect_language

__all__ = ["FOLDER_KINDS", "MarkdownIngester", "document_drafts", "kind_from_path"]


class MarkdownIngester:
    """Parses one Markdown file into document drafts."""

    format: str = "markdown"
    extensions: tuple[str, ...] = (".md", ".markdown")

    def parse(
        self, path: Path, data: bytes, *, source: str, options: IngestOptions = DEFAULT_OPTIONS
    ) -> list[DocumentDraft]:
        text = decode_text(data, source=source)
        fm = parse_front_matter(text, source=source)
        fields = dict(fm.fields)
        heading = re.match(r"^\s*#\s+(.+?)\s*#*\s*(?:\n|$)", fm.body)
        kind = require_kind(
            path,
            fields.pop("kind", None),
            options.kind,
            source=source,
            hint="add `kind:` to the front matter",
            title=str(fields.get("title") or (heading.group(1) if heading else "")),
        )
        return document_drafts(
            path, fm.body, kind=kind, fields=fields, meta=fm.meta, source=source, body_line=fm.body_line
        )


def document_drafts(
    path: Path,
    body: str,
    *,
    kind: Kind,
    fields: dict[str, Any],
    meta: dict[str, Any],
    source: str,
    body_line: int = 1,
    original: OriginalFile | None = None,
) -> list[DocumentDraft]:
    """Drafts from a Markdown body of a known kind: the one place every kind's rules live.

    Every text-like format (Markdown, Word, PDF, HTML, plain text) ends here, so
    a lesson in a .docx is split into its parts and an FAQ page into its
    questions exactly as a Markdown file would be. ``original`` is kept on a
    template or procedure (the file users download); ``body_line`` is the file
    line of the body's first line, for error messages.
    """
    fields = dict(fields)
    body = body.strip()
    if (found := find_mojibake(str(fields.get("title", "")) + "\n" + body)) is not None:
        raise InvalidInput(found.describe(), source=source)
    if "title" not in fields:
        heading = re.match(r"^#\s+(.+?)\s*#*\s*(?:\n|$)", body)
        if heading:
            fields["title"] = heading.group(1)
            body = body[heading.end() :].strip()
        else:
            fields["title"] = path.stem.replace("-", " ").replace("_", " ")
    if not body and kind is not Kind.faq:
        where = " besides its front matter" if body_line > 1 else " besides its title"
        raise InvalidInput("the file has no content" + where, source=source, line=body_line)
    fields.setdefault("language", detect_language(fields["title"] + "\n" + body))
    base: dict[str, Any] = {**fields, "kind": kind, "body": body, "meta": meta}
    if kind is Kind.faq:
        return _faqs(base, source=source, body_line=body_line)
    if kind is Kind.lesson:
        parts, _ = lesson_parts(body)
        return [DocumentDraft.model_validate({**parts, **base})]
    if kind is Kind.retrospective:
        return _retrospective(base, source=source)
    if original is not None and kind in (Kind.template, Kind.procedure):
        base["original"] = original
    return [DocumentDraft.model_validate(base)]


def _retrospective(base: dict[str, Any], *, source: str) -> list[DocumentDraft]:
    retro = DocumentDraft.model_validate(base)
    parent = document_id(source, retro.key)
    inherited = {
        k: base[k]
        for k in ("language", "project", "phase", "tags", "owner", "status", "doc_date", "groups")
        if k in base
    }
    drafts = [retro]
    for number, lesson in enumerate(split_retrospective(retro.body), start=1):
        drafts.append(
            DocumentDraft.model_validate(
                {
                    **inherited,
                    **lesson.parts,
                    "kind": Kind.lesson,
                    "title": lesson.title,
                    "body": lesson_body(lesson, retro.language),
                    "parent_id": parent,
                    "key": f"lesson-{number}",
                }
            )
        )
    return drafts


def _faqs(base: dict[str, Any], *, source: str, body_line: int) -> list[DocumentDraft]:
    if base.get("question") and base.get("answer"):
        return [DocumentDraft.model_validate({**base, "title": base["question"], "body": base["answer"]})]
    pairs = split_faq(base["body"], title=base["title"])
    meta = {**base["meta"], "collection": base["title"]} if len(pairs) > 1 else base["meta"]
    drafts = []
    for qa in pairs:
        if not qa.answer:
            raise InvalidInput(f"question {qa.question!r} has no answer", source=source, line=body_line + qa.line)
        fields = {"title": qa.question, "question": qa.question, "answer": qa.answer, "body": qa.answer}
        key = qa.key if len(pairs) > 1 else "main"
        drafts.append(DocumentDraft.model_validate({**base, **fields, "meta": meta, "key": key}))
    return drafts
