"""Symbolic links in an ingested folder: never followed out of it, refused by the link's own name, loops caught.

Every link case sits in one batch with good files, so each test also shows the
batch going on and nothing outside the folder reaching the store.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.pipeline import FileReport, FileStatus, IngestReport, ingest_paths
from ingest.registry import default_registry
from ingest.walk import Found, discover, read_found
from kb.errors import InvalidInput
from kb.record.store import SqlStore

LESSON = "---\nkind: lesson\ntitle: {title}\nlang: en\n---\n\n## Lesson\n\n{text}\n"


def run(store: SqlStore, *paths: Path, follow_links: bool = False) -> IngestReport:
    return ingest_paths(
        store, list(paths), registry=default_registry(), max_file_bytes=100_000, follow_links=follow_links
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``in/`` with good files and every kind of link; ``outside/`` holds what must never be read."""
    root = tmp_path / "in"
    (root / "lessons/sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/secret.md").write_text(LESSON.format(title="Secret", text="outside text"))
    (tmp_path / "outside/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (root / "lessons/good.md").write_text(LESSON.format(title="Good", text="kept"))
    (root / "lessons/sub/deep.md").write_text(LESSON.format(title="Deep", text="inside"))
    links = {
        "lessons/out.md": "../../outside/secret.md",  # a file out of the folder
        "lessons/passwd_link": "../../outside/passwd",  # a file with no extension, out of the folder
        "lessons/outdir": "../../outside",  # a folder out of it
        "lessons/inside.md": "good.md",  # a file inside
        "lessons/alias": "sub",  # a folder inside
        "lessons/sub/up": "..",  # a loop: back to an ancestor
        "lessons/dangling.md": "missing.md",
        "lessons/ping.md": "pong.md",  # a loop of two links
        "lessons/pong.md": "ping.md",
    }
    for name, target in links.items():
        os.symlink(target, root / name)
    return root


def by_name(report: IngestReport, root: Path) -> dict[str, FileReport]:
    return {str(Path(f.path).relative_to(root)): f for f in report.files}


def assert_refused(result: FileReport, root: Path, name: str, reason: str) -> None:
    assert result.status is FileStatus.failed, (name, result)
    assert result.path == str(root / name)
    assert result.error == f"{root / name}: {result.reason}" and reason in (result.reason or "")
    assert "outside" not in (result.reason or "") and "secret" not in (result.error or "")  # never the target


def test_links_are_refused_by_default_and_named_by_themselves(sqlite_store: SqlStore, tree: Path) -> None:
    report = run(sqlite_store, tree)
    results = by_name(report, tree)
    links = ["alias", "dangling.md", "inside.md", "out.md", "outdir", "passwd_link", "ping.md", "pong.md", "sub/up"]
    for name in links:
        assert_refused(results[f"lessons/{name}"], tree, f"lessons/{name}", "links are not followed")
    assert results["lessons/good.md"].status is FileStatus.added  # the batch went on
    assert results["lessons/sub/deep.md"].status is FileStatus.added
    assert len(report.files) == len(links) + 2
    assert sorted(d.title for d in sqlite_store.documents()) == ["Deep", "Good"]


def test_follow_links_reads_links_inside_and_refuses_the_rest(sqlite_store: SqlStore, tree: Path) -> None:
    report = run(sqlite_store, tree, follow_links=True)
    results = by_name(report, tree)
    for name in ("out.md", "passwd_link", "outdir"):
        assert_refused(results[f"lessons/{name}"], tree, f"lessons/{name}", "out of the folder being ingested")
    for name in ("dangling.md", "ping.md", "pong.md"):
        assert_refused(results[f"lessons/{name}"], tree, f"lessons/{name}", "leads nowhere")
    assert_refused(results["lessons/sub/up"], tree, "lessons/sub/up", "already covers (a loop)")
    # Inside links are read under their own names: the source is the link, the content its target's.
    assert results["lessons/inside.md"].status is FileStatus.added
    assert results["lessons/alias/deep.md"].status is FileStatus.added
    assert sqlite_store.source_paths(under=str(tree / "lessons/alias")) == [str(tree / "lessons/alias/deep.md")]
    titles = sorted(d.title for d in sqlite_store.documents())
    assert titles == ["Deep", "Deep", "Good", "Good"] and "Secret" not in titles
    assert not any("outside text" in d.body for d in sqlite_store.documents())


def test_the_walk_order_is_by_path_and_hidden_entries_are_passed_over(tmp_path: Path) -> None:
    for name in ("b.md", "a/z.md", "a.md", ".git/config.md", "~$lock.docx", "c/.hidden.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    os.mkfifo(tmp_path / "pipe.md")  # not a file: passed over, as rglob's is_file() did
    assert [f.path.relative_to(tmp_path).as_posix() for f in discover([tmp_path])] == ["a/z.md", "a.md", "b.md"]


def test_a_named_link_gets_the_same_rule_with_its_own_folder_as_the_boundary(
    sqlite_store: SqlStore, tree: Path
) -> None:
    """``kb ingest in/*.md`` names every link a walk would find, so naming one must not open it either."""
    named = [tree / "lessons/out.md", tree / "lessons/passwd_link", tree / "lessons/inside.md"]
    out, passwd, inside = run(sqlite_store, *named).files
    assert_refused(out, tree, "lessons/out.md", "links are not followed")
    # The third finding: the error named the target ("/…/passwd: unsupported file type …").
    assert_refused(passwd, tree, "lessons/passwd_link", "links are not followed")
    assert_refused(inside, tree, "lessons/inside.md", "links are not followed")
    out, passwd, inside = run(sqlite_store, *named, follow_links=True).files
    assert_refused(out, tree, "lessons/out.md", "out of the folder being ingested")
    assert_refused(passwd, tree, "lessons/passwd_link", "out of the folder being ingested")
    assert inside.path == str(tree / "lessons/inside.md") and inside.status is FileStatus.added
    assert [d.title for d in sqlite_store.documents()] == ["Good"]


def test_a_named_folder_may_itself_be_a_link(sqlite_store: SqlStore, tree: Path) -> None:
    """A data folder mounted elsewhere and linked in is the boundary itself: walked from its real path."""
    os.symlink(tree / "lessons/sub", tree.parent / "linked")
    report = run(sqlite_store, tree.parent / "linked")
    assert [(Path(f.path).name, f.status) for f in report.files] == [
        ("deep.md", FileStatus.added),
        ("up", FileStatus.failed),
    ]
    assert report.files[0].path == str(tree / "lessons/sub/deep.md")


def test_a_walked_file_swapped_for_a_link_is_not_read(tmp_path: Path) -> None:
    """The walk saw a file; by the time it is opened it is a link out: ``O_NOFOLLOW`` refuses it."""
    (tmp_path / "secret.md").write_text("secret")
    os.symlink(tmp_path / "secret.md", tmp_path / "swapped.md")
    with pytest.raises(InvalidInput, match="cannot read") as info:
        read_found(Found(tmp_path / "swapped.md", named=False), max_file_bytes=1000)
    assert info.value.message.startswith(f"{tmp_path / 'swapped.md'}: ")


def test_an_unreadable_folder_fails_alone(
    sqlite_store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that cannot be listed is reported as itself (tests run as root, so the refusal is simulated)."""
    (tmp_path / "kb/locked").mkdir(parents=True)
    (tmp_path / "kb/ok.md").write_text(LESSON.format(title="Ok", text="fine"))
    scandir = os.scandir

    def refuse_locked(path: Path) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refuse_locked)
    results = by_name(run(sqlite_store, tmp_path / "kb"), tmp_path / "kb")
    assert results["locked"].status is FileStatus.failed
    assert results["locked"].error == f"{tmp_path / 'kb/locked'}: cannot list this folder: Permission denied"
    assert results["ok.md"].status is FileStatus.added
