"""What logging in and checking credentials cost: per login, and per request for tokens and sessions.

    python bench/auth.py [--requests 2000] [--database-url URL]

Prints, on a fresh SQLite store (or the given database):

- a password login (argon2id verify + a session row), p50/p99;
- the credential check alone, per request: bearer token, session cookie;
- a whole request (``GET /api/me`` in process, FastAPI included) with a token,
  with a session cookie, and anonymous (``KB_ANONYMOUS_ROLE=reader``), so the
  difference is what authentication adds to every request.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from kb.config import Settings
from kb.record.models import Role
from web.app import create_app

PASSWORD = "benchmark password"


class _NoEmbedder:
    """Authentication never embeds; a real model would only slow the app's start."""

    identity = "bench-none"
    dim = 8

    def embed_documents(self, texts: object) -> np.ndarray:
        return np.zeros((len(texts), 8), dtype=np.float32)  # type: ignore[arg-type]

    def embed_query(self, text: str) -> np.ndarray:
        return np.zeros(8, dtype=np.float32)


def timed(label: str, n: int, call: Callable[[], object]) -> None:
    call()  # warm up
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    p50, p99 = np.percentile(times, [50, 99])
    print(f"{label:<44} p50 {p50:8.3f} ms   p99 {p99:8.3f} ms   (n={n})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--logins", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", database_url=args.database_url, anonymous_role="reader")
        with TestClient(create_app(settings, embedder=_NoEmbedder())) as client:
            kb = client.app.state.kb  # type: ignore[attr-defined]
            kb.accounts.add_user("bench", role=Role.contributor, password=PASSWORD)
            token = kb.accounts.create_token("bench", "bench").secret
            _, session = kb.accounts.login("bench", PASSWORD, address="127.0.0.1", hours=1)

            timed(
                "login (argon2id verify + session row)",
                args.logins,
                lambda: kb.accounts.login("bench", PASSWORD, address="127.0.0.1", hours=1),
            )
            timed("token check (SHA-256 + indexed lookup)", args.requests, lambda: kb.accounts.token_user(token))
            timed("session check (SHA-256 + lookup)", args.requests, lambda: kb.accounts.session_user(session))
            auth = {"Authorization": f"Bearer {token}"}
            timed("GET /api/me with a bearer token", args.requests, lambda: client.get("/api/me", headers=auth))
            client.cookies.set("kb_session", session)
            timed("GET /api/me with a session cookie", args.requests, lambda: client.get("/api/me"))
            client.cookies.clear()
            timed("GET /api/me anonymous (reader)", args.requests, lambda: client.get("/api/me"))


if __name__ == "__main__":
    main()
