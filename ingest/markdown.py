"""Markdown files with YAML front matter, for every content kind.

The kind comes from front matter ``kind:`` or, failing that, from the nearest
folder named after a kind (``lessons/``, ``retrospectives/``, ``faq/``,
``templates/``, ``procedures/``, or their Japanese names). A retrospective
yields itself plus one lesson per lesson in it; an FAQ file yields one FAQ per
question.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ingest.faq import split_faq
from ingest.frontmatter import parse_front_matter
from ingest.lessons import lesson_markdown, lesson_parts
from ingest.reading import decode_text
from ingest.retrospective import split_retrospective
from kb.errors import InvalidInput
from kb.language import detect_language
from kb.models import DocumentDraft, Kind
from kb.store import document_id

FOLDER_KINDS: dict[str, Kind] = {
    "lesson": Kind.lesson,
    "lessons": Kind.lesson,
    "教訓": Kind.lesson,
    "retrospective": Kind.retrospective,
    "retrospectives": Kind.retrospective,
    "retro": Kind.retrospective,
    "retros": Kind.retrospective,
    "振り返り": Kind.retrospective,
    "ふりかえり": Kind.retrospective,
    "faq": Kind.faq,
    "faqs": Kind.faq,
    "よくある質問": Kind.faq,
    "template": Kind.template,
    "templates": Kind.template,
    "テンプレート": Kind.template,
    "procedure": Kind.procedure,
    "procedures": Kind.procedure,
    "手順": Kind.procedure,
    "手順書": Kind.procedure,
}


class MarkdownIngester:
    """Parses one Markdown file into document drafts."""

    extensions: tuple[str, ...] = (".md", ".markdown")

    def parse(self, path: Path, data: bytes, *, source: str) -> list[DocumentDraft]:
        text = decode_text(data, source=source)
        fm = parse_front_matter(text, source=source)
        fields = dict(fm.fields)
        body = fm.body.strip()
        kind = fields.pop("kind", None) or kind_from_path(path)
        if kind is None:
            raise InvalidInput(
                "cannot tell the kind: add `kind:` to the front matter or put the file under "
                "lessons/, retrospectives/, faq/, templates/ or procedures/",
                source=source,
            )
        if "title" not in fields:
            heading = re.match(r"^#\s+(.+?)\s*#*\s*(?:\n|$)", body)
            if heading:
                fields["title"] = heading.group(1)
                body = body[heading.end() :].strip()
            else:
                fields["title"] = path.stem.replace("-", " ").replace("_", " ")
        if not body and kind is not Kind.faq:
            raise InvalidInput("the file has front matter but no content", source=source, line=fm.body_line)
        fields.setdefault("language", detect_language(fields["title"] + "\n" + body))
        base: dict[str, Any] = {**fields, "kind": kind, "body": body, "meta": fm.meta}
        if kind is Kind.faq:
            return _faqs(base, source=source, body_line=fm.body_line)
        if kind is Kind.lesson:
            parts, _ = lesson_parts(body)
            return [DocumentDraft.model_validate({**parts, **base})]
        if kind is Kind.retrospective:
            return _retrospective(base, source=source)
        return [DocumentDraft.model_validate(base)]


def kind_from_path(path: Path) -> Kind | None:
    """The kind named by the nearest enclosing folder, if any."""
    for parent in path.parents:
        kind = FOLDER_KINDS.get(parent.name.lower())
        if kind is not None:
            return kind
    return None


def _retrospective(base: dict[str, Any], *, source: str) -> list[DocumentDraft]:
    retro = DocumentDraft.model_validate(base)
    parent = document_id(source, retro.key)
    inherited = {
        k: base[k] for k in ("language", "project", "phase", "tags", "owner", "status", "doc_date") if k in base
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
                    "body": lesson_markdown(lesson.parts, retro.language),
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
