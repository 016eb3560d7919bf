"""Measure the lexical (BM25) search on the BEIR-layout evaluation sets.

Usage (from the repository root)::

    python bench/lexical_eval.py                       # chosen config on every set
    python bench/lexical_eval.py --sweep ja            # Japanese analyzer/BM25 sweep on ja_localgovfaq
    python bench/lexical_eval.py --sweep en            # English options on the English sets
    python bench/lexical_eval.py --sweep engine        # bm25s vs this index, same tokens (pip install bm25s)
    python bench/lexical_eval.py --scale 100000        # build/latency/memory at 100k chunks
    python bench/lexical_eval.py --scale 100000 --full-analysis --bm25s   # every replica analysed; bm25s too
    python bench/lexical_eval.py --scale 100000 --scale-set en_stackfaq   # English chunks
    python bench/lexical_eval.py --max-queries 2000    # subsample big query sets (seed 0)

Metrics at 10: nDCG (gain 2^grade − 1, ideal from all judged documents,
Elasticsearch rank-eval style), Recall (relevant retrieved / all relevant,
relevant = grade ≥ 1) and MRR. Latency is one thread, per query, analysis
included. The sets are read from ``--eval-dir`` at run time and never copied.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kb.search.analysis import (
    BASIC_DROP_POS,
    DEFAULT_DROP_POS,
    ENGLISH_STOPWORDS,
    Analyzer,
    AnalyzerConfig,
)
from kb.search.lexical import Bm25Index

DEFAULT_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
ALL_SETS = ["ja_localgovfaq", "en_stackfaq", "en_covidqa_faq", "en_llis_title2lesson", "ja_jsquad_valid_test"]


@dataclass
class EvalSet:
    name: str
    docs: list[tuple[int, str]]  # (int id, title + " " + text)
    doc_keys: list[str]
    queries: list[tuple[str, str]]
    qrels: dict[str, dict[str, int]]


def load_set(root: Path, name: str, max_queries: int | None, seed: int = 0) -> EvalSet:
    d = root / name
    docs: list[tuple[int, str]] = []
    keys: list[str] = []
    with open(d / "corpus.jsonl", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            row = json.loads(line)
            keys.append(str(row["_id"]))
            docs.append((i, f"{row.get('title') or ''} {row.get('text') or ''}".strip()))
    qrels: dict[str, dict[str, int]] = {}
    with open(d / "qrels.tsv", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            q, c, s = line.rstrip("\n").split("\t")
            qrels.setdefault(q, {})[c] = int(s)
    queries: list[tuple[str, str]] = []
    with open(d / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if str(row["_id"]) in qrels:
                queries.append((str(row["_id"]), row["text"]))
    if max_queries is not None and len(queries) > max_queries:
        queries = random.Random(seed).sample(queries, max_queries)
    return EvalSet(name, docs, keys, queries, qrels)


def metrics(ranked: Sequence[str], rel: dict[str, int], k: int = 10) -> tuple[float, float, float]:
    top = list(ranked[:k])
    dcg = sum((2 ** rel.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(top))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    relevant = {d for d, g in rel.items() if g >= 1}
    recall = len(relevant.intersection(top)) / len(relevant) if relevant else 0.0
    mrr = next((1.0 / (i + 1) for i, d in enumerate(top) if rel.get(d, 0) >= 1), 0.0)
    return (dcg / idcg if idcg else 0.0), recall, mrr


@dataclass
class Config:
    name: str
    analyzer: AnalyzerConfig = field(default_factory=AnalyzerConfig)
    k1: float = 1.5
    b: float = 0.75
    bigram_weight: float = 0.25
    fallback_only: bool = False  # bigrams used only when words find < 10 hits
    bigrams_only: bool = False  # the character-bigram field alone
    prune: bool = False  # force common-term pruning (on by default only from 20k chunks)


@dataclass
class Result:
    config: str
    set: str
    ndcg: float
    recall: float
    mrr: float
    build_s: float
    p50_ms: float
    p99_ms: float
    queries: int


def evaluate(es: EvalSet, cfg: Config, index: Bm25Index | None = None, build_s: float = 0.0) -> Result:
    if index is None:
        t0 = time.perf_counter()
        index = Bm25Index(analyzer=cfg.analyzer, k1=cfg.k1, b=cfg.b, bigram_weight=max(cfg.bigram_weight, 0.0))
        index.add(es.docs)
        index.compact()
        build_s = time.perf_counter() - t0
    index.k1, index.b, index.bigram_weight = cfg.k1, cfg.b, cfg.bigram_weight
    index.prune_min_rows = 0 if cfg.prune else 20_000
    lat: list[float] = []
    sums = np.zeros(3)
    for qid, text in es.queries:
        t0 = time.perf_counter()
        if cfg.bigrams_only:
            hits = _bigram_search(index, text, 10)
        elif cfg.fallback_only:
            hits = _fallback_search(index, text, 10, cfg.bigram_weight)
        else:
            hits = index.search(text, 10)
        lat.append((time.perf_counter() - t0) * 1000)
        sums += metrics([es.doc_keys[i] for i, _ in hits], es.qrels[qid])
    n = len(es.queries)
    ndcg, rec, mrr = (sums / n).tolist()
    return Result(cfg.name, es.name, ndcg, rec, mrr, build_s, _pct(lat, 50), _pct(lat, 99), n)


def _fallback_search(index: Bm25Index, text: str, k: int, weight: float) -> list[tuple[int, float]]:
    index.bigram_weight = 0.0
    words = index.scores(text)
    index.bigram_weight = weight
    if np.count_nonzero(words) >= k:
        order = np.lexsort((np.arange(len(words)), -words))[:k]
    else:
        combined = words * 1000.0 + index.scores(text)
        order = np.lexsort((np.arange(len(combined)), -combined))[:k]
        words = combined
    ids = index._row_ids.view()
    return [(int(ids[r]), float(words[r])) for r in order if words[r] > 0]


def _bigram_search(index: Bm25Index, text: str, k: int) -> list[tuple[int, float]]:
    grams = index.analyzer.analyze(text).grams
    field = index._bigrams
    rows, contrib = field.contributions(field.term_ids(list(dict.fromkeys(grams))), 1.0, index.k1, index.b)
    scores = np.bincount(rows, weights=contrib, minlength=len(index._row_ids.view()))
    order = np.lexsort((np.arange(len(scores)), -scores))[:k]
    ids = index._row_ids.view()
    return [(int(ids[r]), float(scores[r])) for r in order if scores[r] > 0]


def _pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p)) if values else 0.0


HEAD = (
    f"{'config':<38} {'set':<22} {'nDCG@10':>8} {'R@10':>7} {'MRR@10':>7} "
    f"{'build s':>8} {'p50 ms':>7} {'p99 ms':>7} {'q':>5}"
)


def print_table(results: list[Result]) -> None:
    for r in results:
        print(
            f"{r.config:<38} {r.set:<22} {r.ndcg:8.4f} {r.recall:7.4f} {r.mrr:7.4f} "
            f"{r.build_s:8.2f} {r.p50_ms:7.2f} {r.p99_ms:7.2f} {r.queries:5d}",
            flush=True,
        )


def _run(es: EvalSet, cfgs: list[Config], out: list[Result]) -> None:
    """Evaluate ``cfgs``, building one index per distinct analyzer (k1/b/weights are query-time)."""
    built: dict[AnalyzerConfig, tuple[Bm25Index, float]] = {}
    for cfg in cfgs:
        if cfg.analyzer not in built:
            built.clear()
            gc.collect()
            t0 = time.perf_counter()
            ix = Bm25Index(analyzer=cfg.analyzer)
            ix.add(es.docs)
            ix.compact()  # a fresh bulk index: everything in the term-major block
            built[cfg.analyzer] = (ix, time.perf_counter() - t0)
        ix, build_s = built[cfg.analyzer]
        r = evaluate(es, cfg, ix, build_s)
        out.append(r)
        print_table([r])


def sweep_ja() -> list[Config]:
    """Each row changes one thing from the chosen configuration."""
    base = AnalyzerConfig()
    cfgs = [Config("chosen: A, normalized, pos+, bi×0.25")]
    for mode in ("B", "C"):
        cfgs.append(Config(f"mode {mode}", replace(base, split_mode=mode)))
    cfgs.append(Config("mode C + A sub-splits", replace(base, split_mode="C", expand_a=True)))
    cfgs.append(Config("mode B + A sub-splits", replace(base, split_mode="B", expand_a=True)))
    for form in ("dictionary", "surface"):
        cfgs.append(Config(f"form {form}", replace(base, form=form)))
    cfgs.append(Config("pos: keep all", replace(base, drop_pos=())))
    cfgs.append(Config("pos: basic 助詞 助動詞 補助記号 空白", replace(base, drop_pos=BASIC_DROP_POS)))
    cfgs.append(Config("pos: + 接頭辞 接尾辞", replace(base, drop_pos=(*DEFAULT_DROP_POS, "接頭辞", "接尾辞"))))
    cfgs.append(Config("pos: + 名詞,数詞", replace(base, drop_pos=(*DEFAULT_DROP_POS, "名詞,数詞"))))
    for w in (0.0, 0.1, 0.5, 1.0):
        cfgs.append(Config(f"bigram ×{w}", bigram_weight=w))
    cfgs.append(Config("bigram fallback only (<10 hits)", bigram_weight=0.25, fallback_only=True))
    cfgs.append(Config("common-term pruning forced on", prune=True))
    cfgs.append(Config("bigrams only (no words)", bigram_weight=1.0, bigrams_only=True))
    cfgs.append(Config("bigrams incl. hiragana ×0.25", replace(base, bigram_hiragana=True)))
    cfgs.append(Config("bigrams incl. hiragana ×0.1", replace(base, bigram_hiragana=True), bigram_weight=0.1))
    cfgs.append(Config("bigrams only, incl. hiragana", replace(base, bigram_hiragana=True), bigrams_only=True))
    for k1 in (0.9, 1.2, 1.5, 2.0):
        for b in (0.5, 0.75, 0.9):
            if (k1, b) != (1.5, 0.75):
                cfgs.append(Config(f"k1={k1} b={b}", k1=k1, b=b))
    return cfgs


def sweep_en() -> list[Config]:
    base = AnalyzerConfig()
    return [
        Config("chosen: lucene33 stop, snowball"),
        Config("stop none", replace(base, stopwords=frozenset())),
        Config("stop extended (+question words)", replace(base, stopwords=ENGLISH_STOPWORDS)),
        Config("stem none", replace(base, stemmer="none")),
        Config("stem plural (S-stemmer)", replace(base, stemmer="plural")),
        Config("stem none, stop extended", replace(base, stemmer="none", stopwords=ENGLISH_STOPWORDS)),
        Config("common-term pruning forced on", prune=True),
        Config("k1=1.2 b=0.75", k1=1.2, b=0.75),
        Config("k1=2.0 b=0.75", k1=2.0, b=0.75),
        Config("k1=0.9 b=0.4", k1=0.9, b=0.4),
        Config("k1=1.5 b=0.9", k1=1.5, b=0.9),
    ]


def sweep_engine(es: EvalSet, out: list[Result]) -> None:
    """bm25s (eager scores, no add/remove) vs this index on identical word tokens."""
    import bm25s

    an = Analyzer()
    t0 = time.perf_counter()
    tokens = [an.tokenize(t) for _, t in es.docs]
    analyse_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ret = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    ret.index(tokens, show_progress=False)
    build_s = time.perf_counter() - t0 + analyse_s
    lat: list[float] = []
    sums = np.zeros(3)
    vocab = set().union(*map(set, tokens))
    for qid, text in es.queries:
        t0 = time.perf_counter()
        q = [t for t in an.query_terms(text) if t in vocab] or ["\0"]
        docs, scores = ret.retrieve([q], k=10, show_progress=False, n_threads=1)
        ranked = [es.doc_keys[int(d)] for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
        lat.append((time.perf_counter() - t0) * 1000)
        sums += metrics(ranked, es.qrels[qid])
    n = len(es.queries)
    ndcg, rec, mrr = (sums / n).tolist()
    out.append(Result("engine bm25s (words)", es.name, ndcg, rec, mrr, build_s, _pct(lat, 50), _pct(lat, 99), n))
    print_table(out[-1:])
    out.append(evaluate(es, Config("engine this (words)", bigram_weight=0.0)))
    print_table(out[-1:])


def scale(es: EvalSet, n: int, with_bm25s: bool, full_analysis: bool) -> None:
    """Replicate ``es`` to ``n`` chunks; time build, queries, incremental ops, save/load, memory."""
    reps = math.ceil(n / len(es.docs))
    texts = [t for _, t in es.docs]
    items = [(i, texts[i % len(texts)]) for i in range(n)]
    chars = sum(len(t) for _, t in items)
    print(f"scale: {n} chunks ({reps}x {es.name}), {chars / 1e6:.1f}M chars")
    ix = Bm25Index()
    t0 = time.perf_counter()
    analysed = {t: ix.analyzer.analyze(t) for t in texts}
    analyse_s = time.perf_counter() - t0
    rate = sum(map(len, texts)) / analyse_s
    print(f"analysis: {rate / 1e6:.2f}M chars/s (Sudachi + bigrams, 1 thread) -> {chars / rate:.0f} s for {n} chunks")
    if not full_analysis:  # replicated texts: analyse each once, time the indexing itself
        real = ix.analyzer.analyze
        ix.analyzer.analyze = lambda text: analysed.get(text) or real(text)  # type: ignore[method-assign]
    gc.collect()
    t0 = time.perf_counter()
    for s in range(0, n, 1000):  # batches as an ingest would send them
        ix.add(items[s : s + 1000])
    build = time.perf_counter() - t0
    what = "incl. analysis" if full_analysis else "excl. analysis (--full-analysis to include it)"
    print(f"index build {what}: {build:.1f} s; arrays {ix.nbytes() / 2**20:.0f} MiB")
    if not full_analysis:
        ix.analyzer.analyze = real  # type: ignore[method-assign]
    queries = [t for _, t in es.queries][:1000]

    def run(label: str, fn: Callable[[str], Any]) -> None:
        for q in queries[:20]:
            fn(q)
        lat = []
        for q in queries:
            t1 = time.perf_counter()
            fn(q)
            lat.append((time.perf_counter() - t1) * 1000)
        print(
            f"{label}: p50 {_pct(lat, 50):.2f} ms, p90 {_pct(lat, 90):.2f} ms, p99 {_pct(lat, 99):.2f} ms "
            f"({len(lat)} queries, 1 thread)"
        )

    run("search k=10", lambda q: ix.search(q, 10))
    allowed_ids = set(range(0, n, 10))
    run("search k=10, allowed filter (10% of ids)", lambda q: ix.search(q, 10, allowed=allowed_ids.__contains__))
    t0 = time.perf_counter()
    ix.add([(n + i, texts[i]) for i in range(50)])
    print(f"add 50 chunks (one call): {(time.perf_counter() - t0) * 1000:.1f} ms; then, with a doc-major tail:")
    run("  search k=10", lambda q: ix.search(q, 10))
    t0 = time.perf_counter()
    ix.remove(range(0, 5000))
    print(f"remove 5000 ids: {(time.perf_counter() - t0) * 1000:.1f} ms")
    t0 = time.perf_counter()
    ix.compact()
    print(f"compact: {(time.perf_counter() - t0) * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ix.save(Path(tmp) / "bm25")
        save_s = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in (Path(tmp) / "bm25").iterdir())
        t0 = time.perf_counter()
        ix2 = Bm25Index.load(Path(tmp) / "bm25")
        load_s = time.perf_counter() - t0
        assert len(ix2) == len(ix)
        print(f"save {save_s:.2f} s ({size / 2**20:.0f} MiB on disk), load {load_s:.2f} s")
        code = (
            "import sys, pathlib; sys.path.insert(0, sys.argv[2]); from kb.search.lexical import Bm25Index\n"
            "def rss():\n"
            "    return int([x for x in open('/proc/self/status') if x.startswith('VmRSS')][0].split()[1]) / 1024\n"
            "base = Bm25Index(); base.add([(1, '辞書を読み込む')]); base.search('辞書', 1)\n"
            "r0 = rss(); ix = Bm25Index.load(pathlib.Path(sys.argv[1])); ix.search('予算の管理', 10)\n"
            "print(f'{rss() - r0:.0f} MiB (+{r0:.0f} MiB for Python, numpy and the Sudachi dictionary)')"
        )
        root = str(Path(__file__).resolve().parents[1])
        out = subprocess.run(
            [sys.executable, "-c", code, str(Path(tmp) / "bm25"), root], capture_output=True, text=True
        )
        print(f"memory: loading it grows a fresh process by {out.stdout.strip() or out.stderr[-300:]} (RSS)")
    if with_bm25s:
        import bm25s

        del ix, ix2
        gc.collect()
        an = Analyzer()
        uniq = [an.tokenize(t) for t in texts]
        tokens = [uniq[i % len(uniq)] for i in range(n)]
        t0 = time.perf_counter()
        ret = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        ret.index(tokens, show_progress=False)
        print(f"bm25s index (tokens given, words only): {time.perf_counter() - t0:.1f} s; any add/remove = this again")
        vocab = set(ret.vocab_dict)

        def q_bm25s(q: str) -> Any:
            toks = [t for t in an.query_terms(q) if t in vocab] or ["\0"]
            return ret.retrieve([toks], k=10, show_progress=False, n_threads=1)

        run("bm25s retrieve k=10 (words only)", q_bm25s)
        ix3 = Bm25Index(bigram_weight=0.0, fallback=False)
        real3 = ix3.analyzer.analyze
        ix3.analyzer.analyze = lambda text: analysed.get(text) or real3(text)  # type: ignore[method-assign]
        ix3.add(items)
        ix3.analyzer.analyze = real3  # type: ignore[method-assign]
        run("this index, words only, same tokens", lambda q: ix3.search(q, 10))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    p.add_argument("--sets", nargs="*", default=None, help="eval sets (default: all five)")
    p.add_argument("--sweep", choices=["none", "ja", "en", "engine"], default="none")
    p.add_argument("--max-queries", type=int, default=None, help="subsample larger query sets (seed 0)")
    p.add_argument("--scale", type=int, default=0, help="replicate a corpus to N chunks and time it")
    p.add_argument("--scale-set", default="ja_localgovfaq")
    p.add_argument("--bm25s", action="store_true", help="with --scale: also time bm25s")
    p.add_argument("--full-analysis", action="store_true", help="with --scale: analyse every replica (slow)")
    a = p.parse_args(argv)
    if a.scale:
        scale(load_set(a.eval_dir, a.scale_set, None), a.scale, a.bm25s, a.full_analysis)
        return 0
    results: list[Result] = []
    print(HEAD)
    print("-" * len(HEAD))
    if a.sweep == "ja":
        sets = a.sets or ["ja_localgovfaq"]
        for name in sets:
            _run(load_set(a.eval_dir, name, a.max_queries), sweep_ja(), results)
    elif a.sweep == "en":
        sets = a.sets or [s for s in ALL_SETS if s.startswith("en_")]
        for name in sets:
            _run(load_set(a.eval_dir, name, a.max_queries), sweep_en(), results)
    elif a.sweep == "engine":
        for name in a.sets or ["ja_localgovfaq", "en_stackfaq"]:
            sweep_engine(load_set(a.eval_dir, name, a.max_queries), results)
    else:
        for name in a.sets or ALL_SETS:
            es = load_set(a.eval_dir, name, a.max_queries)
            total = len((a.eval_dir / name / "queries.jsonl").read_text(encoding="utf-8").splitlines())
            if len(es.queries) < total:
                print(f"# {name}: {len(es.queries)} of {total} queries, sampled with seed 0")
            _run(es, [Config("chosen"), Config("chosen, pruning forced on", prune=True)], results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
