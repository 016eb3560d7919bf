"""sentence-transformers models, with the query/passage prefixes each model family expects.

Retrieval models are trained with fixed prefixes; leaving them out costs several
points of nDCG (e5's card: "otherwise you will see a performance degradation").
A model that declares its own ``prompts`` (sentence-transformers ≥ 2.4) is
trusted; otherwise the prefixes come from ``PREFIXES`` by model name.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from kb.search.embedders.base import Vectors

# (substring of the model name, query prefix, document prefix), first match wins.
PREFIXES: tuple[tuple[str, str, str], ...] = (
    ("multilingual-e5", "query: ", "passage: "),
    ("e5-", "query: ", "passage: "),
    ("ruri-v3", "検索クエリ: ", "検索文書: "),
    ("ruri-", "クエリ: ", "文章: "),
    ("bge-", "Represent this sentence for searching relevant passages: ", ""),
    ("nomic-embed", "search_query: ", "search_document: "),
)


def prefixes_for(model: str) -> tuple[str, str]:
    """(query prefix, document prefix) for a model name or path; empty when none is known."""
    name = model.lower()
    for needle, query, document in PREFIXES:
        if needle in name and not (needle == "bge-" and "bge-m3" in name):
            return query, document
    return "", ""


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path."""

    def __init__(self, model: str, *, batch_size: int = 64) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "the 'st:' embedder needs sentence-transformers: pip install 'pmo-kb[st]' "
                "(install torch's CPU build first: pip install torch==2.13.0)"
            ) from exc
        self._model = SentenceTransformer(model, device="cpu")
        self._name = model
        self._batch_size = batch_size
        prompts = getattr(self._model, "prompts", None) or {}
        query, document = prefixes_for(model)
        self._query_prefix = prompts.get("query", query)
        self._document_prefix = prompts.get("document", prompts.get("passage", document))
        # renamed in sentence-transformers 6 (the old name warns); the extra allows >= 3.0, which has only the old
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        dim = dimension()
        if dim is None:
            raise ValueError(f"model {model!r} does not report its embedding dimension")
        self._dim = int(dim)
        try:
            st_version = version("sentence-transformers")
        except PackageNotFoundError:  # pragma: no cover
            st_version = "unknown"
        self._identity = f"st:{model}@sentence-transformers=={st_version}"

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def dim(self) -> int:
        return self._dim

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return self._encode([self._document_prefix + t for t in texts])

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self._encode([self._query_prefix + text])[0]
        return vector

    def _encode(self, texts: list[str]) -> Vectors:
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
