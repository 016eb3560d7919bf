"""Broken inputs of every format in one batch: one clear error each, the batch goes on, nothing stored changes.

Each broken file's error must name the file, the place where there is one and
the reason; afterwards the stored documents and the search results are
exactly what they were before the batch.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.pipeline import FileReport, FileStatus, IngestReport, ingest_paths
from ingest.registry import default_registry
from kb.engine import KnowledgeBase
from kb.record.store import SqlStore
from tests.ingest.samples import docx_file, encrypt_office, encrypt_pdf, pdf, xlsx

LIMIT = 200_000

LESSONS_XLSX = xlsx(
    {
        "教訓": [
            ["No.", "件名", "事象", "教訓", "対策", "発生日"],
            [
                "1",
                "ベンダー選定の長期化",
                "選定が3か月遅れた。",
                "評価基準を先に決める。",
                "評価シートを使う。",
                "2024/5/1",
            ],
            [
                "2",
                "Migration rehearsal",
                "Cut-over failed.",
                "Rehearse with real volumes.",
                "Plan two rehearsals.",
                "2024-06-01",
            ],
        ]
    }
)
CHANGE_DOCX = docx_file(
    [
        ("Title", "変更管理手順書"),
        ("Heading 1", "手順"),
        ("List Number", "変更要求票を起票する"),
        ("", "PMOが影響を評価する。"),
    ]
)
RELEASE_PDF = pdf([["Release procedure", "1. Get the go decision.", "2. Back up production."]])


def good_files(root: Path) -> None:
    """One good file of every format, in Japanese and English."""
    files: dict[str, bytes] = {
        "faq/faq.csv": "質問,回答\n経費の締め日は？,毎月25日です。\nWho approves changes?,The change board.\n".encode(),
        "lessons/register.xlsx": LESSONS_XLSX,
        "lessons/records.jsonl": json.dumps(
            {"id": "r1", "title": "Handover", "lesson": "Write decisions down."}
        ).encode(),
        "lessons/note.txt": "引き継ぎの教訓\n\n事象: 担当交代で経緯が失われた。\n教訓: 判断記録を残す。\n".encode(),
        "lessons/a.md": b"---\ntitle: UAT\nlang: en\n---\n\n## Lesson\n\nTrain users first.\n",
        "procedures/change.docx": CHANGE_DOCX,
        "procedures/release.pdf": RELEASE_PDF,
        "procedures/escalation.html": b"<html><body><h1>Escalation</h1><p>Call the PMO within two hours.</p></body></html>",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


# name → (bytes, reason the error must give, place it must name or None)
BROKEN: dict[str, tuple[bytes, str, str | None]] = {
    "lessons/truncated.xlsx": (LESSONS_XLSX[: len(LESSONS_XLSX) // 2], "damaged or truncated", None),
    "procedures/truncated.docx": (CHANGE_DOCX[: len(CHANGE_DOCX) // 2], "damaged or truncated", None),
    "procedures/truncated.pdf": (RELEASE_PDF[: len(RELEASE_PDF) // 2], "truncated", None),
    "lessons/locked.xlsx": (encrypt_office(LESSONS_XLSX), "password-protected", None),
    "procedures/locked.docx": (encrypt_office(CHANGE_DOCX), "password-protected", None),
    "procedures/locked.pdf": (encrypt_pdf(RELEASE_PDF), "password-protected", None),
    "procedures/scan.pdf": (pdf([[]]), "no text layer", None),
    "lessons/empty.xlsx": (b"", "file is empty", None),
    "procedures/empty.docx": (b"", "file is empty", None),
    "procedures/empty.pdf": (b"", "file is empty", None),
    "faq/empty.csv": (b"", "file is empty", None),
    "lessons/empty.md": (b"", "file is empty", None),
    "faq/binary.csv": (bytes(range(256)) * 8, "binary", None),
    "lessons/binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary", None),
    "lessons/binary.jsonl": (b"\x00\x01\x02\xff" * 100, "binary", None),
    "procedures/binary.html": (b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4, "binary", None),
    "faq/big.csv": (("Q,A\n" + "長い質問?,長い回答\n" * 20_000).encode(), "over the limit", None),
    "faq/ragged.csv": (b"Q,A\nfirst?,yes\nsecond?,no,extra\n", "3 cells but the header has 2", "row 3"),
    "lessons/bad-date.xlsx": (
        xlsx({"S": [["件名", "教訓", "発生日"], ["A", "a", "2024-13-45"]]}),
        "not a real date",
        "sheet 'S', row 2, column '発生日'",
    ),
    "lessons/wrong-types.md": (
        b"---\ntitle: x\ntags: {a: 1}\ndate: soon\n---\n\nbody\n",
        "must be a list of words",
        "line 3",
    ),
    "procedures/scripts.html": (
        b"<html><head><script>steal()</script></head><body>"
        + b"<script>alert(1)</script><nav>menu</nav>" * 100
        + b"</body>",
        "no text after removing scripts",
        None,
    ),
    "lessons/bad.jsonl": (b'{"title": "t", "lesson": "l"}\n{"title": \n', "not valid JSON", "line 2"),
}


def run(store: SqlStore, root: Path) -> IngestReport:
    return ingest_paths(store, [root], registry=default_registry(), max_file_bytes=LIMIT)


def break_files(root: Path) -> None:
    for name, (data, _, _) in BROKEN.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "lessons/register.xlsx").write_bytes(LESSONS_XLSX[:-100])  # a stored file turns bad


def assert_clear_errors(report: IngestReport, root: Path) -> None:
    by_name = {str(Path(f.path).relative_to(root)): f for f in report.files}
    expected = {
        **{n: (r, p) for n, (_, r, p) in BROKEN.items()},
        "lessons/register.xlsx": ("damaged or truncated", None),
    }
    for name, (reason, place) in expected.items():
        result: FileReport = by_name[name]
        assert result.status is FileStatus.failed, (name, result)
        assert result.error and result.error.startswith(str(root / name) + ":"), (name, result.error)
        assert reason in result.error and result.reason and reason in result.reason, (name, result.error)
        assert result.place == place, (name, result.place)
        if place and place.startswith("line "):  # a line is written the way editors and compilers do
            assert result.error.startswith(f"{root / name}:{place.removeprefix('line ')}: ")
        elif place:  # after the file (and its line, for CSV), before the reason
            assert f": {place}: {result.reason}" in result.error


def test_every_broken_input_gets_its_own_error_and_nothing_stored_changes(
    sqlite_store: SqlStore, tmp_path: Path
) -> None:
    root = tmp_path / "kb"
    good_files(root)
    first = run(sqlite_store, root)
    assert first.summary()["added"] == 8 and not first.failed, [f.error for f in first.failed]
    before = list(sqlite_store.export_records())
    seq = sqlite_store.last_seq()

    break_files(root)
    (root / "faq/new.csv").write_bytes("Q,A\n新しい質問？,新しい回答。\n".encode())
    report = run(sqlite_store, root)

    assert_clear_errors(report, root)
    by_name = {str(Path(f.path).relative_to(root)): f for f in report.files}
    assert by_name["faq/new.csv"].status is FileStatus.added  # the batch went on
    assert sum(f.status is FileStatus.unchanged for f in report.files) == 7
    after = {r["id"]: r for r in sqlite_store.export_records()}
    assert all(after[r["id"]] == r for r in before)
    assert len(after) == len(before) + 1
    assert [c.op for c in sqlite_store.changes_since(seq)] == ["upsert"]


QUERIES = ["経費の締め日", "評価基準", "rehearsal", "変更要求", "release backup", "Train users", "判断記録"]


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_search_returns_exactly_the_same_after_a_batch_of_broken_files(
    knowledge_base: KnowledgeBase, tmp_path: Path, mode: str
) -> None:
    root = tmp_path / "kb"
    good_files(root)
    run(knowledge_base.store, root)
    knowledge_base.catch_up()

    def results() -> list[list[tuple[str, float, str]]]:
        out = []
        for query in QUERIES:
            hits = knowledge_base.searcher.search(query, mode=mode).hits  # type: ignore[arg-type]
            out.append([(h.document.id, round(h.score, 6), "".join(s.text for s in h.snippet)) for h in hits])
        return out

    before = results()
    assert all(before), "every query finds something before the batch"
    break_files(root)
    report = run(knowledge_base.store, root)
    assert_clear_errors(report, root)
    assert knowledge_base.catch_up() == 0  # nothing changed, so nothing to re-index
    assert results() == before
