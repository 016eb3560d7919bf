"""Which kind a file's documents are, when the file itself does not say.

In order: what the user passed (``--kind``), then the nearest enclosing folder
named after a kind (``lessons/``, ``faq/``, ``手順書/`` …), then a kind word in
the file name, then one in the title (``release-procedure.md``, "振り返り
テンプレート"). Ingesters that can read a kind from the content (front matter,
a kind column, Confluence breadcrumbs) ask for it first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from ingest.mdtree import fold
from kb.errors import InvalidInput
from kb.record.models import Kind

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

# Words that name a kind in a file name or a title. English words match whole
# words; Japanese ones (no spaces to split on) match anywhere.
KIND_WORDS: dict[str, Kind] = {
    **{w: Kind.lesson for w in ("lesson", "lessons", "教訓")},
    **{
        w: Kind.retrospective
        for w in ("retrospective", "retrospectives", "retro", "postmortem", "振り返り", "ふりかえり", "完了報告")
    },
    **{w: Kind.faq for w in ("faq", "faqs", "よくある質問", "よくあるご質問")},
    **{w: Kind.template for w in ("template", "templates", "テンプレート", "様式", "ひな形", "雛形")},
    **{w: Kind.procedure for w in ("procedure", "procedures", "runbook", "手順", "手順書")},
}
_KIND_WORD = re.compile(
    "|".join(
        rf"(?<![a-z]){re.escape(w)}(?![a-z])" if w.isascii() else re.escape(w)
        for w in sorted(KIND_WORDS, key=len, reverse=True)
    )
)

NO_KIND = (
    "pass --kind, put the file under lessons/, retrospectives/, faq/, templates/ or procedures/, "
    "or name the kind in its file name or title (lesson, retrospective, FAQ, template, procedure; "
    "教訓, 振り返り, よくある質問, テンプレート, 手順)"
)


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


def kind_from_words(text: str) -> Kind | None:
    """The kind named by the last kind word in ``text`` (a file name or a title), if any.

    The last word wins because the head of a compound comes last in English and
    in Japanese alike: a "retrospective template" and a 振り返りテンプレート are
    templates, "lessons learned from the retrospective" is a retrospective.
    CamelCase, ``-`` and ``_`` separate words (``ReleaseProcedure``, ``release_procedure``).
    """
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    folded = unicodedata.normalize("NFKC", spaced).casefold().replace("_", " ")
    found = None
    for match in _KIND_WORD.finditer(folded):
        found = KIND_WORDS[match.group()]
    return found


def require_kind(path: Path, *candidates: Kind | None, source: str, hint: str = "", title: str = "") -> Kind:
    """The first candidate that is set, else the folder's kind, else a kind word in the file name or ``title``.

    ``InvalidInput`` when none of them names a kind. ``hint`` names the way the
    format itself can say its kind (front matter, a kind column).
    """
    for kind in (*candidates, kind_from_path(path), kind_from_words(path.stem), kind_from_words(title)):
        if kind is not None:
            return kind
    raise InvalidInput("cannot tell the kind: " + (f"{hint}, " if hint else "") + NO_KIND, source=source)
