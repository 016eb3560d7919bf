"""Evaluation metrics against hand-computed values, and BEIR loading errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from kb.errors import InvalidInput
from kb.record.models import Kind
from kb.search.evaluation import corpus_drafts, load_beir, mrr_at, ndcg_at, paired_difference, recall_at, set_kind


def test_ndcg_uses_exponential_gain() -> None:
    grades = {"a": 2, "b": 1}
    # ranking b, x, a: DCG = (2^1-1)/log2(2) + (2^2-1)/log2(4) = 1 + 1.5; IDCG = 3/1 + 1/log2(3)
    expected = (1 + 3 / 2) / (3 + 1 / math.log2(3))
    assert ndcg_at(["b", "x", "a"], grades) == pytest.approx(expected)
    assert ndcg_at(["a", "b"], grades) == pytest.approx(1.0)
    assert ndcg_at(["x"], {}) == 0.0


def test_recall_and_mrr_count_grade_one_and_above_in_the_top_k() -> None:
    grades = {"a": 2, "b": 1, "c": 0}
    assert recall_at(["c", "b"], grades) == 0.5
    assert mrr_at(["c", "x", "a"], grades) == pytest.approx(1 / 3)
    assert mrr_at(["x"] * 10 + ["a"], grades) == 0.0
    assert recall_at(["x"] * 10 + ["a"], grades) == 0.0


def test_load_beir_reads_the_three_files(tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "title": "T", "text": "x"}\n', encoding="utf-8")
    (tmp_path / "queries.jsonl").write_text(
        '{"_id": "q1", "text": "x?"}\n{"_id": "q2", "text": "y?"}\n', encoding="utf-8"
    )
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\n", encoding="utf-8")
    data = load_beir(tmp_path)
    assert data.corpus == {"d1": ("T", "x")} and data.queries == {"q1": "x?"} and data.qrels == {"q1": {"d1": 2}}


def test_load_beir_names_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"corpus\.jsonl is missing"):
        load_beir(tmp_path)
    (tmp_path / "corpus.jsonl").write_text("{not json\n", encoding="utf-8")
    (tmp_path / "queries.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text("q\td\t1\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"corpus\.jsonl:1: not valid JSON"):
        load_beir(tmp_path)


def test_paired_difference_tells_a_real_gap_from_noise() -> None:
    rng = np.random.default_rng(1)
    a = rng.random(2000)
    steady = paired_difference(a, a + 0.01)
    assert steady.mean == pytest.approx(0.01) and steady.low == pytest.approx(0.01) == steady.high
    noise = paired_difference(a, a + rng.normal(0.0, 0.2, 2000))
    assert noise.low < 0 < noise.high
    better = paired_difference(a, a + rng.normal(0.05, 0.2, 2000))
    assert 0 < better.low < 0.05 < better.high
    with pytest.raises(ValueError, match="same queries"):
        paired_difference([0.1], [0.1, 0.2])


def test_corpus_entries_are_stored_as_the_ingesters_store_their_kind(tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text(
        '{"_id": "1", "title": "", "text": "Question: 転入届は？\\nAnswer: 窓口で。\\n"}\n'
        '{"_id": "2", "title": "Vendor selection", "text": "Question: not a Q/A entry: it has a title"}\n',
        encoding="utf-8",
    )
    (tmp_path / "queries.jsonl").write_text('{"_id": "q", "text": "転入"}\n', encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq\t1\t1\n", encoding="utf-8")
    data = load_beir(tmp_path)
    faq, titled = corpus_drafts(data, Kind.faq)
    assert (faq.kind, faq.title, faq.body) == (Kind.faq, "転入届は？", "窓口で。")
    assert (titled.title, titled.body) == ("Vendor selection", "Question: not a Q/A entry: it has a title")
    lesson = corpus_drafts(data, Kind.lesson)[0]
    assert (lesson.kind, lesson.title) == (Kind.lesson, "")
    assert set_kind(Path("x/en_llis_title2lesson")) is Kind.lesson and set_kind(tmp_path) is Kind.faq
