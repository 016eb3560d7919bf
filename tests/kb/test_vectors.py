"""The VectorIndex contract, run on the exact (flat) and the approximate (IVF) FAISS index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.search.vectors import FaissIndex, VectorIndex

DIM = 32


def unit(rows: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((rows, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(params=["flat", "ivf"])
def index(request: pytest.FixtureRequest) -> FaissIndex:
    # IVF from the start (threshold 1) with every list probed, so results equal exact search.
    if request.param == "ivf":
        return FaissIndex(DIM, ann_threshold=1, nprobe=10_000)
    return FaissIndex(DIM)


def filled(index: FaissIndex, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    ids = np.arange(n, dtype=np.int64) * 10 + 5
    vectors = unit(n)
    index.add(ids[:100], vectors[:100])
    index.add(ids[100:], vectors[100:])
    return ids, vectors


def test_nearest_is_itself_with_inner_product_one(index: FaissIndex) -> None:
    ids, vectors = filled(index)
    assert index.approximate == (index.ann_threshold == 1)
    (best, score), *_ = index.search(vectors[7], 3)
    assert best == ids[7] and score == pytest.approx(1.0, abs=1e-5)
    assert len(index) == 400


def test_remove_and_replace(index: FaissIndex) -> None:
    ids, vectors = filled(index)
    index.remove([int(ids[7])])
    assert all(i != ids[7] for i, _ in index.search(vectors[7], 5))
    index.add(ids[8:9], vectors[9:10])  # re-adding an id replaces its vector
    assert len(index) == 399
    assert index.search(vectors[9], 2)[0][1] == pytest.approx(1.0, abs=1e-5)
    assert {i for i, _ in index.search(vectors[9], 2)} == {int(ids[8]), int(ids[9])}


def test_allowed_restricts_results_exactly(index: FaissIndex) -> None:
    ids, vectors = filled(index)
    allowed = ids[200:210]
    hits = index.search(vectors[0], 5, allowed=allowed)
    assert len(hits) == 5 and {i for i, _ in hits} <= set(allowed.tolist())
    exact = sorted(((float(vectors[0] @ vectors[j]), int(ids[j])) for j in range(200, 210)), reverse=True)[:5]
    assert [i for i, _ in hits] == [i for _, i in exact]
    assert index.search(vectors[0], 5, allowed=np.zeros(0, dtype=np.int64)) == []


def test_save_load_round_trip(index: FaissIndex, tmp_path: Path) -> None:
    ids, vectors = filled(index)
    index.save(tmp_path / "v.faiss")
    loaded = FaissIndex.load(tmp_path / "v.faiss", nprobe=10_000)
    assert len(loaded) == 400 and loaded.approximate == index.approximate
    assert loaded.search(vectors[3], 1)[0][0] == ids[3]


def test_vectors_and_exact_copy_hold_every_vector(index: FaissIndex) -> None:
    ids, vectors = filled(index)
    got_ids, got = index.vectors()
    order = np.argsort(got_ids)
    assert np.array_equal(got_ids[order], ids)
    assert np.allclose(got[order], vectors)
    assert not index.exact_copy().approximate


def test_flat_becomes_ivf_past_the_threshold() -> None:
    index = FaissIndex(DIM, ann_threshold=300, nprobe=10_000)
    ids, vectors = filled(index)
    assert index.approximate
    assert index.search(vectors[123], 1)[0][0] == ids[123]


def test_wrong_shape_is_refused(index: FaissIndex) -> None:
    with pytest.raises(ValueError, match="dim"):
        index.add(np.array([1], dtype=np.int64), unit(1)[:, :5])
    assert index.search(unit(1)[0], 3) == []


def test_scores_read_stored_vectors_back_by_id(index: FaissIndex) -> None:
    ids, vectors = filled(index)
    index.remove([int(ids[3])])
    index.add(ids[4:5], vectors[9:10])  # replaced: its score is the new vector's
    query = vectors[0]
    got = index.scores(query, np.array([ids[0], ids[4], ids[300], ids[3]], dtype=np.int64))
    assert got[:3] == pytest.approx([1.0, float(vectors[9] @ query), float(vectors[300] @ query)], abs=1e-5)
    assert np.isnan(got[3])  # removed: no vector, no score
    assert index.scores(query, np.zeros(0, dtype=np.int64)).shape == (0,)


def test_scores_work_on_an_ivf_saved_without_an_id_map(tmp_path: Path) -> None:
    import faiss

    vectors = unit(200)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, 4, faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors)
    ivf.add_with_ids(vectors, np.arange(200, dtype=np.int64))
    faiss.write_index(ivf, str(tmp_path / "old.faiss"))  # as written before scores() existed
    loaded = FaissIndex.load(tmp_path / "old.faiss")
    assert loaded.scores(vectors[5], np.array([5, 6], dtype=np.int64)) == pytest.approx(
        [1.0, float(vectors[6] @ vectors[5])], abs=1e-5
    )
    loaded.remove([5])
    assert np.isnan(loaded.scores(vectors[5], np.array([5], dtype=np.int64))[0])


def test_a_grown_ivf_retrains_aside_and_keeps_every_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 4× the size it was trained for, the IVF re-trains on a thread; searches answer from the old
    lists meanwhile, and the adds and removes made during the build are all in the swapped-in index."""
    import threading

    from kb.search import vectors as module

    release, building = threading.Event(), threading.Event()
    real = module.train_ivf

    def held(*args: object, **kwargs: object) -> object:
        if threading.current_thread().name == "kb-ivf-retrain":
            building.set()
            assert release.wait(timeout=60)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "train_ivf", held)
    index = FaissIndex(DIM, ann_threshold=100, nprobe=10_000)
    pool = unit(700)
    ids = np.arange(1000, 1700, dtype=np.int64)
    index.add(ids[:100], pool[:100])
    assert index.approximate and index.trained_for == 100 and not index.retraining
    index.add(ids[100:400], pool[100:400])  # 400 = 4× the trained size: not yet past it
    assert not index.retraining
    index.add(ids[400:401], pool[400:401])
    assert building.wait(timeout=60) and index.retraining
    old_lists = index._index.nlist
    # during the build: searches answer (old lists), writes land in the live index and the journal
    assert index.search(pool[7], 1)[0][0] == ids[7]
    index.add(ids[401:700], pool[401:700])
    index.remove([int(ids[3]), int(ids[450])])
    index.add(ids[5:6], pool[600:601])  # a replaced vector
    assert index.search(pool[650], 1)[0][0] == ids[650] and index._index.nlist == old_lists
    release.set()
    index.wait_retrained()
    assert not index.retraining and index._index.nlist == module.nlist_for(401) > old_lists
    got_ids, got = index.vectors()
    expected = sorted(set(ids.tolist()) - {int(ids[3]), int(ids[450])})
    assert sorted(got_ids.tolist()) == expected and len(index) == len(expected)
    by_id = dict(zip(got_ids.tolist(), got, strict=True))
    assert np.allclose(by_id[int(ids[5])], pool[600]) and np.allclose(by_id[int(ids[650])], pool[650])
    assert index.search(pool[650], 1)[0][0] == ids[650]
    assert index.scores(pool[0], ids[:1])[0] == pytest.approx(1.0, abs=1e-5)


