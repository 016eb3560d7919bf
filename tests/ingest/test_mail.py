"""Mail attachments stored as files of their own: keyed by the mail, updated with it, failing alone."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from ingest.budget import FileBudget
from ingest.mail import MailIngester
from ingest.pipeline import FileReport, FileStatus, IngestReport, ingest_paths
from ingest.registry import default_registry
from ingest.uploads import ingest_upload
from kb.config import Settings
from kb.identity.access import GuardedStore, Principal
from kb.record.models import Kind, Role
from kb.record.store import SqlStore
from tests.ingest.hostile import zip_bomb
from tests.ingest.samples import docx_file, eml_file, xlsx

PROCEDURE = docx_file([("Heading 1", "手順"), ("", "経費精算システムで申請する。")], title="経費精算手順書")
REGISTER = xlsx({"教訓": [["件名", "事象", "教訓"], ["見積もり", "前提漏れ", "前提を書く"]]})
NOTE = "# 議事録テンプレート\n\n## 決定事項\n\n- \n".encode()


def mail(*attachments: tuple[str, bytes], body: str = "手順書を添付します。") -> bytes:
    return eml_file("経費精算手順の改訂", body, attachments=attachments)


def run(store: SqlStore, root: Path, *, budget: FileBudget | None = None, sync: bool = False) -> IngestReport:
    return ingest_paths(
        store, [root / "kb"], registry=default_registry(), max_file_bytes=8_000_000, budget=budget, sync=sync
    )


def place(root: Path, name: str, data: bytes) -> Path:
    path = root / "kb" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def by_path(report: IngestReport) -> dict[str, FileReport]:
    return {f.path: f for f in report.files}


def test_each_attachment_is_its_own_source_read_by_its_own_format(sqlite_store: SqlStore, tmp_path: Path) -> None:
    attached = (
        ("経費精算手順書.docx", PROCEDURE),
        ("lessons.xlsx", REGISTER),
        ("議事録.md", NOTE),
        ("logo.png", b"PNG"),
    )
    path = place(tmp_path, "inbox/procedure-notice.eml", mail(*attached))
    files = by_path(run(sqlite_store, tmp_path))
    source = str(path)
    assert files[source].status is FileStatus.added and files[source].documents == 1
    for name in ("経費精算手順書.docx", "lessons.xlsx", "議事録.md"):
        assert (files[f"{source}#{name}"].status, files[f"{source}#{name}"].within) == (FileStatus.added, source)
    assert files[f"{source}#logo.png"].status is FileStatus.skipped
    (message,) = sqlite_store.documents_of_source(source)  # the message alone: its body, not its attachments
    assert message.kind is Kind.procedure and message.body == "手順書を添付します。"
    (procedure,) = sqlite_store.documents_of_source(f"{source}#経費精算手順書.docx")
    assert (procedure.kind, procedure.title, procedure.attachment_id is not None) == (
        Kind.procedure, "経費精算手順書", True,
    )  # fmt: skip
    (lesson,) = sqlite_store.documents_of_source(f"{source}#lessons.xlsx")
    assert (lesson.kind, lesson.title, lesson.lesson) == (Kind.lesson, "見積もり", "前提を書く")
    (template,) = sqlite_store.documents_of_source(f"{source}#議事録.md")
    assert template.title == "議事録テンプレート"


def test_ingesting_the_mail_again_updates_its_attachments_rather_than_adding_them_twice(
    sqlite_store: SqlStore, tmp_path: Path
) -> None:
    path = place(
        tmp_path, "inbox/procedure-notice.eml", mail(("経費精算手順書.docx", PROCEDURE), ("lessons.xlsx", REGISTER))
    )
    run(sqlite_store, tmp_path)
    count = sqlite_store.counts()
    again = run(sqlite_store, tmp_path, sync=True)
    assert [f.status for f in again.files] == [FileStatus.unchanged]  # not even opened: and sync keeps them
    assert sqlite_store.counts() == count
    revised = docx_file([("Heading 1", "手順"), ("", "新システムで申請する。")], title="経費精算手順書")
    path.write_bytes(mail(("経費精算手順書.docx", revised), body="改訂版を添付します。"))
    files = by_path(run(sqlite_store, tmp_path))
    source = str(path)
    assert files[source].status is FileStatus.updated
    assert files[f"{source}#経費精算手順書.docx"].status is FileStatus.updated
    assert files[f"{source}#lessons.xlsx"].status is FileStatus.removed  # no longer attached
    assert sqlite_store.documents_of_source(f"{source}#lessons.xlsx") == []
    current = [d for d in sqlite_store.documents_of_source(f"{source}#経費精算手順書.docx") if d.status != "superseded"]
    assert len(current) == 1 and "新システム" in current[0].body


def test_a_bad_attachment_fails_alone_naming_the_mail_and_the_attachment(
    sqlite_store: SqlStore, tmp_path: Path, settings: Settings
) -> None:
    bomb = zip_bomb(REGISTER, "xl/worksheets/sheet1.xml")
    path = place(
        tmp_path,
        "procedures/notice.eml",
        mail(("bomb.xlsx", bomb), ("broken.docx", b"PK\x03\x04"), ("手順書.docx", PROCEDURE)),
    )
    other = place(tmp_path, "procedures/other.md", "# 別の手順\n\n1. 申請する\n".encode())
    files = by_path(run(sqlite_store, tmp_path, budget=FileBudget.from_settings(settings)))  # unpacked in the worker
    source = str(path)
    assert files[source].status is FileStatus.added
    assert files[f"{source}#手順書.docx"].status is FileStatus.added
    assert files[str(other)].status is FileStatus.added  # the batch goes on
    for name, reason in (("bomb.xlsx", "zip bomb"), ("broken.docx", "damaged or truncated")):
        failed = files[f"{source}#{name}"]
        assert failed.status is FileStatus.failed and failed.within == source
        assert failed.error is not None and failed.error.startswith(f"{source}#{name}: ") and reason in failed.error
        assert sqlite_store.documents_of_source(f"{source}#{name}") == []


def test_attachments_are_stored_though_the_message_itself_has_no_text(sqlite_store: SqlStore, tmp_path: Path) -> None:
    path = place(tmp_path, "templates/fwd.eml", mail(("議事録.md", NOTE), body=""))
    files = by_path(run(sqlite_store, tmp_path))
    assert files[str(path)].status is FileStatus.failed and "no text" in (files[str(path)].error or "")
    assert files[f"{path}#議事録.md"].status is FileStatus.added


def test_attachment_names_are_file_names_never_paths_and_a_forwarded_mail_is_read_with_its_own() -> None:
    inner = EmailMessage()
    inner["Subject"], inner["From"] = "Fwd: 議事録", "a@example.com"
    inner.set_content("転送します。")
    inner.add_attachment(NOTE, maintype="text", subtype="markdown", filename="議事録.md")
    outer = EmailMessage()
    outer["Subject"], outer["From"] = "まとめ", "pmo@example.com"
    outer.set_content("各種資料")
    for name in ("../../etc/plan.md", "plan.md", "a#b.md", ""):
        outer.add_attachment(b"# x\n\ny\n", maintype="text", subtype="markdown", filename=name or None)
    outer.add_attachment(inner)
    found = MailIngester().attachments(Path("/kb/x.eml"), outer.as_bytes(), source="/kb/x.eml")
    assert [name for name, _ in found] == ["plan.md", "plan (2).md", "ab.md", "attachment-4", "議事録.eml"]
    forwarded = MailIngester().attachments(Path("/kb/x.eml#議事録.eml"), found[-1][1], source="/kb/x.eml#議事録.eml")
    assert forwarded == [("議事録.md", NOTE)]


def test_an_uploaded_mail_reports_each_attachment_under_its_name(sqlite_store: SqlStore) -> None:
    reports = ingest_upload(
        sqlite_store,
        "notice.eml",
        mail(("経費精算手順書.docx", PROCEDURE)),
        registry=default_registry(),
        max_file_bytes=8_000_000,
        kind=Kind.procedure,
    )
    assert [(r.path, r.status, r.within) for r in reports] == [
        ("notice.eml", FileStatus.added, None),
        ("notice.eml#経費精算手順書.docx", FileStatus.added, "notice.eml"),
    ]
    (procedure,) = sqlite_store.documents_of_source("upload:notice.eml#経費精算手順書.docx")
    assert procedure.title == "経費精算手順書"


def test_uploading_a_changed_mail_removes_the_attachments_it_no_longer_carries(sqlite_store: SqlStore) -> None:
    tanaka = GuardedStore(sqlite_store, Principal("tanaka", Role.contributor, via="session"))

    def upload(data: bytes) -> list[tuple[str, FileStatus, str | None]]:
        reports = ingest_upload(tanaka, "notice.eml", data, registry=default_registry(), max_file_bytes=8_000_000)
        return [(r.path, r.status, r.within) for r in reports]

    upload(mail(("経費精算手順書.docx", PROCEDURE), ("lessons.xlsx", REGISTER)))
    assert sqlite_store.documents_of_source("upload:notice.eml#lessons.xlsx")
    revised = docx_file([("Heading 1", "手順"), ("", "新システムで申請する。")], title="経費精算手順書")
    changed = mail(("経費精算手順書.docx", revised), body="改訂版を添付します。")
    assert upload(changed) == [
        ("notice.eml", FileStatus.updated, None),
        ("notice.eml#経費精算手順書.docx", FileStatus.updated, "notice.eml"),
        ("notice.eml#lessons.xlsx", FileStatus.removed, "notice.eml"),
    ]
    assert sqlite_store.documents_of_source("upload:notice.eml#lessons.xlsx") == []
    assert upload(changed) == [("notice.eml", FileStatus.unchanged, None)]  # not opened again: nothing to drop
