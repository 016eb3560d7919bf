"""Versions of one standard file: a version in its name, and a new upload of the same name.

A PMO names the versions of a template the way people do: ``WBSテンプレート_v2.xlsx``,
``変更管理手順書 第3版.docx``, ``risk-log ver1.2.pptx``. The version is read out of
the name (``title_and_version``) and the title kept without it, so every version
has the same title and the lifecycle links them (``kb.pmo.lifecycle.family``
follows equal titles and ``supersedes``).

A changed file ingested again under the same source (an upload of the same name,
or an edited file on disk) is a new version, not an overwrite: when both the old
and the new content are one template or procedure with its original file, the
old version is kept (``keep_versions``), a published one becomes superseded as
an approval would make it, and the new one gets the next version number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kb.pmo.lifecycle import version_key
from kb.record.models import Document, DocumentBase, DocumentDraft, Kind, Status

STANDARD_KINDS = (Kind.template, Kind.procedure)

_VERSION = re.compile(
    r"[\s(（\[【]*(?:"
    r"(?:改訂)?第?(?P<ja>\d+(?:\.\d+)*)版|(?P<first>初版)"
    r"|(?<![A-Za-z])(?:v|ver|version|rev)\.?\s?(?P<en>\d+(?:\.\d+)*)"
    r")[)）\]】]*\s*$",
    re.IGNORECASE,
)


def title_and_version(text: str) -> tuple[str, str | None]:
    """``"WBSテンプレート v2"`` → ``("WBSテンプレート", "2")``; text without a version comes back as it was."""
    match = _VERSION.search(text)
    if match is None or not text[: match.start()].strip():
        return text, None
    version = "1" if match.group("first") else match.group("ja") or match.group("en")
    return text[: match.start()].strip(" _-"), version


def standard_title(kind: Kind, title: str, *, path: Path) -> dict[str, str]:
    """``title`` and ``version`` fields for a document of ``kind`` titled ``title``, from the file at ``path``.

    Only a standard's file name is read for a version (a lesson titled "Upgrade
    to v2" keeps its title), and only a title taken from the file name loses
    it: a title the author declared in the document properties stays as written.
    """
    if kind not in STANDARD_KINDS:
        return {"title": title}
    name = name_title(path)
    base, version = title_and_version(name)
    fields = {"title": base if title.strip() == name else title}
    return {**fields, "version": version} if version else fields


def name_title(path: Path) -> str:
    """A title from a file name: ``release_procedure-v2.docx`` → ``release procedure v2``."""
    return path.stem.replace("_", " ").replace("-", " ").strip()


def keep_versions(existing: Sequence[Document], drafts: list[DocumentDraft]) -> list[DocumentDraft]:
    """``drafts`` plus the older versions of the standard among ``existing`` (the documents of the same source).

    Applies only when the new drafts are one template or procedure with its
    original and the source holds standards with originals: everything else is
    replaced as before. The same original as a stored version updates that
    version in place (nothing new is made). The draft of a new version gets a
    key of its own, so it is stored beside the old ones with a new id.
    """
    olds = [d for d in existing if d.kind in STANDARD_KINDS and d.attachment_id]
    if len(drafts) != 1 or not olds or len(olds) != len(existing):
        return drafts
    (new,) = drafts
    if new.kind not in STANDARD_KINDS or new.original is None:
        return drafts
    same = next((d for d in olds if d.attachment_id == new.original.digest), None)
    if same is not None:
        new.key = same.source_key or "main"
        return [*(_as_draft(d) for d in olds if d is not same), new]
    newest = max(olds, key=lambda d: (version_key(d.version), d.updated_at))
    kept = []
    for old in olds:
        changes: dict[str, Any] = {}
        if old.version is None:
            changes["version"] = "1"
        if old.status is Status.published and new.status is Status.published:
            changes["status"] = Status.superseded
        kept.append(_as_draft(old, **changes))
    number = _next_number(newest.version or "1")
    if new.version is None or version_key(new.version) <= version_key(newest.version or "1"):
        new.version = number
    new.supersedes = new.supersedes or (newest.title if newest.title != new.title else None)
    new.key = f"version-{new.version}"
    taken = {d.key for d in kept}
    while new.key in taken:
        new.key += "+"
    return [*kept, new]


def _as_draft(doc: Document, **changes: Any) -> DocumentDraft:
    data = doc.model_dump(include=set(DocumentBase.model_fields))
    return DocumentDraft.model_validate({**data, **changes, "key": doc.source_key or "main"})


def _next_number(version: str) -> str:
    """The version after ``version``: its last number plus one (``1.2`` → ``1.3``, ``第2`` → ``3``)."""
    numbers = list(re.finditer(r"\d+", version))
    if not numbers:
        return "2"
    last = numbers[-1]
    return version[: last.start()] + str(int(last.group()) + 1) + version[last.end() :]
