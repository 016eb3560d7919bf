"""Recurring-problem clusters: the pure parts on hand-made data, visibility, and the demo with the real model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pytest

from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.pmo import clusters
from kb.search.indexer import DocInfo
from tests.web.conftest import load_demo


def test_similarity_mixes_dense_and_lexical_and_uses_dense_alone_across_languages() -> None:
    dense = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 0.0, 1.0]])
    terms = [["vendor", "delay"], ["vendor", "delay"], ["ベンダー"]]
    plain = clusters.similarity(dense, terms, 0.5)
    assert plain.shape == (3, 3) and np.allclose(np.diag(plain), 1.0)
    dense_only = clusters.similarity(dense, [[], [], []], 1.0)
    mixed = clusters.similarity(dense, terms, 0.5, ["en", "en", "ja"])
    assert mixed[0, 1] == pytest.approx(0.5 * dense_only[0, 1] + 0.5 * 1.0)  # same words, same language
    assert mixed[0, 2] == pytest.approx(dense_only[0, 2])  # across languages: the dense cosine alone


def test_cluster_groups_by_average_linkage_and_drops_singletons() -> None:
    sim = np.array(
        [
            [1.0, 0.9, 0.8, 0.1],
            [0.9, 1.0, 0.5, 0.0],
            [0.8, 0.5, 1.0, 0.2],
            [0.1, 0.0, 0.2, 1.0],
        ]
    )
    assert clusters.cluster(sim, 0.6) == [[0, 1, 2]]  # average of 0.5 and 0.8 joins 2; 3 stays alone
    assert clusters.cluster(sim, 0.85) == [[0, 1]]
    assert clusters.cluster(sim[:1, :1], 0.5) == []


def _info(doc_id: str, project: str, date: str, groups: list[str] | None = None) -> DocInfo:
    return DocInfo(doc_id, "lesson", f"title {doc_id}", "en", project, None, [], "published", date, [1], groups or [])


def test_view_shows_only_visible_members_and_never_labels_with_a_hidden_one() -> None:
    docs = {
        "a": _info("a", "ERP", "2026-06-01", ["finance"]),
        "b": _info("b", "CRM", "2024-05-01"),
        "c": _info("c", "CRM", "2026-01-01"),
        "d": _info("d", "HR", "2025-01-01", ["finance"]),
        "e": _info("e", "HR", "2025-02-01"),
    }
    found = clusters.Clustering((("a", "b", "c"), ("d", "e")), seq=1)
    today = dt.date(2026, 12, 3)
    everyone = clusters.view(found, docs, lambda g: True, today=today)
    assert [(c.label, c.count, c.projects, c.first, c.last) for c in everyone] == [
        ("title a", 3, ["CRM", "ERP"], "2024-05-01", "2026-06-01"),
        ("title d", 2, ["HR"], "2025-01-01", "2025-02-01"),
    ]
    assert everyone[0].recurring and not everyone[1].recurring
    assert everyone[0].trend == "rising" and everyone[0].per_year == [("2024", 1), ("2026", 2)]
    outsider = clusters.view(found, docs, lambda g: not g, today=today)
    assert [(c.label, [d.id for d in c.lessons], c.projects) for c in outsider] == [("title b", ["b", "c"], ["CRM"])]


def test_cache_recomputes_only_when_the_indexes_moved(knowledge_base: KnowledgeBase) -> None:
    from kb.record.models import DocumentDraft, Kind

    for n, title in enumerate(["Vendor selection slipped", "Vendor selection slipped again", "Cloud bill"]):
        knowledge_base.store.replace_source(f"/{n}.md", "1", [DocumentDraft(kind=Kind.lesson, title=title, body=title)])
    knowledge_base.catch_up(save=False)
    cache = clusters.ClusterCache(lambda: knowledge_base.indexer)
    assert cache.current() is None
    first = cache.refresh()
    assert cache.refresh() is first and first.seq == knowledge_base.indexer.seq
    knowledge_base.store.replace_source("/3.md", "1", [DocumentDraft(kind=Kind.lesson, title="New", body="x")])
    knowledge_base.catch_up(save=False)
    assert cache.refresh() is not first


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("clusters") / "data")
    load_demo(settings)
    kb = KnowledgeBase.open(settings)
    kb.catch_up(save=False)
    yield kb
    kb.close()


@pytest.mark.slow
def test_demo_vendor_selection_lessons_of_two_projects_and_languages_cluster_together(demo: KnowledgeBase) -> None:
    found = clusters.view(clusters.compute(demo.indexer), demo.indexer.docs, lambda g: True)
    vendor = [c for c in found if any("ベンダ" in d.title for d in c.lessons)]
    assert len(vendor) == 1, [[d.title for d in c.lessons] for c in found]
    (cluster,) = vendor
    assert set(cluster.projects) == {"CRM Migration", "基幹システム刷新"}
    assert {d.language for d in cluster.lessons} == {"ja", "en"}
    assert any("Timebox vendor selection" in d.title for d in cluster.lessons)
    assert not any("UAT" in d.title or "クラウド" in d.title for d in cluster.lessons)


def test_one_project_spelled_two_ways_is_one_project_not_a_recurrence() -> None:
    docs = {
        "a": _info("a", "Deep Space Network (DSN)", "2025-01-01"),
        "b": _info("b", "DSN", "2025-02-01"),
        "c": _info("c", "deep space network", "2025-03-01"),
        "d": _info("d", "Space Shuttle Program", "2025-01-01"),
        "e": _info("e", "The Space Shuttle program", "2025-02-01"),
        "f": _info("f", "Space Shuttle Program", "2025-03-01"),
        "g": _info("g", "Constellation", "2025-04-01"),
    }
    found = clusters.Clustering((("a", "b", "c"), ("d", "e", "f", "g")), seq=1)
    seen = clusters.view(found, docs, lambda g: True, today=dt.date(2026, 1, 1))
    assert [(c.label, c.projects, c.recurring) for c in seen] == [
        ("title d", ["Constellation", "Space Shuttle Program"], True),  # shown as most lessons write it
        ("title a", ["Deep Space Network (DSN)"], False),
    ]
