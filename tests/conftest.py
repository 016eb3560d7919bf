"""Shared fixtures: settings on a temporary data dir, and a store on each backend."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.identity import accounts
from kb.record.store import SqlStore, open_store

# Tests never reach a model hub: sentence-transformers must load from disk.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

POSTGRES_ADMIN_URL = os.environ.get("KB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """Argon2id at its smallest cost in this process (1 pass over 1 MiB) instead of RFC 9106's (3 over 64 MiB).

    A hash or a check at the real cost takes about 0.2 s (on four threads), by design, and the fast suite makes
    over a hundred. The tests are about what accounts do with hashes (stored as argon2id, checked, refused, locked
    out), which the cost does not change; commands the tests run in a subprocess keep the real cost.
    """
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "HASHER", cheap)
        patch.setattr(accounts, "_DUMMY_HASH", cheap.hash("not a password of anyone"))
        yield


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


_templates: dict[tuple[str, str], Path] = {}
_template_root: tempfile.TemporaryDirectory[str] | None = None


def prepared(settings: Settings, name: str, prepare: Callable[[Settings], None], *, per_settings: bool = True) -> None:
    """Make the data dir of ``settings`` what ``prepare`` makes of an empty one, doing the work once a session.

    Many tests start from the same state (a migrated schema, the demo ingested): the first call for ``name``
    (and, with ``per_settings``, this configuration: every setting but ``data_dir``) runs ``prepare`` on a
    template data dir, and each later call copies that dir's files. The store and its indexes are all there
    is in it, so the copy holds the same rows; only their timestamps are earlier. A data dir that exists
    already, or a store outside it (PostgreSQL), gets ``prepare`` itself.
    """
    global _template_root
    if settings.database_url or settings.data_dir.exists():
        prepare(settings)
        return
    key = (name, settings.model_dump_json(exclude={"data_dir"}) if per_settings else "")
    if key not in _templates:
        if _template_root is None:  # removed when the test process exits
            _template_root = tempfile.TemporaryDirectory(prefix="kb-test-templates-")
        template = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_template_root.name)) / "data"
        prepare(settings.model_copy(update={"data_dir": template}))
        _templates[key] = template
    shutil.copytree(_templates[key], settings.data_dir)


def migrated(settings: Settings) -> None:
    """The schema at the newest revision in an otherwise empty store (the migrations are tested on their own).

    The schema is the code's, whatever the settings, so one template serves every configuration."""
    prepared(settings, "schema", lambda s: open_store(s).close(), per_settings=False)


@pytest.fixture
def sqlite_store(settings: Settings) -> Iterator[SqlStore]:
    migrated(settings)
    store = open_store(settings)
    yield store
    store.close()


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the test PostgreSQL server (``KB_TEST_POSTGRES_URL``): its URL, then dropped."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    with fresh_postgres_database("kb_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """``KB_DATABASE_URL`` for a test that runs on each backend: None (SQLite in the data dir), then a database
    of its own on PostgreSQL, for tests whose subprocesses open the store themselves (the crash tests)."""
    if request.param == "sqlite":
        yield None
        return
    test_file = request.module.__name__.rsplit(".", 1)[-1]  # test_crash: kb_crash_…, a leftover is traceable
    with fresh_postgres_database("kb_" + test_file.removeprefix("test_")) as url:
        yield url


@pytest.fixture
def postgres_store(postgres_url: str, tmp_path: Path) -> Iterator[SqlStore]:
    store = open_store(Settings(data_dir=tmp_path / "data", database_url=postgres_url))
    with store.engine.begin() as conn:
        conn.execute(text("TRUNCATE chunk, document, source, change RESTART IDENTITY CASCADE"))
    yield store
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> SqlStore:
    """The store contract runs against every backend."""
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]


class HashingEmbedder:
    """A small deterministic embedder for fast unit tests only: hashed character bigrams.

    Texts sharing character bigrams get similar vectors, which is enough to test
    the plumbing (indexing, removal, filters, fusion) without loading a model.
    Quality tests use the real embedders (marked ``slow``).
    """

    identity = "test-hashing-v1"
    dim = 64
    # Its confidence line (see kb.search.fusion): texts sharing a good part of their bigrams score above it. Hash
    # collisions in 64 dimensions put unrelated short texts around 0.1–0.3.
    confident_cosine = 0.4

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, sample in enumerate(texts):
            t = sample.lower()
            for i in range(max(1, len(t) - 1)):
                out[row, zlib.crc32(t[i : i + 2].encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def knowledge_base(settings: Settings, embedder: HashingEmbedder) -> Iterator[KnowledgeBase]:
    migrated(settings)
    kb = KnowledgeBase.open(settings, embedder=embedder)
    yield kb
    kb.close()
