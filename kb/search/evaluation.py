"""Retrieval evaluation on BEIR-format folders: nDCG@10, Recall@10, MRR@10 and latency.

The corpus is indexed through the product's own path (store → chunks →
indexer), into a temporary data dir, and every query goes through the same
``Searcher`` the CLI and the web app use, so the figures describe the product.

Metric definitions (chosen so the numbers compare with the public board):

- nDCG@10 with gain ``2^grade − 1`` and log2 discount, as Elasticsearch's
  rank-eval computes it; the ideal ranking is built from every judged document;
- Recall@10: relevant documents (grade ≥ 1) in the top 10 / all relevant;
- MRR@10: 1 / rank of the first relevant document in the top 10, else 0.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kb.config import Settings
from kb.engine import make_searcher
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind
from kb.record.store import SqlStore, document_id, open_store
from kb.search.embedders.base import Embedder
from kb.search.indexer import Indexer
from kb.search.language import detect_language
from kb.search.searcher import Mode, Searcher

EVAL_SOURCE = "eval:corpus"


@dataclass
class BeirSet:
    corpus: dict[str, tuple[str, str]]  # id → (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]  # query id → {doc id: grade}
    groups: dict[str, str] = field(default_factory=dict)  # query id → its "group" (mixed_jaen's language pair)

    @property
    def out_of_scope(self) -> bool:
        """A set of questions nothing in the corpus answers (oos_nasa): qrels.tsv holds no judgement at all."""
        return not self.qrels


def _jsonl(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidInput(f"not valid JSON: {exc.msg}", source=str(path), line=number) from exc


def load_beir(folder: Path) -> BeirSet:
    """Read corpus.jsonl, queries.jsonl and qrels.tsv; only queries with a judgement are kept."""
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (folder / name).is_file():
            raise InvalidInput(f"not a BEIR folder: {name} is missing", source=str(folder))
    corpus = {str(d["_id"]): (d.get("title") or "", d.get("text") or "") for d in _jsonl(folder / "corpus.jsonl")}
    qrels: dict[str, dict[str, int]] = {}
    lines = (folder / "qrels.tsv").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        parts = line.split("\t")
        if number == 1 and not parts[-1].strip().lstrip("-").isdigit():
            continue  # header
        if len(parts) < 3:
            raise InvalidInput("expected query-id, corpus-id and score", source=str(folder / "qrels.tsv"), line=number)
        qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    rows = list(_jsonl(folder / "queries.jsonl"))
    # a set without judgements asks nothing to be found: every query is kept (see BeirSet.out_of_scope)
    queries = {str(q["_id"]): q["text"] for q in rows if str(q["_id"]) in qrels or not qrels}
    groups = {str(q["_id"]): str(q["group"]) for q in rows if q.get("group") and str(q["_id"]) in queries}
    return BeirSet(corpus, queries, qrels, groups)


def ndcg_at(ranked: Sequence[str], grades: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], grades: dict[str, int], k: int = 10) -> float:
    relevant = {d for d, g in grades.items() if g >= 1}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranked: Sequence[str], grades: dict[str, int], k: int = 10) -> float:
    for i, d in enumerate(ranked[:k]):
        if grades.get(d, 0) >= 1:
            return 1.0 / (i + 1)
    return 0.0


@dataclass
class EvalReport:
    mode: Mode
    queries: int
    ndcg: float
    recall: float
    mrr: float
    p50_ms: float
    p99_ms: float
    per_query: list[float] = field(default_factory=list)  # nDCG@10 of each query, in the set's order
    answered: float = 0.0
    """Share of the queries that got at least one (confident) hit; on an out-of-scope set, the lower the better."""
    groups: dict[str, float] = field(default_factory=dict)
    """nDCG@10 per query group (mixed_jaen's language pairs), when the queries have groups."""

    def as_json(self) -> dict[str, object]:
        return {
            "ndcg@10": round(self.ndcg, 4),
            "recall@10": round(self.recall, 4),
            "mrr@10": round(self.mrr, 4),
            "answered": round(self.answered, 4),
            **({"groups": {g: round(v, 4) for g, v in self.groups.items()}} if self.groups else {}),
            "queries": self.queries,
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "mode": self.mode,
        }


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float


def paired_difference(a: Sequence[float], b: Sequence[float], *, rounds: int = 10_000, seed: int = 0) -> Interval:
    """Mean of ``b − a`` over paired per-query scores, with a 95% paired-bootstrap interval.

    Two modes run on the same queries, so the per-query differences are what
    vary: resampling queries with replacement tells whether a gap of 0.001
    nDCG is a difference between the modes or noise of this query sample.
    """
    if len(a) != len(b):
        raise ValueError("paired scores need the same queries")
    diff = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    if diff.size == 0:
        return Interval(0.0, 0.0, 0.0)
    rng = np.random.default_rng(seed)
    batch = max(1, 2_000_000 // diff.size)  # resample in batches: rounds × queries indices can be large
    means = np.concatenate(
        [
            diff[rng.integers(0, diff.size, size=(min(batch, rounds - done), diff.size))].mean(axis=1)
            for done in range(0, rounds, batch)
        ]
    )
    low, high = np.percentile(means, [2.5, 97.5])
    return Interval(float(diff.mean()), float(low), float(high))


# The content kind of each set in ../shared/eval that does not hold FAQs: the
# NASA sets are lessons, JSQuAD's are encyclopedia paragraphs under their
# article's name (reference text, as a procedure is), not questions.
SET_KINDS = {
    "en_llis_title2lesson": Kind.lesson,
    "en_llis_event2lesson": Kind.lesson,
    "ja_llis_title2lesson_xl": Kind.lesson,
    "oos_nasa": Kind.lesson,
    "ja_jsquad_valid_test": Kind.procedure,
}
# In a set that mixes corpora (mixed_jaen), documents whose id starts so are of this kind; the rest are the
# set's kind. The NASA lessons are lessons, the city FAQ entries FAQs, as they would be in a real store.
ID_PREFIX_KINDS = {"llis": Kind.lesson}
# "Question: … Answer: …" in one text, as ja_localgovfaq stores its entries.
_QUESTION_ANSWER = re.compile(r"\A\s*(?:Question|Q)\s*[:：]\s*(?P<q>.+?)\n\s*(?:Answer|A)\s*[:：]\s*(?P<a>.*)\Z", re.S)


def set_kind(folder: Path) -> Kind:
    """The kind a BEIR folder's documents are stored as: FAQ unless ``SET_KINDS`` names the set.

    The kind matters because an FAQ's title is its question and gets a chunk of
    its own (``kb.search.chunking.chunk_document``), which for a lesson title or an
    article name would be wrong.
    """
    return SET_KINDS.get(folder.name, Kind.faq)


def corpus_drafts(data: BeirSet, default: Kind = Kind.faq) -> list[DocumentDraft]:
    """The corpus as documents of ``default`` kind (or ``ID_PREFIX_KINDS``'), stored as ingesters store them.

    An FAQ entry written as "Question: … Answer: …" with no title is stored as
    an FAQ ingested from a question/answer spreadsheet is: the question as its
    title, the answer as its body.
    """
    drafts = []
    for doc_id, (title, text) in data.corpus.items():
        kind = next((k for prefix, k in ID_PREFIX_KINDS.items() if doc_id.startswith(prefix)), default)
        if kind is Kind.faq and not title.strip() and (qa := _QUESTION_ANSWER.match(text)):
            title, text = qa["q"].strip(), qa["a"].strip()
        language = detect_language(title + " " + text)
        drafts.append(DocumentDraft(kind=kind, title=title, body=text, language=language, key=doc_id))
    return drafts


def index_corpus(
    data: BeirSet,
    store: SqlStore,
    indexer: Indexer,
    on_progress: Callable[[int, int], None] | None = None,
    kind: Kind = Kind.faq,
) -> dict[str, str]:
    """Store and index the corpus as documents of ``kind``; return document id → corpus id."""
    drafts = corpus_drafts(data, kind)
    digest = hashlib.sha256("\0".join(sorted(data.corpus)).encode()).hexdigest()
    store.replace_source(EVAL_SOURCE, digest, drafts)
    indexer.catch_up(on_progress)
    return {document_id(EVAL_SOURCE, d.key): d.key for d in drafts}


def run_queries(data: BeirSet, searcher: Searcher, id_map: dict[str, str], mode: Mode) -> EvalReport:
    ndcgs, recalls, mrrs, latencies, answered = [], [], [], [], []
    by_group: dict[str, list[float]] = {}
    for query_id, text in data.queries.items():
        result = searcher.search(text, limit=10, mode=mode)
        latencies.append(result.took_ms)
        answered.append(bool(result.hits))
        # a near-duplicate folded into a hit is listed under it ("N similar"): it counts at the hit's rank
        ranked = [id_map[d.id] for h in result.hits for d in (h.document, *h.similar) if d.id in id_map]
        grades = data.qrels.get(query_id, {})
        if query_id in data.groups:
            by_group.setdefault(data.groups[query_id], []).append(ndcg_at(ranked, grades))
        ndcgs.append(ndcg_at(ranked, grades))
        recalls.append(recall_at(ranked, grades))
        mrrs.append(mrr_at(ranked, grades))
    n = max(1, len(ndcgs))
    lat = np.array(latencies or [0.0])
    return EvalReport(
        mode,
        len(ndcgs),
        sum(ndcgs) / n,
        sum(recalls) / n,
        sum(mrrs) / n,
        float(np.percentile(lat, 50)),
        float(np.percentile(lat, 99)),
        ndcgs,
        sum(answered) / n,
        {group: sum(v) / len(v) for group, v in sorted(by_group.items())},
    )


def evaluate(
    folder: Path,
    settings: Settings,
    embedder: Embedder,
    modes: Sequence[Mode],
    on_progress: Callable[[int, int], None] | None = None,
    kind: Kind | None = None,
) -> list[EvalReport]:
    """Index ``folder``'s corpus in a temporary data dir and evaluate each mode on it.

    The documents are stored as ``kind``, by default :func:`set_kind`'s.
    """
    data = load_beir(folder)
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp:
        eval_settings = settings.model_copy(update={"data_dir": Path(tmp), "database_url": None})
        store = open_store(eval_settings)
        try:
            indexer = Indexer(
                store, embedder, Path(tmp) / "index", ann_threshold=settings.ann_threshold, nprobe=settings.ann_nprobe
            )
            id_map = index_corpus(data, store, indexer, on_progress, kind or set_kind(folder))
            searcher = make_searcher(indexer, settings, embedder)
            return [run_queries(data, searcher, id_map, mode) for mode in modes]
        finally:
            store.close()
