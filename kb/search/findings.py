"""One hit per finding: the rules that keep one thing from taking several slots of a result list.

A ranked list of documents can name one finding several times: a lesson and
the retrospective it was split from, showing the same passage; an old version
of a standard above the current one; the same lesson imported twice, or
re-issued with small edits (the NASA register has three "Earned Value
Management" lessons whose texts are 97–98 % alike). ``one_hit_per_finding``
applies the three rules to the list, in this order:

1. **Current version first.** A superseded or archived version never ranks
   above the published version of the same standard: it moves to just below it.
2. **The lesson, not its retrospective, for a passage they share.** When a
   retrospective's best passage is the text a listed lesson was made from,
   the lesson takes the better of the two places and the retrospective leaves
   the list (the hit names its retrospective). A retrospective whose best
   passage is something else keeps its own place.
3. **Near-duplicates fold.** A document that is a near-duplicate of a
   better-ranked one of the same kind folds into it; the one kept lists the
   folded ones ("2 similar"). Each folds into the best-ranked document it
   duplicates, never through a chain of them, so two distinct documents never
   fold together merely because each resembles a third.

The function is pure: the relations it needs (which lessons a retrospective's
passage came from, the current version of each retired one, which pairs are
near-duplicates) are worked out by the searcher, which reads texts and vectors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

RETIRED = frozenset({"superseded", "archived"})
"""Statuses of a version that something newer (or nothing) replaced."""

SHARED_LINE = 20
"""Characters a line must have to count as a shared passage (shorter lines are headings or labels: 教訓, Lesson)."""


class Versioned(Protocol):
    """What ``current_versions`` reads of a document (``kb.search.indexer.DocInfo`` has it)."""

    id: str
    kind: str
    title: str
    status: str
    supersedes: str | None


@dataclass(frozen=True)
class Finding:
    """One slot of the result list: a document, its score, and the near-duplicates folded into it, best first."""

    doc_id: str
    score: float
    similar: tuple[str, ...] = ()


@dataclass(frozen=True)
class DuplicateLine:
    """Cosines above which two documents are near-duplicates: both their lead chunks and their bodies.

    ``lead`` compares the lead chunk vectors (a lesson's or FAQ's title, else
    the opening chunk), ``body`` the mean vectors of the other chunks. Both
    must hold: NASA lessons that share a driving event but draw different
    lessons from it have near-identical bodies and different titles, and
    lessons that share a title ("ADEOS-II NGN L0 Data Gap Introduction
    Problem", five different findings) have different bodies.
    """

    lead: float
    body: float


IDENTICAL = DuplicateLine(lead=0.9999, body=0.9999)
"""The line of an embedder nobody measured: only documents with the same text (imported twice) fold."""


def one_hit_per_finding(
    ranked: Sequence[tuple[str, float]],
    *,
    kinds: Mapping[str, str],
    parents: Mapping[str, str],
    passages: Mapping[str, frozenset[str]],
    current: Mapping[str, str],
    duplicates: Mapping[str, Collection[str]],
) -> list[Finding]:
    """``ranked`` (document, score; best first) with each finding once (see the module docstring).

    ``kinds`` gives each document's kind, ``parents`` each lesson's
    retrospective, ``passages`` each retrospective's lessons whose text its best
    passage holds, ``current`` each retired document's published version, and
    ``duplicates`` each document's near-duplicates (symmetric). Scores are kept as they are: a lesson that takes its
    retrospective's place keeps its own score.
    """
    order = _current_first(list(ranked), current) if current else list(ranked)
    order = _lessons_for_retrospectives(order, parents, passages) if passages else order
    kept: dict[str, int] = {}  # document kept → its place among the kept
    similar: dict[str, list[str]] = {}
    out: list[tuple[str, float]] = []
    for doc_id, score in order:
        near = duplicates.get(doc_id)  # most documents have none: no list to build
        twins = [k for k in near if k in kept and kinds.get(k) == kinds.get(doc_id)] if near else None
        if twins:
            similar[min(twins, key=kept.__getitem__)].append(doc_id)  # into the best-ranked one
        else:
            kept[doc_id] = len(out)
            similar[doc_id] = []
            out.append((doc_id, score))
    return [Finding(d, s, tuple(similar[d])) for d, s in out]


def _current_first(order: list[tuple[str, float]], current: Mapping[str, str]) -> list[tuple[str, float]]:
    """Each retired document that ranks above its current version moved to just below that version."""
    listed = {d for d, _ in order}
    seen: set[str] = set()
    waiting: dict[str, list[tuple[str, float]]] = {}
    out: list[tuple[str, float]] = []
    for doc_id, score in order:
        newer = current.get(doc_id)
        if newer is not None and newer in listed and newer not in seen:
            waiting.setdefault(newer, []).append((doc_id, score))
            continue
        seen.add(doc_id)
        out.append((doc_id, score))
        out.extend(waiting.pop(doc_id, []))
    return out


def _lessons_for_retrospectives(
    order: list[tuple[str, float]], parents: Mapping[str, str], passages: Mapping[str, frozenset[str]]
) -> list[tuple[str, float]]:
    """A retrospective whose best passage a listed lesson holds gives its place to that lesson and leaves."""
    position = {d: n for n, (d, _) in enumerate(order)}
    slot: dict[str, int] = {}  # lesson → the better place it takes
    gone: set[str] = set()
    for retro, lessons in passages.items():
        if retro not in position:
            continue
        listed = sorted((position[lesson], lesson) for lesson in lessons if parents.get(lesson) == retro)
        if listed:
            _, lesson = listed[0]  # the best-ranked lesson of the passage takes the retrospective's place
            slot[lesson] = min(position[retro], position[lesson])
            gone.add(retro)
    placed = [(slot.get(d, n), n, d, s) for n, (d, s) in enumerate(order) if d not in gone]
    return [(d, s) for _, _, d, s in sorted(placed)]


def shares_passage(passage: str, lesson: str, *, shortest: int = SHARED_LINE) -> bool:
    """True when ``passage`` (a retrospective's chunk) and ``lesson`` (a lesson's text) share a line.

    A lesson split out of a retrospective copies its lines from it (the
    driving event, the lesson, the recommendation; the labels and list marks
    around them differ: ``事象: …`` in one, ``事象`` then the line in the
    other), so a line of one found whole in the other means the same passage.
    Lines shorter than ``shortest`` characters are headings or labels and
    never count. Either direction counts: a chunk boundary may cut a
    lesson's line, leaving part of it as a line of the passage.
    """
    passage_norm, lesson_norm = _normalised(passage), _normalised(lesson)
    return any(
        line in other
        for lines, other in ((_lines(lesson_norm), passage_norm), (_lines(passage_norm), lesson_norm))
        for line in lines
        if len(line) >= shortest
    )


def _normalised(text: str) -> str:
    return re.sub(r"[ \t\u3000]+", " ", unicodedata.normalize("NFKC", text))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def near_duplicates(
    leads: npt.NDArray[np.float32], bodies: npt.NDArray[np.float32], line: DuplicateLine
) -> npt.NDArray[np.bool_]:
    """The pairs of documents (rows) over ``line``: a symmetric boolean matrix, False on the diagonal.

    ``leads`` and ``bodies`` hold one unit vector per document (its lead chunk,
    the normalised mean of its other chunks); a row of NaN (no vector) matches nothing.
    """
    return close_bodies(close_leads(leads, line), bodies, line)


def close_leads(leads: npt.NDArray[np.float32], line: DuplicateLine) -> npt.NDArray[np.bool_]:
    """The pairs of rows of ``leads`` over ``line.lead`` (False on the diagonal and for a row of NaN)."""
    out: npt.NDArray[np.bool_] = np.nan_to_num(leads @ leads.T, nan=-1.0) >= line.lead
    np.fill_diagonal(out, False)
    return out


def close_bodies(
    close: npt.NDArray[np.bool_], bodies: npt.NDArray[np.float32], line: DuplicateLine
) -> npt.NDArray[np.bool_]:
    """The pairs of ``close`` (from :func:`close_leads`, the same rows) whose ``bodies`` are over ``line.body`` too."""
    out: npt.NDArray[np.bool_] = close & (np.nan_to_num(bodies @ bodies.T, nan=-1.0) >= line.body)
    return out


def unit_means(rows: npt.NDArray[np.float32], sizes: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """The normalised mean of each run of ``rows``: the first ``sizes[0]`` rows, then the next ``sizes[1]``, ….

    Every size must be at least 1; a run holding a row of NaN gives NaN. Summed
    position by position (the first row of every run, then the second of the
    runs that have one, …): a document has a few chunks, and this is 2–3× faster
    than ``np.add.reduceat`` over the rows at 100k chunks.
    """
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    sums = rows[starts].astype(np.float32, copy=True)
    for k in range(1, int(sizes.max(initial=1))):
        longer = np.flatnonzero(sizes > k)
        sums[longer] += rows[starts[longer] + k]
    out: npt.NDArray[np.float32] = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return out


def version_titles(title: str, links: Iterable[tuple[str, str | None]]) -> set[str]:
    """The titles of every version of the standard titled ``title``, given each version's (title, supersedes).

    Versions name the title of the version they replace in ``supersedes``; a
    new version may keep the same title. The chain is followed both ways until
    it stops growing.
    """
    pairs = list(links)
    titles = {title}
    while True:
        grown = titles | {t for t, replaced in pairs if replaced in titles}
        grown |= {replaced for t, replaced in pairs if t in titles and replaced}
        if grown == titles:
            return titles
        titles = grown


def current_versions(docs: Iterable[Versioned], kinds: frozenset[str]) -> dict[str, str]:
    """Each retired document of ``kinds`` (templates, procedures) → the published version of its standard.

    A retired document whose standard has no published version (only drafts,
    or nothing newer) maps to nothing.
    """
    by_kind: dict[str, list[Versioned]] = {}
    for doc in docs:
        if doc.kind in kinds:
            by_kind.setdefault(doc.kind, []).append(doc)
    out: dict[str, str] = {}
    for same_kind in by_kind.values():
        links = [(d.title, d.supersedes) for d in same_kind]
        published = [d for d in same_kind if d.status == "published"]
        for doc in same_kind:
            if doc.status in RETIRED and published:
                titles = version_titles(doc.title, links)
                newest = next((d.id for d in published if d.title in titles), None)
                if newest is not None:
                    out[doc.id] = newest
    return out
