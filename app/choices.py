"""The pick-lists of the retrospective and edit forms: projects, phases and tags people already use.

One value per key, as the search facets fold them (``kb.search.facets``):
"Deep Space Network (DSN)" and "DSN" are one project, テスト and Testing one
phase. A phase or tag the vocabulary knows is offered by its label in the
reader's language; anything else by the spelling most documents use. The
vocabulary's phases are offered even before any document uses them, in
lifecycle order. The lists only suggest: the forms take free text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from app.caller import Caller
from kb.engine import KnowledgeBase
from kb.pmo.choices import written_values
from kb.pmo.vocabulary import Vocabulary
from kb.search.facets import FOLDED, FacetFolding, most_written

LIMIT = 300  # a datalist longer than this is scrolled, not read; the most used values come first


@dataclass(frozen=True)
class Choices:
    """Values to suggest, most useful first."""

    projects: list[str]
    phases: list[str]
    tags: list[str]


def choices(kb: KnowledgeBase, *, caller: Caller, vocabulary: Vocabulary, lang: str) -> Choices:
    """Projects, phases and tags of the documents the caller may see, folded; phases from the vocabulary first."""
    written = written_values(kb.store, caller.principal)
    folding = FacetFolding(vocabulary)
    vocabulary_phases = [vocabulary.label("phase", key, lang) for key in vocabulary.labels.get("phase", {})]
    other_phases = [
        v for v in _merged(written.phases, folding, "phase", vocabulary, lang) if v not in vocabulary_phases
    ]
    return Choices(
        projects=_merged(written.projects, folding, "project", vocabulary, lang)[:LIMIT],
        phases=[*vocabulary_phases, *other_phases][:LIMIT],
        tags=_merged(written.tags, folding, "tags", vocabulary, lang)[:LIMIT],
    )


def _merged(counts: Counter[str], folding: FacetFolding, facet: str, vocabulary: Vocabulary, lang: str) -> list[str]:
    """One value per key, the most used key first; a vocabulary key as its label in ``lang``."""
    key_of = folding.keys(facet, counts)
    spellings: dict[str, Counter[str]] = {}
    for value, n in counts.items():
        spellings.setdefault(key_of[value], Counter())[value] = n
    section = {"phase": "phase", "tags": "tag"}.get(facet)
    shown: list[tuple[int, str]] = []
    for key, under in spellings.items():
        if key.startswith(FOLDED) or section is None:
            name = most_written(under)
        else:
            name = vocabulary.label(section, key, lang)
        shown.append((sum(under.values()), name))
    return [name for _, name in sorted(shown, key=lambda item: (-item[0], item[1]))]
