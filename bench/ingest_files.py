"""Benchmark: ingest N generated Markdown files (storage and chunking, no embeddings).

    python bench/ingest_files.py [--files 1000] [--database-url URL] [--in-process]

Prints files/s for a first ingest into an empty store and for the no-op re-run.
Files are parsed in a worker under the default per-file budget, as ``kb ingest``
does; ``--in-process`` parses in this process instead, to measure what the
worker costs.
The files are generated here (a mix of kinds, Japanese and English), so the
figure is reproducible on any machine.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from ingest.budget import FileBudget
from ingest.pipeline import ingest_paths
from ingest.registry import default_registry
from kb.config import Settings
from kb.record.store import open_store

JA_SENTENCES = [
    "ベンダー選定に想定以上の時間がかかり、要件定義の開始が二週間遅れた。",
    "変更要求の影響範囲を早期に見積もることで、スコープの膨張を防げた。",
    "引き継ぎ資料が不足しており、運用チームへの移管で問い合わせが集中した。",
    "結合テストのテストデータ準備が遅れ、品質確認の期間が圧迫された。",
    "経営層への報告が月次だったため、意思決定が遅れるリスクがあった。",
]
EN_SENTENCES = [
    "The vendor shortlist took ten weeks because the scoring model was agreed late.",
    "Late requirement changes were absorbed without re-planning, and the release slipped.",
    "Knowledge was lost at handover because decisions were never written down.",
    "Test environments were shared across teams, which hid integration defects until UAT.",
    "Executive reporting was manual and took two days every month.",
]


def make_file(i: int, rng: random.Random) -> tuple[str, str]:
    ja = i % 2 == 0
    sentences = JA_SENTENCES if ja else EN_SENTENCES
    kind = ["lessons", "retrospectives", "faq", "templates", "procedures"][i % 5]
    para = lambda n: "".join(rng.choice(sentences) + ("" if ja else " ") for _ in range(n))  # noqa: E731
    head = (
        f"---\ntitle: Generated {kind} {i}\nlang: {'ja' if ja else 'en'}\nproject: P{i % 17}\ntags: [t{i % 7}]\n---\n\n"
    )
    if kind == "lessons":
        body = f"## Driving event\n\n{para(3)}\n\n## Lesson\n\n{para(2)}\n\n## Recommendation\n\n{para(2)}\n"
    elif kind == "retrospectives":
        lessons = "\n".join(
            f"### Lesson {n}\n\n**Driving event**: {para(2)}\n\n**Recommendation**: {para(1)}\n" for n in range(3)
        )
        body = f"## What went well\n\n- {para(1)}\n\n## What went wrong\n\n- {para(2)}\n\n## Lessons\n\n{lessons}"
    elif kind == "faq":
        body = "\n".join(f"## Question {n} of file {i}?\n\n{para(2)}\n" for n in range(4))
    else:
        body = "\n".join(f"## Step {n}\n\n{para(4)}\n" for n in range(5))
    return f"{kind}/file-{i:05d}.md", head + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary data dir")
    parser.add_argument("--in-process", action="store_true", help="parse without the worker and its budget")
    args = parser.parse_args()
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        for i in range(args.files):
            rel, text = make_file(i, rng)
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        settings = Settings(data_dir=Path(tmp) / "data", database_url=args.database_url)
        store = open_store(settings)
        registry = default_registry()
        budget = None if args.in_process else FileBudget.from_settings(settings)
        for label in ("first ingest", "re-run (no-op)"):
            start = time.perf_counter()
            report = ingest_paths(store, [root], registry=registry, max_file_bytes=1 << 20, budget=budget)
            elapsed = time.perf_counter() - start
            counts = store.counts()
            documents = sum(v for k, v in counts.items() if k not in ("chunks", "sources"))
            print(
                f"{label}: {args.files} files in {elapsed:.2f} s = {args.files / elapsed:.0f} files/s "
                f"({report.summary()}; {documents} documents, {counts['chunks']} chunks)"
            )
        store.close()


if __name__ == "__main__":
    main()
