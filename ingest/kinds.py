"""Which kind a file's documents are, when the file itself does not say.

In order: what the user passed (``--kind``), then the nearest enclosing folder
named after a kind (``lessons/``, ``faq/``, ``手順書/`` …). Ingesters that can
read a kind from the content (front matter, a kind column, Confluence
breadcrumbs) ask for it first.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ingest.mdtree import fold
from kb.errors import InvalidInput
from kb.models import Kind

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

NO_KIND = "pass --kind, or put the file under lessons/, retrospectives/, faq/, templates/ or procedures/"


def kind_from_path(path: Path) -> Kind | None:
    """The kind named by the nearest enclosing folder, if any."""
    for parent in path.parents:
        kind = FOLDER_KINDS.get(parent.name.lower())
        if kind is not None:
            return kind
    return None


def kind_from_names(names: Iterable[str]) -> Kind | None:
    """The kind named by the last of ``names`` that names one (breadcrumbs: the nearest parent wins)."""
    found = None
    for name in names:
        found = FOLDER_KINDS.get(fold(name), found)
    return found


def require_kind(path: Path, *candidates: Kind | None, source: str, hint: str = "") -> Kind:
    """The first candidate that is set, else the folder's kind; ``InvalidInput`` when there is none.

    ``hint`` names the way the format itself can say its kind (front matter, a kind column).
    """
    for kind in (*candidates, kind_from_path(path)):
        if kind is not None:
            return kind
    raise InvalidInput("cannot tell the kind: " + (f"{hint}, " if hint else "") + NO_KIND, source=source)
