"""Folded facets: one project, phase or tag however documents spell it, on hand-made values and a small store."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kb.engine import KnowledgeBase
from kb.pmo.vocabulary import Vocabulary
from kb.record.models import DocumentDraft, Kind
from kb.search.facets import FacetFolding, fold_project, merged_counts, most_written, project_keys
from kb.search.indexer import DocInfo
from kb.search.searcher import FACETS, Filters


def test_fold_project_ignores_case_width_spacing_the_generic_word_and_a_trailing_acronym() -> None:
    same = [
        "Deep Space Network (DSN)",
        "deep space network",
        "Ｄｅｅｐ　Space  Network",
        "Deep Space Network（DSN）",
        "Deep-Space Network",
    ]
    assert {fold_project(n) for n in same} == {"deepspacenetwork"}
    gsdo = [
        "Ground Systems Development and Operations",
        "Ground Systems Development and Operations (GSDO)",
        "Ground Systems Development and Operations (GSDO) Program",
        "Ground Systems Development and Operations Program (GSDO)",
        "Ground Systems Development & Operations",
    ]
    assert {fold_project(n) for n in gsdo} == {"groundsystemsdevelopmentoperations"}  # "and" is "&"
    shuttle = ["Space Shuttle Program", "The Space Shuttle Program", "Space shuttle program", "Space Shuttle"]
    assert {fold_project(n) for n in shuttle} == {"spaceshuttle"}
    assert (
        fold_project("人事システム クラウド移行プロジェクト")
        == fold_project("人事システムクラウド移行")
        == "人事システムクラウド移行"
    )
    # what stays apart: a bracket that is not an acronym, a different name, a name that is only the generic word
    assert fold_project("UESC (phase 1)") == "uescphase1"
    assert fold_project("Mars 2020") != fold_project("Mars Science Laboratory (MSL)")
    assert fold_project("Program") == "program" and fold_project("DSN") == "dsn"


def test_a_bare_acronym_joins_the_one_name_written_with_it() -> None:
    keys = project_keys(["Deep Space Network (DSN)", "DSN", "dsn", "International Space Station", "ISS"])
    assert keys["DSN"] == keys["dsn"] == keys["Deep Space Network (DSN)"] == "deepspacenetwork"
    assert keys["ISS"] == "iss"  # no name in the set is written with "(ISS)": the acronym stays itself
    ambiguous = project_keys(["Mars Exploration Rover (MER)", "Mars Entry Robot (MER)", "MER"])
    assert ambiguous["MER"] == "mer" and len(set(ambiguous.values())) == 3


def test_merged_counts_count_a_document_once_per_key_and_show_the_most_written_spelling() -> None:
    key_of = {"risk": "risk", "リスク": "risk", "Risk": "risk", "A b": "\0ab", "a  B": "\0ab", "AB": "\0ab"}
    per_doc = [["risk", "リスク"], ["Risk"], ["A b"], ["a  B", "AB"], ["a  B"]]
    # risk: 2 documents (the first writes both spellings); ab: 3 documents, "a  B" written twice
    assert merged_counts(per_doc, key_of) == [("a  B", 3), ("risk", 2)]
    assert most_written(Counter({"DSN": 1, "Deep Space Network (DSN)": 1})) == "Deep Space Network (DSN)"


def _doc(n: int, project: str | None, phase: str | None, tags: list[str]) -> DocInfo:
    return DocInfo(str(n), "lesson", f"t{n}", "en", project, phase, tags, "published", None, [n])


def test_counts_and_filters_fold_projects_phases_and_tags() -> None:
    folding = FacetFolding(Vocabulary.load(None))
    docs = [
        _doc(1, "Deep Space Network (DSN)", "Implementation » Phase D", ["risk", "Safety and Mission Assurance"]),
        _doc(2, "DSN", "test", ["Risk", "vendor management"]),
        _doc(3, "deep space network", "テスト", ["リスク", "ベンダー管理"]),
        _doc(4, "Space Shuttle Program", "Implementation » Phase E", ["リスク", "risk", "Safety & Mission Assurance"]),
        _doc(5, "Space Shuttle Program", "Approval", []),
        _doc(6, "The Space Shuttle Program", "approval", []),
    ]
    facets = folding.counts(docs, ("project", "phase", "tags", "kind"))
    assert facets["project"] == [("Deep Space Network (DSN)", 3), ("Space Shuttle Program", 3)]
    assert facets["phase"] == [("test", 3), ("Approval", 2), ("operations", 1)]
    assert facets["tags"] == [("risk", 4), ("Safety and Mission Assurance", 2), ("vendor management", 2)]
    assert facets["kind"] == [("lesson", 6)]
    present = {"project": {d.project for d in docs if d.project}, "phase": {d.phase for d in docs if d.phase}}
    present["tags"] = {t for d in docs for t in d.tags}
    wide = folding.expand(Filters(projects=("DSN",), phases=("テスト",), tags=("リスク",)), present)
    assert wide.projects == ("DSN", "Deep Space Network (DSN)", "deep space network")
    assert wide.phases == ("Implementation » Phase D", "test", "テスト")
    assert wide.tags == ("Risk", "risk", "リスク")
    assert folding.expand(Filters(tags=("safety & mission assurance",)), present).tags == (
        "Safety & Mission Assurance",
        "Safety and Mission Assurance",
        "safety & mission assurance",
    )
    assert folding.expand(Filters(kinds=("faq",)), present) == Filters(kinds=("faq",))


MIXED = [
    ("Deep Space Network (DSN)", "Implementation » Phase D", ["risk", "Safety and Mission Assurance"], "en"),
    ("DSN", "test", ["Risk", "vendor management"], "en"),
    ("deep space network", "テスト", ["リスク", "ベンダー管理"], "ja"),
    ("Ｄｅｅｐ Space Network", "結合テスト", ["リスク", "risk"], "ja"),
    ("Space Shuttle Program", "Implementation » Phase E", ["Safety & Mission Assurance"], "en"),
    ("The Space Shuttle Program", "operations", [], "en"),
    ("Space Shuttle Program", "運用", [], "en"),
]


@pytest.fixture
def mixed(knowledge_base: KnowledgeBase) -> KnowledgeBase:
    """Seven lessons about one antenna fault, in two languages, each spelling project, phase and tags its own way."""
    for n, (project, phase, tags, language) in enumerate(MIXED):
        body = "アンテナ axolotl の故障が再発した。" if language == "ja" else "The axolotl antenna failed again."
        draft = DocumentDraft(
            kind=Kind.lesson,
            title=f"axolotl {n}",
            body=body,
            language=language,
            project=project,
            phase=phase,
            tags=tags,
        )
        knowledge_base.store.replace_source(f"/{n}.md", "1", [draft])
    knowledge_base.catch_up(save=False)
    return knowledge_base


def test_a_mixed_store_shows_merged_facets_and_a_click_finds_every_spelling(mixed: KnowledgeBase) -> None:
    result = mixed.searcher.search("axolotl", limit=20, mode="lexical")
    assert result.total == 7
    assert result.facets["project"] == [("Deep Space Network (DSN)", 4), ("Space Shuttle Program", 3)]
    assert result.facets["phase"] == [("test", 4), ("operations", 3)]
    assert result.facets["tags"] == [("risk", 4), ("Safety and Mission Assurance", 2), ("vendor management", 2)]
    for facet, value in [(f, v) for f in ("project", "phase", "tags") for v, _ in result.facets[f]]:
        filters = Filters.of(**{{"project": "projects", "phase": "phases", "tags": "tags"}[facet]: [value]})
        clicked = mixed.searcher.search("axolotl", filters=filters, limit=20, mode="lexical")
        assert clicked.total == dict(result.facets[facet])[value], (facet, value)
        assert clicked.filters == filters  # what was asked, so the page marks the value selected
    # a spelling from an old link, another language or a bare acronym finds the same documents
    for filters in (Filters(projects=("DSN",)), Filters(phases=("結合テスト",)), Filters(tags=("リスク",))):
        assert mixed.searcher.search("axolotl", filters=filters, limit=20, mode="lexical").total == 4
    written = {h.document.project for h in mixed.searcher.search("axolotl", limit=20, mode="lexical").hits}
    assert "DSN" in written and "deep space network" in written  # the documents keep what was written
    assert set(result.facets) == set(FACETS)


def test_the_cli_filters_by_every_spelling_as_the_api_does(
    mixed: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import json
    from collections.abc import Iterator
    from contextlib import contextmanager

    from cli import search as cli_search
    from cli.main import app

    @contextmanager
    def same_kb(data_dir: Path | None) -> Iterator[KnowledgeBase]:
        yield mixed

    monkeypatch.setattr(cli_search, "kb_for", same_kb)
    out = CliRunner().invoke(app, ["search", "axolotl", "--project", "DSN", "--mode", "lexical", "--json"]).stdout
    projects = {h["project"] for h in json.loads(out)["hits"]}
    assert projects == {"Deep Space Network (DSN)", "DSN", "deep space network", "Ｄｅｅｐ Space Network"}
