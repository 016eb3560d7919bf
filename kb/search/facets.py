"""Facet values folded: one project, phase or tag however each document spells it.

Imported registers write one thing many ways: "Space Shuttle Program", "Space
shuttle program" and "The Space Shuttle Program"; "Deep Space Network (DSN)"
and "DSN"; "Implementation » Phase D"; "risk" and "リスク". Documents keep what
was written; the facets count, and the filters match, by a key:

- a phase or a tag: its vocabulary key (``kb.pmo.vocabulary``, sections ``phase``
  and ``tag``), else the value folded (case, width, spaces, punctuation);
- a project: ``fold_project``, with a bare acronym ("DSN") meaning the one
  project written with it in brackets ("Deep Space Network (DSN)").

A facet shows a vocabulary key (the page labels it per language) or, for a
value the vocabulary does not know, the spelling most documents use. A filter
on any spelling selects every spelling present in the store with its key, so a
click on a merged facet value finds all of its documents, and an old link with
one spelling still works.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import chain
from typing import TYPE_CHECKING

from kb.pmo.vocabulary import Vocabulary, fold

if TYPE_CHECKING:  # kb.search.searcher imports this module; the types are only annotations here
    from kb.search.indexer import DocInfo
    from kb.search.searcher import Filters

# facet → the vocabulary section its values are looked up in
VOCABULARY_FIELD = {"phase": "phase", "tags": "tag"}
FOLDED = "\0"
"""Marks a key that is a folded value, not a vocabulary key (a fold has no NUL, so the two never meet)."""

# A trailing acronym in brackets: "Deep Space Network (DSN)", "ICESat-2 (ICESat-2)"; one token with a capital.
_ACRONYM = re.compile(r"\s*\(([^()\s]{2,16})\)$")
# Words that name the kind of undertaking, not which one: "Constellation Program" is "Constellation".
_GENERIC = re.compile(r"(?:\s+(?:programs?|programmes?|projects?)|\s*プロジェクト)$", re.IGNORECASE)
_THE = re.compile(r"^the\s+", re.IGNORECASE)


@lru_cache(maxsize=65_536)  # a store's project names repeat in every search's facets
def _project_parts(name: str) -> tuple[str, str | None]:
    """The name without "the", a generic last word and a trailing acronym in brackets; and that acronym; folded."""
    text = unicodedata.normalize("NFKC", name).strip()
    text = _THE.sub("", text) or text
    acronym: str | None = None
    for _ in range(2):  # "… (GSDO) Program" and "… Program (GSDO)" alike
        text = _GENERIC.sub("", text) or text
        found = _ACRONYM.search(text)
        if found and found.start() > 0 and any(c.isupper() for c in found[1]):
            acronym, text = found[1], text[: found.start()]
    return fold(text), fold(acronym) if acronym is not None else None


def fold_project(name: str) -> str:
    """The key a project is compared by: case, width, spacing, "the", "Program" and "(ACRONYM)" left out.

    "Deep Space Network (DSN)", "deep  space network" and "Ｄｅｅｐ Space Network"
    share a key; "DSN" alone has its own (``project_keys`` joins it to the
    name it abbreviates when the store writes that name with it).
    """
    return _project_parts(name)[0]


def project_keys(names: Iterable[str]) -> dict[str, str]:
    """Each project name → its key, a bare acronym joined to the one name written with it in brackets.

    "DSN" takes the key of "Deep Space Network (DSN)" when ``names`` holds that
    spelling and no other project written with "(DSN)"; an acronym two names
    claim stays its own project rather than joining either.
    """
    names = set(names)
    expands: dict[str, set[str]] = {}
    for name in names:
        key, acronym = _project_parts(name)
        if acronym is not None:
            expands.setdefault(acronym, set()).add(key)
    keys: dict[str, str] = {}
    for name in names:
        key = fold_project(name)
        meant = expands.get(key, set())
        keys[name] = next(iter(meant)) if len(meant) == 1 else key
    return keys


def most_written(spellings: Counter[str]) -> str:
    """The spelling to show for a folded value: the most frequent, then the longest (it carries the acronym)."""
    return min(spellings.items(), key=lambda item: (-item[1], -len(item[0]), item[0]))[0]


def merged_counts(values_per_doc: Iterable[Sequence[str]], key_of: Mapping[str, str]) -> list[tuple[str, int]]:
    """(shown value, documents) per key, most frequent first; a document counts once per key.

    ``key_of`` maps every value in ``values_per_doc`` to its key: a vocabulary
    key is shown as itself (the page labels it per language), a folded key
    (``FOLDED``-marked) by ``most_written`` of the spellings under it.
    """
    per_doc = [values for values in values_per_doc if values]
    written = Counter(chain.from_iterable(per_doc))
    return _shown(written, Counter(chain.from_iterable({key_of[v] for v in values} for values in per_doc)), key_of)


def _shown(written: Counter[str], docs: Counter[str], key_of: Mapping[str, str]) -> list[tuple[str, int]]:
    """(shown value, documents) per key, from the spellings' counts and the documents per key."""
    spellings: dict[str, Counter[str]] = {}
    for value, n in written.items():
        spellings.setdefault(key_of[value], Counter())[value] = n
    shown = [(most_written(spellings[k]) if k.startswith(FOLDED) else k, n) for k, n in docs.items()]
    return sorted(shown, key=lambda item: (-item[1], item[0]))


