"""Search the demo knowledge base with the real offline embedder, in Japanese, English and across them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.search.searcher import Filters

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    data = tmp_path_factory.mktemp("demo") / "data"
    result = CliRunner().invoke(app, ["demo", "--data-dir", str(data)])
    assert result.exit_code == 0, result.stdout
    kb = KnowledgeBase.open(Settings(data_dir=data))
    assert kb.indexer.pending() == 0  # `kb demo` indexed and saved a generation
    yield kb
    kb.close()


def titles(kb: KnowledgeBase, query: str, weak: bool = False, **filters: tuple[str, ...]) -> list[str]:
    return [h.document.title for h in kb.searcher.search(query, filters=Filters(**filters), limit=5, weak=weak).hits]


def test_japanese_query_finds_japanese_vendor_lessons(demo: KnowledgeBase) -> None:
    top = titles(demo, "ベンダー選定 遅延")
    assert any("ベンダ" in t and "選定" in t for t in top[:3]), top


def test_spelling_variants_match(demo: KnowledgeBase) -> None:
    # ベンダ (no long vowel mark) and full-width letters must find the same lessons as ベンダー
    assert set(titles(demo, "ベンダ選定")[:3]) & set(titles(demo, "ベンダー選定")[:3])


def test_english_query_finds_english_vendor_lessons(demo: KnowledgeBase) -> None:
    top = titles(demo, "vendor selection delays")
    assert any("vendor" in t.lower() or "selection" in t.lower() for t in top[:3]), top


def test_japanese_query_finds_english_lessons_and_back(demo: KnowledgeBase) -> None:
    english = titles(demo, "ベンダー選定の遅延", languages=("en",), kinds=("lesson",))
    assert any("select" in t.lower() or "vendor" in t.lower() for t in english[:3]), english
    # English → Japanese is the weakest pair: the demo's handover lesson is the best match but below the
    # confidence line (strength 0.66: cosine 0.24, few glosses in common), so it is the first weak match
    japanese = titles(demo, "knowledge lost at handover", weak=True, languages=("ja",))
    assert any("引き継ぎ" in t or "引継ぎ" in t or "移管" in t for t in japanese[:3]), japanese


def test_faq_found_from_a_differently_worded_question(demo: KnowledgeBase) -> None:
    hits = demo.searcher.search(
        "How many days does it take to get a change approved?", limit=5, filters=Filters(kinds=("faq",))
    ).hits
    assert hits and hits[0].document.kind == "faq"


def test_cli_search_json_and_explain(demo: KnowledgeBase) -> None:
    result = CliRunner().invoke(
        app,
        ["search", "スコープ 変更", "--json", "--explain", "--limit", "3", "--data-dir", str(demo.settings.data_dir)],
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["hits"] and {"lexical_rank", "dense_rank", "matched_words", "via_translation", "match"} <= set(
        data["hits"][0]["explanation"]
    )
    assert data["hits"][0]["highlights"]


def test_cli_reindex_keeps_results(demo: KnowledgeBase, tmp_path: Path) -> None:
    before = titles(demo, "テストデータ 準備")
    result = CliRunner().invoke(app, ["reindex", "--data-dir", str(demo.settings.data_dir)])
    assert result.exit_code == 0 and "indexed" in result.stdout
    reopened = KnowledgeBase.open(demo.settings, embedder=demo.embedder)
    assert titles(reopened, "テストデータ 準備") == before
    reopened.close()
