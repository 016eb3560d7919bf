"""The pipeline: per-file reports, no-op re-ingest, sync, and bad files that fail alone."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import FileStatus, IngestReport, ingest_paths
from ingest.registry import default_registry
from kb.record.store import SqlStore

LESSON = "---\nkind: lesson\ntitle: {title}\nlang: en\n---\n\n## Lesson\n\n{text}\n"


def run(store: SqlStore, *paths: Path, sync: bool = False, limit: int = 10_000) -> IngestReport:
    return ingest_paths(store, list(paths), registry=default_registry(), max_file_bytes=limit, sync=sync)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def test_second_run_is_a_no_op_and_edits_update(sqlite_store: SqlStore, tmp_path: Path) -> None:
    write(tmp_path / "kb/lessons/a.md", LESSON.format(title="A", text="one"))
    write(tmp_path / "kb/lessons/b.md", LESSON.format(title="B", text="two"))
    assert run(sqlite_store, tmp_path / "kb").summary()["added"] == 2
    seq = sqlite_store.last_seq()
    again = run(sqlite_store, tmp_path / "kb")
    assert again.summary()["unchanged"] == 2 and sqlite_store.last_seq() == seq
    write(tmp_path / "kb/lessons/b.md", LESSON.format(title="B", text="changed"))
    third = run(sqlite_store, tmp_path / "kb")
    assert [f.status for f in third.files] == [FileStatus.unchanged, FileStatus.updated]
    assert len(sqlite_store.changes_since(seq)) == 1


def test_sync_removes_documents_of_deleted_files_only_under_the_folder(sqlite_store: SqlStore, tmp_path: Path) -> None:
    a = write(tmp_path / "kb/lessons/a.md", LESSON.format(title="A", text="one"))
    write(tmp_path / "kb/lessons/b.md", LESSON.format(title="B", text="two"))
    other = write(tmp_path / "other/lessons/c.md", LESSON.format(title="C", text="three"))
    run(sqlite_store, tmp_path / "kb", other)
    a.unlink()
    assert run(sqlite_store, tmp_path / "kb").summary()["removed"] == 0  # no --sync: kept
    report = run(sqlite_store, tmp_path / "kb", sync=True)
    assert report.summary()["removed"] == 1
    assert sorted(d.title for d in sqlite_store.documents()) == ["B", "C"]


def test_broken_files_fail_alone_and_change_nothing_stored(sqlite_store: SqlStore, tmp_path: Path) -> None:
    good = write(tmp_path / "kb/lessons/good.md", LESSON.format(title="Good", text="kept"))
    was_good = write(tmp_path / "kb/lessons/was-good.md", LESSON.format(title="Was good", text="kept too"))
    run(sqlite_store, tmp_path / "kb")
    before = list(sqlite_store.export_records())
    seq = sqlite_store.last_seq()

    write(was_good, "---\ntitle: [broken\n---\nbody")  # a stored file turns bad
    broken = {
        "bad-yaml.md": "---\ntitle: x\nkind: [unclosed\n---\nbody",
        "bad-kind.md": "---\nkind: memo\ntitle: x\n---\nbody",
        "empty.md": "",
        "binary.md": b"\x00\x01\x02\x03" * 100,
        "big.md": LESSON.format(title="Big", text="x" * 20_000),
        "sjis.md": LESSON.format(title="シフトJIS", text="文字化けしない").encode("cp932"),
    }
    for name, content in broken.items():
        write(tmp_path / "kb/lessons" / name, content)
    write(tmp_path / "kb/lessons/new.md", LESSON.format(title="New", text="added"))
    write(tmp_path / "kb/lessons/picture.png", b"\x89PNG\r\n\x1a\n")

    report = run(sqlite_store, tmp_path / "kb")
    by_name = {Path(f.path).name: f for f in report.files}
    expected_reasons = {
        "was-good.md": "not valid YAML",
        "bad-yaml.md": "not valid YAML",
        "bad-kind.md": "must be one of",
        "empty.md": "file is empty",
        "binary.md": "binary",
        "big.md": "over the limit",
    }
    for name, reason in expected_reasons.items():
        assert by_name[name].status is FileStatus.failed, name
        assert reason in (by_name[name].error or ""), (name, by_name[name].error)
        assert str(tmp_path / "kb/lessons" / name) in (by_name[name].error or "")
    assert by_name["bad-yaml.md"].line == 4  # where YAML notices the unclosed list
    assert by_name["sjis.md"].status is FileStatus.added
    assert by_name["new.md"].status is FileStatus.added
    assert by_name["picture.png"].status is FileStatus.skipped
    assert by_name[good.name].status is FileStatus.unchanged
    # the documents stored before the batch are exactly as they were
    after = {r["id"]: r for r in sqlite_store.export_records()}
    assert all(after[r["id"]] == r for r in before)
    assert {c.op for c in sqlite_store.changes_since(seq)} == {"upsert"}
    assert sorted(sqlite_store.get(c.document_id).title for c in sqlite_store.changes_since(seq)) == [
        "New",
        "シフトJIS",
    ]


def test_a_named_file_of_unknown_type_fails(sqlite_store: SqlStore, tmp_path: Path) -> None:
    report = run(sqlite_store, write(tmp_path / "notes.xyz", "hello"), tmp_path / "missing.md")
    assert [f.status for f in report.files] == [FileStatus.failed, FileStatus.failed]
    assert "unsupported file type '.xyz'" in (report.files[0].error or "")
    assert "no such file" in (report.files[1].error or "")