@dataclass
class FacetFolding:
    """Keys of project, phase and tag values through one vocabulary, for facet counts and filters."""

    vocabulary: Vocabulary
    _keys: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)  # the store's values repeat

    def key(self, facet: str, value: str) -> str:
        """The key of one phase or tag value: its vocabulary key, else the value folded (marked apart)."""
        cached = self._keys.get((facet, value))
        if cached is None:
            known = self.vocabulary.lookup(VOCABULARY_FIELD[facet], value)
            cached = known if known is not None else FOLDED + fold(value)
            if len(self._keys) < 100_000:
                self._keys[(facet, value)] = cached
        return cached

    def keys(self, facet: str, values: Iterable[str]) -> dict[str, str]:
        """Each value of ``facet`` → its key (projects: ``project_keys`` over these values)."""
        if facet == "project":
            return {name: FOLDED + key for name, key in project_keys(values).items()}
        return {v: self.key(facet, v) for v in set(values)}

    def same(self, facet: str, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` are one value of ``facet`` (kind, language, status: written alike)."""
        if facet not in ("project", "phase", "tags"):
            return a == b
        keys = self.keys(facet, (a, b))
        return keys[a] == keys[b]

    def counts(self, docs: Sequence[DocInfo], facets: Iterable[str]) -> dict[str, list[tuple[str, int]]]:
        """Counts per facet value over ``docs`` (tags once per document), projects, phases and tags merged."""
        out: dict[str, list[tuple[str, int]]] = {}
        for facet in facets:
            if facet == "tags":
                out[facet] = merged_counts([d.tags for d in docs], self.keys(facet, {t for d in docs for t in d.tags}))
                continue
            written: Counter[str] = Counter(str(v) for d in docs if (v := getattr(d, facet)))
            if facet in ("project", "phase"):
                key_of = self.keys(facet, written)
                per_key: Counter[str] = Counter()
                for value, n in written.items():  # one value per document: its documents are its count
                    per_key[key_of[value]] += n
                out[facet] = _shown(written, per_key, key_of)
            else:
                out[facet] = sorted(written.items(), key=lambda item: (-item[1], item[0]))
        return out

    def expand(self, filters: Filters, present: Mapping[str, Iterable[str]]) -> Filters:
        """``filters`` with each project, phase and tag wanted widened to its spellings among ``present``."""
        wanted = {"project": filters.projects, "phase": filters.phases, "tags": filters.tags}
        widened: dict[str, tuple[str, ...]] = {}
        for facet, values in wanted.items():
            if values:
                key_of = self.keys(facet, [*values, *present.get(facet, ())])
                targets = {key_of[v] for v in values}
                widened[facet] = tuple(sorted({p for p, k in key_of.items() if k in targets} | set(values)))
        return replace(
            filters,
            projects=widened.get("project", filters.projects),
            phases=widened.get("phase", filters.phases),
            tags=widened.get("tags", filters.tags),
        )


def present_values(docs: Iterable[DocInfo]) -> dict[str, frozenset[str]]:
    """The project, phase and tag values written in ``docs``, for ``FacetFolding.expand``."""
    projects: set[str] = set()
    phases: set[str] = set()
    tags: set[str] = set()
    for d in docs:
        if d.project:
            projects.add(d.project)
        if d.phase:
            phases.add(d.phase)
        tags.update(d.tags)
    return {"project": frozenset(projects), "phase": frozenset(phases), "tags": frozenset(tags)}
