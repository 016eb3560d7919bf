"""The per-file budget: a file that hangs or eats memory fails alone, in seconds, and the batch goes on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ingest.budget import IN_PROCESS, Budgeted, FileBudget
from ingest.markdown import MarkdownIngester
from ingest.options import DEFAULT_OPTIONS
from ingest.pipeline import FileStatus, ingest_paths
from ingest.registry import IngesterRegistry
from kb.config import Settings
from kb.errors import InvalidInput
from kb.record.store import SqlStore
from tests.ingest.hostile import StubbornIngester, alias_bomb

LESSON = "---\nkind: lesson\ntitle: {title}\nlang: en\n---\n\n## Lesson\n\n{text}\n"
BUDGET = FileBudget(seconds=3, memory_mb=256)


def test_a_hanging_and_a_hungry_file_fail_alone_and_the_batch_goes_on(sqlite_store: SqlStore, tmp_path: Path) -> None:
    for name in ("a.md", "c.md", "e.md"):
        (tmp_path / name).write_text(LESSON.format(title=name, text="fine"))
    (tmp_path / "b.hang").write_text("never ends")
    (tmp_path / "d.hog").write_text("eats memory")
    started = time.perf_counter()
    report = ingest_paths(
        sqlite_store,
        [tmp_path],
        registry=IngesterRegistry([StubbornIngester()]),
        max_file_bytes=10_000,
        budget=BUDGET,
    )
    elapsed = time.perf_counter() - started
    by_name = {Path(f.path).name: f for f in report.files}
    assert [by_name[n].status for n in ("a.md", "c.md", "e.md")] == [FileStatus.added] * 3
    hang, hog = by_name["b.hang"], by_name["d.hog"]
    assert hang.status is FileStatus.failed and hang.error == (
        f"{tmp_path / 'b.hang'}: reading the file took longer than 3 s, so it was stopped "
        "(setting KB_INGEST_FILE_SECONDS): it is too large or built to exhaust the parser"
    )
    assert hog.status is FileStatus.failed and hog.error is not None
    assert "needed more than 256 MB, so it was stopped (setting KB_INGEST_FILE_MEMORY_MB)" in hog.error
    assert sorted(d.title for d in sqlite_store.documents()) == ["a.md", "c.md", "e.md"]
    assert elapsed < 30, f"{elapsed:.1f} s: the hang was not stopped at its budget"


def test_errors_from_the_worker_are_the_errors_raised_in_process() -> None:
    """File, line, place and message survive the trip back from the worker unchanged."""
    path, data = Path("/kb/lessons/bomb.md"), alias_bomb().encode()
    with pytest.raises(InvalidInput) as here:
        IN_PROCESS.parse(MarkdownIngester(), path, data, source=str(path), options=DEFAULT_OPTIONS)
    with Budgeted(BUDGET) as parser, pytest.raises(InvalidInput) as there:
        parser.parse(MarkdownIngester(), path, data, source=str(path), options=DEFAULT_OPTIONS)
    assert there.value.message == here.value.message and there.value.message.startswith("/kb/lessons/bomb.md:4: ")
    assert (there.value.line, there.value.place, there.value.reason) == (4, "line 4", here.value.reason)


def test_a_bug_in_a_parser_is_raised_not_reported_as_the_files_fault(tmp_path: Path) -> None:
    """Only bad input is a per-file error; a parser's own exception still surfaces, with its traceback."""
    with Budgeted(BUDGET) as parser, pytest.raises(RuntimeError, match=r"(?s)Traceback.*TypeError: a bug in a parser"):
        parser.parse(StubbornIngester(), tmp_path / "x.bug", b"x", source="x.bug", options=DEFAULT_OPTIONS)


def test_the_budget_comes_from_settings() -> None:
    settings = Settings(ingest_file_seconds=5, ingest_file_memory_mb=300)
    assert FileBudget.from_settings(settings) == FileBudget(seconds=5, memory_mb=300)
    assert FileBudget.from_settings(Settings()) == FileBudget(seconds=60, memory_mb=1024)
