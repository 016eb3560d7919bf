"""An upload is parsed off the event loop: health checks and searches answer while it runs (issue 18)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import intake
from tests.web.conftest import csrf_of

FILES = 6


def _files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        (
            "files",
            (
                f"walrus-{n}.md",
                f"# Walrus lesson {n}\n\nThe walrus migration {n} needed a freeze.\n".encode(),
                "text/markdown",
            ),
        )
        for n in range(FILES)
    ]


@pytest.mark.parametrize("route", ["/api/upload", "/upload"])
def test_health_and_search_answer_while_an_upload_is_parsed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    """The upload's second file waits until /healthz and a search have answered (or 30 s, which only
    bounds the wait when the event loop is blocked: then they cannot answer, the upload finishes first
    and the order below is wrong). Nothing is timed: the test asserts which request completed first."""
    started, answered = threading.Event(), threading.Event()
    finished: list[str] = []
    real: Callable[..., Any] = intake.ingest_upload

    def gated(*args: Any, **kwargs: Any) -> Any:
        if started.is_set():
            answered.wait(timeout=30)
            answered.set()  # a blocked loop waits once, not once a file
        started.set()
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "ingest_upload", gated)
    data = {"kind": "lesson"} | ({"csrf": csrf_of(client)} if route == "/upload" else {})

    def upload() -> None:
        response = client.post(route, files=_files(), data=data)
        finished.append(f"upload {response.status_code}")

    uploader = threading.Thread(target=upload)
    uploader.start()
    assert started.wait(timeout=60), "the upload never reached the ingest"
    health = client.get("/healthz")
    finished.append(f"healthz {health.status_code}")
    search = client.get("/api/search", params={"q": "vendor"})
    finished.append(f"search {search.status_code}")
    answered.set()
    uploader.join(timeout=120)
    assert finished == ["healthz 200", "search 200", "upload 200"]
    assert client.get("/api/search", params={"q": "walrus migration"}).json()["total"] >= 1
