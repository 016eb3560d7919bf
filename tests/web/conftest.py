"""An isolated app per test: temporary data dir, the fast hashing embedder, the demo loaded."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from importlib.resources import files
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from ingest.pipeline import ingest_paths
from ingest.registry import default_registry
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.record.models import Role
from kb.record.store import open_store
from kb.search.embedders.base import Embedder
from tests.conftest import HashingEmbedder, migrated, prepared
from web.app import create_app

DEMO = Path(str(files("ingest") / "demo_kb"))


def load_demo(settings: Settings) -> None:
    """The demo in the store of ``settings``: ingested once a session per configuration, then copied."""
    prepared(settings, "demo", _ingest_demo)


def _ingest_demo(settings: Settings) -> None:
    store = open_store(settings)
    ingest_paths(store, [DEMO], registry=default_registry(), max_file_bytes=settings.max_file_bytes)
    store.close()


def _ingest_and_index_demo(settings: Settings) -> None:
    """What ``kb demo`` leaves: the demo stored and indexed (here with the hashing embedder the apps use)."""
    _ingest_demo(settings)
    kb = KnowledgeBase.open(settings, embedder=HashingEmbedder())
    kb.catch_up()
    kb.close()


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    # The hashing embedder (64 dims, many collisions) scores unrelated text up to ~0.4; a floor lets nonsense find nothing.
    return settings.model_copy(update={"min_dense_score": 0.5})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serving(settings: Settings, embedder: Embedder | None = None) -> Iterator[str]:
    """Serve the app for ``settings`` on a free local port in a thread (a real server, for the browser tests);
    yield its base URL, then stop it. ``embedder``: the app's (default: the one ``settings`` name)."""
    port = free_port()
    config = uvicorn.Config(create_app(settings, embedder=embedder), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.started, "server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def add_user(client: TestClient, login: str, role: Role, groups: Sequence[str] = ()) -> str:
    """Create an account (no password: cheap) on the client's app and return a bearer token for it."""
    kb = client.app.state.kb  # type: ignore[attr-defined]
    kb.accounts.add_user(login, role=role, groups=groups)
    return str(kb.accounts.create_token(login, "tests").secret)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(web_settings: Settings) -> Iterator[TestClient]:
    """The demo as ``kb demo`` leaves it, with every request made by a PMO admin (``admin``) through an API token."""
    prepared(web_settings, "indexed-demo", _ingest_and_index_demo)
    with TestClient(create_app(web_settings, embedder=HashingEmbedder())) as client:
        client.headers.update(bearer(add_user(client, "admin", Role.pmo_admin)))
        yield client


@pytest.fixture
def empty_client(web_settings: Settings) -> Iterator[TestClient]:
    migrated(web_settings)
    with TestClient(create_app(web_settings, embedder=HashingEmbedder())) as client:
        client.headers.update(bearer(add_user(client, "admin", Role.pmo_admin)))
        yield client


def csrf_of(client: TestClient, page: str = "/upload") -> str:
    """The CSRF token a form on ``page`` carries (the cookie is set by the same response)."""
    html = client.get(page).text
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "form has no CSRF field"
    return match.group(1)
