"""`kb lifecycle`, `kb reviews`, `kb brief` and `kb notify subscribe`, run in-process as a user would type them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def kb(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def _ids(data: str, title: str) -> str:
    docs = json.loads(kb("list", "--json", "--data-dir", data)[1])
    return str(next(d["id"] for d in docs if d["title"] == title))


def test_lifecycle_moves_supersede_and_refuse_illegal_ones(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    kb("demo", "--no-index", "--data-dir", data)
    v2 = _ids(data, "週次ステータスレポート テンプレート（第2版）")
    code, out, err = kb("lifecycle", v2, "approve", "--data-dir", data)
    assert code == 1 and "cannot approve a document that is published" in err
    code, out, _ = kb("lifecycle", v2, "verify", "--json", "--data-dir", data)
    assert code == 0 and json.loads(out)["status"] == "published" and json.loads(out)["review_by"]
    code, out, _ = kb("lifecycle", v2, "archive", "--data-dir", data)
    assert code == 0 and "archived" in out
    code, _, err = kb("lifecycle", v2, "return", "--data-dir", data)
    assert code == 1 and "cannot return" in err
    events = json.loads(kb("audit", "--json", "--action", "verify", "--data-dir", data)[1])
    assert events and events[0]["target"] == v2


def test_reviews_lists_published_standards_past_their_date(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "old.md").write_text(
        "---\nkind: template\ntitle: Old risk log\nowner: yamada\nreview_by: 2020-01-31\n---\nbody\n", encoding="utf-8"
    )
    (folder / "new.md").write_text(
        "---\nkind: template\ntitle: Fresh\nreview_by: 2099-01-31\n---\nbody\n", encoding="utf-8"
    )
    kb("ingest", "--no-index", "--data-dir", data, str(folder))
    due = json.loads(kb("reviews", "--json", "--data-dir", data)[1])
    assert [d["title"] for d in due] == ["Old risk log"]
    assert json.loads(kb("reviews", "--json", "--owner", "sato", "--data-dir", data)[1]) == []
    assert "Old risk log" in kb("reviews", "--owner", "yamada", "--data-dir", data)[1]


def test_reviews_names_owners_by_display_name_the_login_or_free_text_as_written(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    folder = tmp_path / "templates"
    folder.mkdir()
    for name, owner in (("a", "yamada"), ("b", "PMO office"), ("c", "sato")):  # sato: no account
        (folder / f"{name}.md").write_text(
            f"---\nkind: template\ntitle: Log {name}\nowner: {owner}\nreview_by: 2020-01-3{ord(name) % 2}\n---\nx\n",
            encoding="utf-8",
        )
    kb("ingest", "--no-index", "--data-dir", data, str(folder))
    code, _, err = kb("user", "add", "yamada", "--name", "山田 花子", "--no-password", "--data-dir", data)
    assert code == 0, err
    due = json.loads(kb("reviews", "--json", "--data-dir", data)[1])
    assert {d["title"]: (d["owner"], d["owner_name"]) for d in due} == {
        "Log a": ("yamada", "山田 花子"),
        "Log b": ("PMO office", "PMO office"),
        "Log c": ("sato", "sato"),
    }
    shown = dict(re.findall(r"(Log \w)\s+\[([^]]+)\]", kb("reviews", "--data-dir", data)[1]))  # rich may wrap
    assert shown == {"Log a": "山田 花子", "Log b": "PMO office", "Log c": "sato"}


@pytest.mark.slow
def test_brief_from_stdin_as_json_and_markdown(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    kb("demo", "--data-dir", data)
    text = "販売管理システムを刷新する。パッケージ製品を選ぶため、複数のベンダーから提案を受けて選定する。"
    code, out, _ = kb("brief", "-", "--phase", "企画", "--json", "--data-dir", data, stdin=text)
    assert code == 0, out
    groups = json.loads(out)
    # language-fair: both vendor selection procedures lead, in whichever order their scores put them
    assert {p["title"] for p in groups["procedure"][:2]} == {"ベンダー選定手順書", "Vendor selection procedure"}
    lesson = groups["lesson"][0]
    assert ("ベンダ" in lesson["title"] or "vendor selection" in lesson["title"].lower()) and lesson[
        "recurring_projects"
    ]
    code, out, _ = kb("brief", "-", "--markdown", "--data-dir", data, stdin=text)
    assert code == 0 and out.startswith("# ") and "- [ ] [ベンダー選定手順書]" in out
    code, _, err = kb("brief", "-", "--data-dir", data, stdin="  ")
    assert code == 1 and "empty" in err


def test_notify_subscribe_refuses_an_internal_webhook_unless_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = str(tmp_path / "data")
    (tmp_path / "data").mkdir()
    kb("user", "add", "tanaka", "--role", "contributor", "--no-password", "--data-dir", data)
    hook = ("notify", "subscribe", "tanaka", "--topic", "kind", "--target", "lesson", "--channel", "webhook")
    code, _, err = kb(*hook, "--address", "http://10.20.0.5/relay", "--data-dir", data)
    assert code == 1 and "the webhook address http://10.20.0.5/relay is not allowed" in err and "(private)" in err
    monkeypatch.setenv("KB_WEBHOOK_ALLOW_HOSTS", "10.20.0.0/16")
    code, out, _ = kb(*hook, "--address", "http://10.20.0.5/relay", "--json", "--data-dir", data)
    assert code == 0 and json.loads(out)["channel"] == "webhook"
