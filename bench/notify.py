"""Benchmark (not a test): evaluate 1,000 subscriptions against a batch of 1,000 new documents.

Builds a temporary knowledge base, registers N subscribers, each with one
subscription (half saved searches with their own words, half topics: tags,
phases, kinds, projects), writes a batch of new lessons, indexes them, and
times ``app.notify.match`` (one pass of the matcher: every subscription against
every new document, with the real searcher and each subscriber's visibility).

    PYTHONPATH=. python bench/notify.py [--subs 1000] [--docs 1000] [--embedder hashing|<KB_EMBEDDER value>]

The hashing embedder (the tests' deterministic one) keeps the set-up fast;
pass the deployment's embedder name to include its query embedding cost.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from app import notify
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.notify import subscriptions
from kb.record.models import DocumentDraft, Kind, Role
from kb.search.embedders.base import make_embedder

WORDS = [
    "vendor",
    "selection",
    "delay",
    "schedule",
    "budget",
    "migration",
    "rehearsal",
    "cutover",
    "test",
    "regression",
    "requirement",
    "scope",
    "change",
    "risk",
    "contract",
    "review",
    "staffing",
    "handover",
    "training",
    "data",
    "quality",
    "outage",
    "backup",
]
PHASES = ("要件定義", "設計", "開発", "テスト", "移行", "運用")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subs", type=int, default=1000)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--embedder", default="hashing")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), notify_seconds=0)
        if args.embedder == "hashing":
            from tests.conftest import HashingEmbedder

            kb = KnowledgeBase.open(settings, embedder=HashingEmbedder())
        else:
            kb = KnowledgeBase.open(settings, embedder=make_embedder(args.embedder))
        db = kb.store.db
        for n in range(args.subs):
            login = f"user{n}"
            kb.accounts.add_user(login, role=Role.reader, groups=["board"] if n % 10 == 0 else [])
            if n % 2 == 0:
                subscriptions.new(db, owner=login, topic="search", query=" ".join(rng.sample(WORDS, 3)))
            else:
                topic = ("tag", "phase", "kind", "project")[n % 4]
                target = {"tag": rng.choice(WORDS), "phase": rng.choice(PHASES), "kind": "lesson",
                          "project": f"P{n % 50}"}[topic]  # fmt: skip
                subscriptions.new(db, owner=login, topic=topic, target=target)
        drafts = [
            DocumentDraft(
                kind=Kind.lesson,
                title=" ".join(rng.sample(WORDS, 5)),
                body=" ".join(rng.choices(WORDS, k=60)),
                phase=rng.choice(PHASES),
                project=f"P{i % 50}",
                tags=rng.sample(WORDS, 2),
                groups=["board"] if i % 20 == 0 else [],
                language="en",
            )
            for i in range(args.docs)
        ]
        with kb.store.transaction():
            for d in drafts:
                kb.store.create(d, by="bench")
        started = time.perf_counter()
        kb.catch_up()
        indexed = time.perf_counter() - started
        started = time.perf_counter()
        queued = notify.match(kb)
        took = time.perf_counter() - started
        searches = len({s.query for s in subscriptions.active(db) if s.topic == "search"})
        print(f"{args.subs} subscriptions × {args.docs} new documents ({args.embedder} embedder)")
        print(f"  indexing the batch: {indexed:.1f} s (not part of matching)")
        print(f"  matching: {took:.2f} s, {searches} distinct saved searches run, {queued} notifications queued")
        print(f"  per subscription: {took / args.subs * 1000:.1f} ms")
        started = time.perf_counter()
        outcomes = notify.deliver(kb)
        print(f"  delivering to inboxes: {time.perf_counter() - started:.2f} s, {dict(outcomes)}")
        kb.close()


if __name__ == "__main__":
    main()