def test_a_retrained_ivf_retrains_again_only_past_four_times_its_new_size() -> None:
    index = FaissIndex(DIM, ann_threshold=100, nprobe=10_000)
    pool = unit(900)
    index.add(np.arange(100, dtype=np.int64), pool[:100])
    index.add(np.arange(100, 500, dtype=np.int64), pool[100:500])  # 500 > 4 × 100
    assert index.retraining
    index.wait_retrained()
    assert index.trained_for == pytest.approx(500, rel=0.02) and len(index) == 500
    index.add(np.arange(500, 900, dtype=np.int64), pool[500:])  # 900 < 4 × 500
    assert not index.retraining and index.trained_for == pytest.approx(500, rel=0.02)


def test_what_the_protocol_promises_besides_search(index: FaissIndex, request: pytest.FixtureRequest) -> None:
    """``stored`` reads vectors back by id (NaN for an id not stored); ``approximate`` says which kind it is."""
    seam: VectorIndex = index  # typed as the indexer holds it
    assert not seam.approximate  # empty: flat until the first add
    ids, vectors = filled(index)
    assert seam.approximate is ("ivf" in request.node.callspec.id)
    back = seam.stored(np.array([ids[3], 999_999, ids[0]], dtype=np.int64))
    assert np.allclose(back[[0, 2]], vectors[[3, 0]], atol=1e-6) and np.isnan(back[1]).all()
    assert len(seam) == len(ids) and seam.dim == DIM
