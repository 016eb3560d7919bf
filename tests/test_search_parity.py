"""`kb search --json` and `/api/search` give the same ranking for the same query and filters.

Both call ``app.search.search``; before they did not (the CLI called the
searcher directly), and ``kb search --phase test`` missed documents whose
phase is written テスト. The demo holds a superseded status-report template
next to its current version, so the order of versions is compared too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli import search as cli_search
from cli.main import app as cli
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.record.models import Role
from tests.conftest import HashingEmbedder
from tests.web.conftest import add_user, bearer, load_demo
from web.app import create_app

CASES = [
    ("週次ステータスレポート テンプレート", {}),  # the current template and the version it superseded
    ("status report", {"kind": ["template"]}),
    ("テスト 不具合", {"phase": ["test"]}),
    ("テスト 不具合", {"phase": ["テスト"]}),
    ("vendor selection delay", {"lang": ["en"]}),
    ("ベンダー 遅延", {"kind": ["lesson"], "phase": ["testing"]}),
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", min_dense_score=0.5)
    load_demo(settings)
    return settings


def _cli_ids(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, query: str, filters: dict[str, list[str]]
) -> list[str]:
    @contextmanager
    def same_data(data_dir: Path | None) -> Iterator[KnowledgeBase]:
        kb = KnowledgeBase.open(settings, embedder=HashingEmbedder())
        try:
            yield kb
        finally:
            kb.close()

    monkeypatch.setattr(cli_search, "kb_for", same_data)
    options = [arg for name, values in filters.items() for value in values for arg in (f"--{name}", value)]
    result = CliRunner().invoke(cli, ["search", query, *options, "--limit", "20", "--json"])
    assert result.exit_code == 0, result.stderr
    return [hit["id"] for hit in json.loads(result.stdout)["hits"]]


def test_the_cli_and_the_api_rank_alike(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from_cli = {(q, json.dumps(f)): _cli_ids(settings, monkeypatch, q, f) for q, f in CASES}
    with TestClient(create_app(settings, embedder=HashingEmbedder())) as client:
        client.headers.update(bearer(add_user(client, "admin", Role.pmo_admin)))
        from_api = {
            (q, json.dumps(f)): [
                h["id"] for h in client.get("/api/search", params={"q": q, "limit": 20, **f}).json()["hits"]
            ]
            for q, f in CASES
        }
        docs = {d.id: d for d in client.app.state.kb.store.documents()}  # type: ignore[attr-defined]
    assert from_cli == from_api
    assert all(from_cli.values()), "every case finds something, or the comparison proves little"
    test_phase = from_cli[("テスト 不具合", json.dumps({"phase": ["test"]}))]
    assert test_phase == from_cli[("テスト 不具合", json.dumps({"phase": ["テスト"]}))]
    assert any(docs[i].phase == "テスト" for i in test_phase)  # --phase test finds テスト
    versions = [docs[i].status.value for i in from_cli[(CASES[0][0], "{}")] if docs[i].kind.value == "template"]
    assert "superseded" in versions and versions.index("published") < versions.index("superseded")
