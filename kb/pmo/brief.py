"""The kickoff brief: from a new project's description to a reading list of what the organisation learned.

A PM describes the project in free text (Japanese or English) with optional
type, phase, vendors, technologies and budget size. The description is cut
into parts (its sentences, and one part per given field); the whole and each
part run through the hybrid search as the caller sees the store, limited to
published lessons, templates, procedures and FAQs. Their rankings are
fused by reciprocal rank (as RAG-fusion does with several rewrites of one
question): fused scores are normalised per query, so a vague sentence's top hit
scores as high as a precise one's and cannot be compared across searches,
while ranks can. A document several parts rank high matters more; its reason
is the part that ranked it highest, with its words the document holds (``kb.search.explain``).

The list is grouped by kind (lessons to heed with their recommendation,
templates to use, procedures to follow, FAQs to know), each kind cut at a
share of its best score, deduplicated (lessons of one recurring-problem
cluster appear once, with the others as "also in"), and recurring problems
first among the lessons.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from kb.pmo.clusters import ProblemCluster
from kb.record.store import Store
from kb.search.explain import in_words
from kb.search.indexer import DocInfo
from kb.search.searcher import Filters, Searcher

KINDS = ("lesson", "template", "procedure", "faq")
LIMITS = {"lesson": 8, "template": 4, "procedure": 4, "faq": 4}
WHOLE_WEIGHT = 2.0  # the whole description: what the project is about, as one
PART_WEIGHT = 1.0  # one sentence of the description
FIELD_WEIGHT = 0.5  # one field (phase, type, a vendor, a technology): a word or two, weaker evidence alone
RRF_K = 10  # reciprocal rank constant: small, so the first few ranks of each search dominate
DEPTH = 30  # results read per search
KEEP_SHARE = 0.35  # items scoring under this share of their kind's best are left out
MAX_PARTS = 10
_SENTENCE = re.compile(r"(?<=[。．！？!?])|\n+|(?<=\.)\s+")


@dataclass(frozen=True)
class BriefRequest:
    """What a PM says about the new project; every field but ``description`` may be empty."""

    description: str
    project_type: str = ""
    phase: str = ""
    vendors: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    budget: str = ""

    def parts(self) -> list[tuple[str, str]]:
        """(label, text) of each part searched on its own: the sentences, then the fields."""
        sentences = [s.strip(" \t・-*•") for s in _SENTENCE.split(self.description)]
        out = [("", s) for s in dict.fromkeys(sentences) if len(s) >= 4]
        fields = [("project_type", self.project_type), ("phase", self.phase)]
        fields += [("vendor", v) for v in self.vendors] + [("technology", t) for t in self.technologies]
        out += [(label, value.strip()) for label, value in fields if value.strip()]
        return out[:MAX_PARTS]

    def whole(self) -> str:
        extra = [self.project_type, self.phase, *self.vendors, *self.technologies, self.budget]
        return "\n".join([self.description.strip(), *(e.strip() for e in extra if e.strip())])


@dataclass
class BriefItem:
    document: DocInfo
    score: float
    reason: str  # the part of the description that found it best
    reason_field: str  # "" for a sentence, else project_type, phase, vendor, technology; "whole" for the whole
    matched: list[str]  # the reason's words the document holds, as written (see kb.search.explain)
    recommendation: str | None = None
    cluster: ProblemCluster | None = None  # the recurring problem a lesson belongs to
    also: list[DocInfo] = field(default_factory=list)  # other lessons of that problem, folded into this item
    via_translation: list[tuple[str, str]] = field(default_factory=list)  # (reason's word, document's word)
    similar_meaning: bool = False  # the reason and the document are close in meaning


@dataclass
class Brief:
    request: BriefRequest
    groups: dict[str, list[BriefItem]]
    took_ms: float

    def items(self) -> list[BriefItem]:
        return [item for kind in KINDS for item in self.groups.get(kind, [])]


def make_brief(
    searcher: Searcher,
    store: Store,
    request: BriefRequest,
    *,
    visible_to: tuple[str, ...] | None,
    problems: Sequence[ProblemCluster] = (),
) -> Brief:
    """The reading list for ``request`` as a caller with ``visible_to`` sees the store (see module docstring)."""
    started = time.perf_counter()
    filters = Filters(kinds=KINDS, statuses=("published",), visible_to=visible_to)
    queries = [("whole", request.whole(), WHOLE_WEIGHT)]
    queries += [(lbl, text, FIELD_WEIGHT if lbl else PART_WEIGHT) for lbl, text in request.parts()]
    best: dict[str, BriefItem] = {}
    reason_rank: dict[str, tuple[float, bool, float]] = {}
    for label, text, weight in queries:
        if not text.strip():
            continue
        # a part (a sentence, a field) is a query and must reach the confidence line; the whole description
        # is many queries at once, whose words no one document covers, so its matches are ranked, not gated
        result = searcher.search(text, filters=filters, limit=DEPTH, weak=label == "whole")
        for rank, hit in enumerate(result.hits, start=1):
            doc_id = hit.document.id
            item = best.get(doc_id)
            if item is None:
                item = best[doc_id] = BriefItem(hit.document, 0.0, text, label, [])
            item.score += weight / (RRF_K + rank)
            # the reason is the part that ranked it highest (a field's rank counts double: a word or two says
            # less than a sentence); between parts ranking it alike, the closer in meaning (cosines, unlike fused
            # scores, compare across queries); the whole description only when no part found it
            closeness = hit.explanation.dense_score or 0.0
            key = (rank / weight if label != "whole" else DEPTH * 2 + rank, label != "", -closeness)
            if doc_id not in reason_rank or key < reason_rank[doc_id]:
                reason_rank[doc_id] = key
                item.reason, item.reason_field = text, label
                e = hit.explanation
                item.matched, item.via_translation = list(e.matched_words), list(e.via_translation)
                item.similar_meaning = e.similar_meaning
    groups = _group(list(best.values()), problems)
    lessons = groups.get("lesson", [])
    if lessons:
        docs = {d.id: d for d in store.get_many([i.document.id for i in lessons])}
        for item in lessons:
            doc = docs.get(item.document.id)
            item.recommendation = (doc.recommendation or doc.lesson) if doc else None
    return Brief(request, groups, (time.perf_counter() - started) * 1000)


def _group(items: list[BriefItem], problems: Sequence[ProblemCluster]) -> dict[str, list[BriefItem]]:
    cluster_of = {d.id: c for c in problems for d in c.lessons}
    groups: dict[str, list[BriefItem]] = {}
    for kind in KINDS:
        ranked = sorted((i for i in items if i.document.kind == kind), key=lambda i: (-i.score, i.document.id))
        if not ranked:
            continue
        floor = KEEP_SHARE * ranked[0].score
        kept: list[BriefItem] = []
        seen_clusters: dict[str, BriefItem] = {}
        for item in ranked:
            if item.score < floor:
                break
            cluster = cluster_of.get(item.document.id)
            if cluster is not None:
                if cluster.key in seen_clusters:  # the same problem again: fold it into the first
                    seen_clusters[cluster.key].also.append(item.document)
                    continue
                item = replace(item, cluster=cluster)
                seen_clusters[cluster.key] = item
            kept.append(item)
        kept = kept[: LIMITS[kind]]
        if kind == "lesson":  # recurring problems first, each group still by score
            kept.sort(key=lambda i: (not (i.cluster and i.cluster.recurring), -i.score))
        groups[kind] = kept
    return groups


def to_markdown(
    brief: Brief, *, read: set[str] | frozenset[str] = frozenset(), base_url: str = "", title: str = ""
) -> str:
    """The brief as a Markdown checklist (``- [x]`` for the items in ``read``), for a wiki or an e-mail."""
    heading = title or brief.request.description.strip().splitlines()[0][:80]
    lines = [f"# {_md(heading)}", ""]
    lines += [f"> {_md(line)}" for line in brief.request.description.strip().splitlines() if line.strip()]
    names = {
        "lesson": "Lessons to heed / 教訓",
        "template": "Templates to use / テンプレート",
        "procedure": "Procedures to follow / 手順書",
        "faq": "FAQs to know / FAQ",
    }
    for kind in KINDS:
        items = brief.groups.get(kind, [])
        if not items:
            continue
        lines += ["", f"## {names[kind]}", ""]
        for item in items:
            d = item.document
            box = "x" if d.id in read else " "
            line = f"- [{box}] [{_md(d.title)}]({base_url}/documents/{d.id})"
            if d.project:
                line += f" ({_md(d.project)})"
            if item.cluster and item.cluster.recurring:
                line += f" **recurring: {len(item.cluster.projects)} projects**"
            lines.append(line)
            if item.recommendation:
                lines.append(f"  - {_md(_one_line(item.recommendation))}")
            lines.append(f"  - why: {_md(_one_line(item.reason))}")
            if item.matched or item.via_translation or item.similar_meaning:
                lines.append(f"  - {_md(_plain_reason(item))}")
    return "\n".join(lines) + "\n"


def _plain_reason(item: BriefItem) -> str:
    """Why the item matched its reason in words, bilingual like the rest of the export."""
    labels = ("matched / 一致", "via translation / 訳語", "similar in meaning / 意味が近い")
    return " · ".join(in_words(item.matched, item.via_translation, item.similar_meaning, labels))


def _one_line(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _md(text: str) -> str:
    """Text that stays text in Markdown: brackets, emphasis and HTML escaped."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)
