"""`kb migrate`, `kb backup` and `kb restore` on SQLite and PostgreSQL, and migrations that never race."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kb.config import Settings
from kb.record.db import current_revision, head_revision, make_engine, migrate
from kb.record.store import open_store
from tests.test_cli import kb


def test_migrate_reports_what_it_did(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    code, out, _ = kb("migrate", "--data-dir", data)
    assert code == 0 and f"schema migrated from empty to {head_revision()}" in out
    code, out, _ = kb("migrate", "--data-dir", data)
    assert code == 0 and "schema is current" in out


@pytest.mark.postgres
def test_replicas_migrating_together_do_not_race(postgres_url: str) -> None:
    name = "kb_migrate_race"
    admin = create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    errors: list[BaseException] = []

    def replica() -> None:
        engine = make_engine(url)
        try:
            migrate(engine)
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine = make_engine(url)
    try:
        assert errors == [] and current_revision(engine) == head_revision()
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _backup_and_restore(settings: Settings, tmp_path: Path) -> None:
    data = str(settings.data_dir)
    code, _, err = kb("demo", "--no-index", "--data-dir", data)
    assert code == 0, err
    store = open_store(settings)
    before = {r["id"]: r for r in store.export_records()}
    store.close()
    code, out, err = kb("backup", str(tmp_path / "bk"), "--data-dir", data)
    assert code == 0 and "backed up" in out, err
    code, _, err = kb("backup", str(tmp_path / "bk"), "--data-dir", data)
    assert code == 1 and "not empty" in err
    store = open_store(settings)
    for doc_id in list(before)[:5]:
        store.delete(doc_id)
    store.close()
    code, _, err = kb("restore", str(tmp_path / "bk"), "--data-dir", data)
    assert code == 1 and "--force" in err  # nothing is replaced by accident
    code, out, err = kb("restore", str(tmp_path / "bk"), "--force", "--data-dir", data)
    assert code == 0 and "restored" in out, err
    store = open_store(settings)
    after = {r["id"]: r for r in store.export_records()}
    with store.engine.connect() as conn:
        users = [row[0] for row in conn.execute(text('SELECT login FROM "user"'))]
    store.close()
    assert after == before and users == ["admin"]  # documents, originals and accounts come back
    assert not (settings.data_dir / "index").exists()  # derived indexes rebuild from the restored store


def test_backup_and_restore_sqlite(tmp_path: Path) -> None:
    _backup_and_restore(Settings(data_dir=tmp_path / "data"), tmp_path)


@pytest.mark.postgres
def test_backup_and_restore_postgresql(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "kb_backup_test"
    admin = create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    monkeypatch.setenv("KB_DATABASE_URL", url)
    try:
        _backup_and_restore(Settings(data_dir=tmp_path / "data", database_url=url), tmp_path)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
