"""Hostile inputs of every format in one budgeted batch: each fails alone, fast, with its own clear error.

The batch is ingested the way ``kb ingest`` does it (a worker under the
default per-file budget), after a first batch of good files; afterwards the good
files are searchable, the new good file is added, and nothing stored changed.
Every hostile file must be stopped by its parser's cap, not by the budget: the
whole batch has to finish well inside one file's time budget.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ingest.budget import IN_PROCESS, FileBudget
from ingest.options import make_options
from ingest.pipeline import FileStatus, IngestReport, ingest_paths
from ingest.registry import default_registry
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.record.models import Kind
from tests.ingest.hostile import (
    alias_bomb,
    deep_front_matter,
    deep_html,
    deep_json,
    docx_entity_bomb,
    docx_external_entity,
    huge_front_matter,
    many_parts,
    pdf_flate_bomb,
    xlsx_entity_bomb,
    zip_bomb,
)
from tests.ingest.samples import docx_file, xlsx

LIMIT = 4_000_000
DOCX = docx_file([("Heading 1", "手順"), ("", "PMOに報告する。")], title="報告手順")
XLSX = xlsx({"S": [["件名", "教訓"], ["見積もり", "前提を書く。"]]})
GOOD = {
    "lessons/ok.md": b"---\ntitle: Okapi cut-over\nlang: en\n---\n\n## Lesson\n\nRehearse the okapi cut-over twice.\n",
    "lessons/register.xlsx": XLSX,
    "procedures/report.docx": DOCX,
    "procedures/escalate.html": b"<html><body><h1>Escalate</h1><p>Call the PMO about the numbat outage.</p></body></html>",
}


def hostile_files(secret: Path) -> dict[str, tuple[bytes, str, str | None]]:
    """name → (bytes, the reason its error must give, the place it must name)."""
    return {
        "lessons/laughs.md": (
            alias_bomb().encode(),
            "YAML anchor `&a0`: anchors and aliases are not accepted",
            "line 4",
        ),
        "lessons/deep.md": (deep_front_matter().encode(), "nested more than 16 levels deep", "line 20"),
        "lessons/huge.md": (huge_front_matter().encode(), "over the limit of 65,536", "line 1"),
        "procedures/laughs.docx": (docx_entity_bomb(DOCX), "amplification", None),
        "procedures/zip-bomb.docx": (zip_bomb(DOCX, "word/document.xml"), "refused as a zip bomb", None),
        "procedures/parts.docx": (many_parts(DOCX), "20,017 parts, over the limit of 10,000", None),
        "lessons/laughs.xlsx": (xlsx_entity_bomb(XLSX), "amplification", None),
        "lessons/zip-bomb.xlsx": (zip_bomb(XLSX, "xl/worksheets/sheet1.xml"), "refused as a zip bomb", None),
        "procedures/inflates.pdf": (pdf_flate_bomb(), "inflates past 75 MB", "page 1"),
        "procedures/deep.html": (deep_html(), "nests elements more than 200 deep", None),
        "lessons/deep.jsonl": (deep_json(), "nested thousands of levels deep", "line 1"),
        # Not refused, but must not read the file it points at:
        "procedures/xxe.docx": (docx_external_entity(DOCX, secret), "", None),
    }


def write(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def run(kb: KnowledgeBase, root: Path) -> IngestReport:
    budget = FileBudget.from_settings(kb.settings)
    return ingest_paths(kb.store, [root], registry=default_registry(), max_file_bytes=LIMIT, budget=budget)


@pytest.fixture
def kb(settings: Settings, knowledge_base: KnowledgeBase) -> KnowledgeBase:
    return knowledge_base


def test_every_hostile_file_fails_alone_and_the_rest_is_searchable(kb: KnowledgeBase, tmp_path: Path) -> None:
    root = tmp_path / "kb"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-wallaby")
    write(root, GOOD)
    assert run(kb, root).summary()["added"] == 4
    kb.catch_up()
    before = list(kb.store.export_records())

    hostile = hostile_files(secret)
    write(root, {name: data for name, (data, _, _) in hostile.items()})
    write(root, {"lessons/ok.md": alias_bomb().encode()})  # a stored file turns hostile
    write(root, {"lessons/new.md": b"---\ntitle: Quoll\nlang: en\n---\n\n## Lesson\n\nThe quoll audit found gaps.\n"})
    started = time.perf_counter()
    report = run(kb, root)
    elapsed = time.perf_counter() - started

    by_name = {str(Path(f.path).relative_to(root)): f for f in report.files}
    refused = {name: spec for name, spec in hostile.items() if spec[1]}
    refused["lessons/ok.md"] = hostile["lessons/laughs.md"]
    for name, (_, reason, place) in refused.items():
        result = by_name[name]
        assert result.status is FileStatus.failed, (name, result)
        assert result.error and result.error.startswith(str(root / name) + ":"), (name, result.error)
        assert reason in result.error, (name, result.error)
        assert result.place == place, (name, result.place)
    assert by_name["lessons/new.md"].status is FileStatus.added
    assert by_name["procedures/xxe.docx"].status is FileStatus.added
    assert sum(f.status is FileStatus.unchanged for f in report.files) == 3
    assert elapsed < kb.settings.ingest_file_seconds, f"{elapsed:.1f} s: a cap is missing and the budget did the work"

    after = {r["id"]: r for r in kb.store.export_records()}
    assert all(after[r["id"]] == r for r in before)  # nothing stored changed
    assert not any("TOPSECRET" in str(r) for r in after.values())  # the external entity was never read
    assert kb.catch_up() == 2  # the new file and the xxe document
    titles = {q: kb.searcher.search(q, mode="lexical").hits[0].document.title for q in ("okapi", "numbat", "quoll")}
    assert titles == {"okapi": "Okapi cut-over", "numbat": "Escalate", "quoll": "Quoll"}


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("x.docx", docx_file([("", "同じ段落です。")] * 2_000)),
        ("x.html", b"<html><body>" + b"<div>" * 150 + b"<p>deep but real</p>" + b"</div>" * 150 + b"</body></html>"),
        ("x.jsonl", b'{"title": "t", "lesson": "l", "tags": [["a"], ["b"]]}\n'),
    ],
    ids=["repetitive-docx", "nested-150", "nested-json"],
)
def test_the_caps_leave_real_files_alone(name: str, data: bytes) -> None:
    """Files near the caps' edges (a repetitive Word file, a page nested 150 deep) still read."""
    path = Path("/kb/procedures") / name
    ingester = default_registry().for_path(path)
    assert ingester is not None
    drafts = IN_PROCESS.parse(ingester, path, data, source=name, options=make_options(kind=Kind.procedure))
    assert drafts and drafts[0].body
