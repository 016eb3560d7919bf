"""The `kb` command line, run in-process as a user would type it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app import intake
from cli import documents
from cli.main import app
from ingest.pipeline import FileReport, IngestReport
from kb.config import Settings
from kb.engine import KnowledgeBase
from tests.conftest import HashingEmbedder

runner = CliRunner()


def kb(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_demo_loads_every_kind_and_reloading_changes_nothing(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    code, out, _ = kb("demo", "--no-index", "--data-dir", data)
    assert code == 0, out
    code, out, _ = kb("stats", "--json", "--data-dir", data)
    counts = json.loads(out)
    assert all(counts.get(kind, 0) >= 3 for kind in ("lesson", "retrospective", "faq", "template", "procedure"))
    assert sum(counts[k] for k in ("lesson", "retrospective", "faq", "template", "procedure")) >= 60
    code, out, _ = kb(
        "ingest", "--json", "--no-index", "--data-dir", data, str(Path(__file__).parents[1] / "ingest/demo_kb")
    )
    report = json.loads(out)
    assert code == 0
    assert report["summary"]["unchanged"] == len(report["files"]) > 0


def test_demo_is_bilingual(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    kb("demo", "--no-index", "--data-dir", data)
    docs = json.loads(kb("list", "--json", "--data-dir", data)[1])
    ja = sum(1 for d in docs if d["language"] == "ja")
    assert 0.35 <= ja / len(docs) <= 0.65


def test_export_then_import_into_an_empty_data_dir_gives_the_same_documents(tmp_path: Path) -> None:
    first, second = str(tmp_path / "one"), str(tmp_path / "two")
    kb("demo", "--no-index", "--data-dir", first)
    dump = tmp_path / "dump.jsonl"
    assert kb("export", str(dump), "--data-dir", first)[0] == 0
    code, out, _ = kb("import", str(dump), "--data-dir", second)
    assert code == 0 and "imported" in out
    again = tmp_path / "again.jsonl"
    kb("export", str(again), "--data-dir", second)
    assert dump.read_text(encoding="utf-8") == again.read_text(encoding="utf-8")
    assert kb("stats", "--json", "--data-dir", first)[1] == kb("stats", "--json", "--data-dir", second)[1]


def test_ingest_reports_failures_and_exits_non_zero(tmp_path: Path) -> None:
    folder = tmp_path / "kb/lessons"
    folder.mkdir(parents=True)
    (folder / "ok.md").write_text("---\ntitle: OK\n---\n\n## Lesson\n\nfine\n", encoding="utf-8")
    (folder / "bad.md").write_text("---\ntitle: [x\n---\nbody", encoding="utf-8")
    code, out, err = kb("ingest", "--no-index", str(tmp_path / "kb"), "--data-dir", str(tmp_path / "data"))
    assert code == 1
    assert f"{folder / 'bad.md'}:" in err and "not valid YAML" in err
    assert "1 added" in out and "1 failed" in out
    code, out, _ = kb("ingest", "--json", "--no-index", str(tmp_path / "kb"), "--data-dir", str(tmp_path / "data"))
    files = {Path(f["path"]).name: f for f in json.loads(out)["files"]}
    assert files["ok.md"]["status"] == "unchanged" and files["bad.md"]["status"] == "failed"


def test_show_list_and_domain_errors(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    kb("demo", "--no-index", "--data-dir", data)
    retro = json.loads(kb("list", "--kind", "retrospective", "--json", "--data-dir", data)[1])[0]
    shown = json.loads(kb("show", retro["id"], "--json", "--data-dir", data)[1])
    assert shown["title"] == retro["title"] and shown["children"]
    code, _, err = kb("show", "nope", "--data-dir", data)
    assert code == 1 and "error: no document with id 'nope'" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\nnot json\n', encoding="utf-8")
    code, _, err = kb("import", str(bad), "--data-dir", data)
    assert code == 1 and f"{bad}:2: not valid JSON" in err


def test_ingest_maps_columns_takes_a_kind_and_reports_every_file_as_json(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "register.csv").write_text(
        "件名,学んだこと,打ち手\nベンダー選定,基準を先に決める,評価シートを使う\n", encoding="utf-8"
    )
    (folder / "escalation.txt").write_text("Escalation\n\nCall the PMO within two hours.\n", encoding="utf-8")
    (folder / "bad.csv").write_text("件名,教訓,発生日\nA,a,someday\n", encoding="utf-8")
    data = str(tmp_path / "data")
    code, _, err = kb("ingest", "--no-index", "--map", "学んだこと", str(folder), "--data-dir", data)
    assert code == 1 and "--map '学んだこと': write it as COLUMN=FIELD" in err
    code, out, _ = kb(
        "ingest", "--json", "--no-index", "--kind", "procedure", "--map", "学んだこと=lesson", "--map", "打ち手=recommendation",
        str(folder), "--data-dir", data,
    )  # fmt: skip
    assert code == 1
    files = {Path(f["path"]).name: f for f in json.loads(out)["files"]}
    assert files["escalation.txt"]["status"] == "added"
    assert files["register.csv"]["status"] == "added"  # lesson columns win over --kind's default
    bad = files["bad.csv"]
    assert (bad["status"], bad["place"], bad["line"]) == ("failed", "row 2, column '発生日'", 2)
    assert bad["error"] == f"{folder / 'bad.csv'}:2: row 2, column '発生日': {bad['reason']}"
    lessons = json.loads(kb("list", "--kind", "lesson", "--json", "--data-dir", data)[1])
    shown = json.loads(kb("show", lessons[0]["id"], "--json", "--data-dir", data)[1])
    assert (shown["lesson"], shown["recommendation"]) == ("基準を先に決める", "評価シートを使う")


def test_demo_creates_the_first_admin_once_and_accounts_are_managed_from_the_cli(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    code, out, _ = kb("demo", "--no-index", "--data-dir", data)
    assert code == 0 and "login:    admin" in out
    box = out.rstrip().splitlines()[-6:]  # the password comes last, framed, after the ingest report
    assert box[0].startswith("====") and box[-1] == box[0] and box[3].startswith("  password: ")
    code, out, _ = kb("demo", "--no-index", "--data-dir", data)
    assert code == 0 and "password" not in out  # only once
    code, out, _ = kb(
        "user", "add", "tanaka", "--role", "contributor", "-g", "infra", "--no-password", "--data-dir", data
    )
    assert code == 0
    code, out, _ = kb("user", "set-role", "tanaka", "pmo_admin", "--data-dir", data)
    assert code == 0 and "pmo_admin" in out
    code, out, _ = kb("user", "list", "--json", "--data-dir", data)
    users = {u["login"]: u for u in json.loads(out)}
    assert users["tanaka"] == {
        "login": "tanaka",
        "name": "tanaka",
        "role": "pmo_admin",
        "groups": ["infra"],
        "active": True,
    }
    code, secret, _ = kb("token", "create", "tanaka", "--name", "nightly", "--role-cap", "reader", "--data-dir", data)
    assert code == 0 and secret.strip().startswith("kb_")
    code, out, _ = kb("token", "list", "--json", "--data-dir", data)
    tokens = json.loads(out)
    assert tokens[0]["role_cap"] == "reader" and secret.strip() not in out
    code, _, _ = kb("token", "revoke", str(tokens[0]["id"]), "--data-dir", data)
    assert code == 0
    code, _, _ = kb("user", "disable", "tanaka", "--data-dir", data)
    assert code == 0
    code, _, err = kb("user", "add", "tanaka", "--no-password", "--data-dir", data)
    assert code == 1 and "exists already" in err
    code, out, _ = kb("audit", "--json", "--data-dir", data)
    actions = [e["action"] for e in json.loads(out)]
    assert actions == [
        "user_update",
        "token_revoke",
        "token_create",
        "user_update",
        "user_add",
        "ingest",
        "user_add",
        "ingest",
    ]
    assert "ingest" in actions and all(e["actor"].startswith("cli") for e in json.loads(out))
    assert secret.strip() not in out


def test_an_interrupted_ingest_still_indexes_what_it_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C (or SIGTERM) after the first file: that file is stored and searchable when the command exits."""
    folder = tmp_path / "kb/lessons"
    folder.mkdir(parents=True)
    for name, text in (("a.md", "The axolotl launch slipped."), ("b.md", "The bilby audit passed.")):
        (folder / name).write_text(f"---\ntitle: {name}\nlang: en\n---\n\n## Lesson\n\n{text}\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    real_ingest = intake.ingest_paths

    def interrupted(*args: Any, on_file: Callable[[FileReport], None], **kwargs: Any) -> IngestReport:
        def then_interrupt(result: FileReport) -> None:
            on_file(result)
            raise KeyboardInterrupt

        return real_ingest(*args, on_file=then_interrupt, **kwargs)

    @contextmanager
    def fast_kb(data_dir: Path | None, *, create: bool = False) -> Iterator[KnowledgeBase]:
        kb = KnowledgeBase.open(settings, embedder=HashingEmbedder())
        yield kb
        kb.close()

    monkeypatch.setattr(intake, "ingest_paths", interrupted)
    monkeypatch.setattr(documents, "kb_for", fast_kb)
    result = runner.invoke(app, ["ingest", str(tmp_path / "kb"), "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 130  # how typer reports Ctrl-C
    with fast_kb(None) as kb:
        assert kb.indexer.pending() == 0
        assert [d.title for d in kb.store.documents()] == ["a.md"]
        assert kb.searcher.search("axolotl launch", mode="lexical").hits[0].document.title == "a.md"


def test_a_command_on_a_data_dir_that_does_not_exist_says_so_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    for command in (["stats"], ["list"], ["user", "list"], ["search", "x"]):
        code, _, err = kb(*command, "--data-dir", str(missing))
        assert code == 1 and "there is no data dir at" in err and "kb demo" in err, command
    assert not missing.exists()
