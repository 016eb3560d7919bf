"""One hit per finding (kb.search.findings): each rule on hand-made lists, relations and vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from kb.search.findings import (
    IDENTICAL,
    DuplicateLine,
    Finding,
    current_versions,
    near_duplicates,
    one_hit_per_finding,
    shares_passage,
    unit_means,
    version_titles,
)


def _fold(
    ranked: list[tuple[str, float]],
    *,
    kinds: dict[str, str] | None = None,
    parents: dict[str, str] | None = None,
    passages: dict[str, frozenset[str]] | None = None,
    current: dict[str, str] | None = None,
    pairs: set[frozenset[str]] | None = None,
) -> list[Finding]:
    twins: dict[str, set[str]] = {}
    for pair in pairs or set():
        a, b = sorted(pair)
        twins.setdefault(a, set()).add(b)
        twins.setdefault(b, set()).add(a)
    return one_hit_per_finding(
        ranked,
        kinds=kinds or {d: "lesson" for d, _ in ranked},
        parents=parents or {},
        passages=passages or {},
        current=current or {},
        duplicates=twins,
    )


def test_nothing_to_fold_keeps_the_list_as_it_is() -> None:
    ranked = [("a", 3.0), ("b", 2.0), ("c", 1.0)]
    assert _fold(ranked) == [Finding("a", 3.0), Finding("b", 2.0), Finding("c", 1.0)]


def test_a_retired_version_moves_just_below_its_current_version() -> None:
    ranked = [("old", 3.0), ("x", 2.5), ("new", 2.0), ("y", 1.0)]
    found = _fold(ranked, current={"old": "new"})
    assert [f.doc_id for f in found] == ["x", "new", "old", "y"]
    assert found[2].score == 3.0  # its own score, below the current version all the same


def test_a_retired_version_keeps_its_place_when_its_current_version_is_not_listed() -> None:
    ranked = [("old", 3.0), ("x", 2.0)]
    assert [f.doc_id for f in _fold(ranked, current={"old": "elsewhere"})] == ["old", "x"]


def test_the_lesson_takes_its_retrospectives_place_for_the_passage_they_share() -> None:
    ranked = [("retro", 3.0), ("x", 2.0), ("lesson", 1.0)]
    found = _fold(ranked, parents={"lesson": "retro"}, passages={"retro": frozenset({"lesson"})})
    assert [(f.doc_id, f.score) for f in found] == [("lesson", 1.0), ("x", 2.0)]


def test_a_retrospective_whose_best_passage_is_something_else_keeps_its_place() -> None:
    ranked = [("retro", 3.0), ("x", 2.0), ("lesson", 1.0)]
    found = _fold(ranked, parents={"lesson": "retro"}, passages={"retro": frozenset()})
    assert [f.doc_id for f in found] == ["retro", "x", "lesson"]


def test_the_best_ranked_lesson_of_a_shared_passage_takes_the_place_and_its_sibling_stays() -> None:
    ranked = [("retro", 3.0), ("second", 2.0), ("first", 2.5)]
    parents = {"first": "retro", "second": "retro"}
    found = _fold(ranked, parents=parents, passages={"retro": frozenset({"first", "second"})})
    assert [f.doc_id for f in found] == ["second", "first"]  # "second" ranks better here: it takes place 1


def test_near_duplicates_fold_into_the_best_ranked_one() -> None:
    ranked = [("a", 3.0), ("x", 2.5), ("a2", 2.0), ("a3", 1.0)]
    found = _fold(ranked, pairs={frozenset(("a", "a2")), frozenset(("a", "a3"))})
    assert found == [Finding("a", 3.0, ("a2", "a3")), Finding("x", 2.5)]


def test_a_fold_never_chains_two_documents_that_only_resemble_a_third() -> None:
    ranked = [("a", 3.0), ("b", 2.0), ("c", 1.0)]
    found = _fold(ranked, pairs={frozenset(("a", "b")), frozenset(("b", "c"))})
    assert found == [Finding("a", 3.0, ("b",)), Finding("c", 1.0)]


def test_documents_of_different_kinds_never_fold() -> None:
    ranked = [("a", 3.0), ("b", 2.0)]
    found = _fold(ranked, kinds={"a": "lesson", "b": "faq"}, pairs={frozenset(("a", "b"))})
    assert [f.doc_id for f in found] == ["a", "b"]


def test_a_superseded_near_duplicate_folds_under_the_current_version() -> None:
    ranked = [("old", 3.0), ("new", 2.0)]
    found = _fold(
        ranked, kinds={"old": "template", "new": "template"}, current={"old": "new"}, pairs={frozenset(("old", "new"))}
    )
    assert found == [Finding("new", 2.0, ("old",))]


def test_shares_passage_finds_a_lesson_line_in_the_retrospective_chunk() -> None:
    chunk = "教訓\nベンダー選定は評価基準を先に固める\n事象: RFP発行後に評価項目を追加・変更したため、提案の再提出を依頼した。"
    lesson = (
        "ベンダー選定は評価基準を先に固める\n事象\nRFP発行後に評価項目を追加・変更したため、提案の再提出を依頼した。"
    )
    assert shares_passage(chunk, lesson)
    other = "データクレンジングは要件定義と並行して始める\n事象\n移行対象の取引先マスタに重複が多かった。"
    assert not shares_passage(chunk, other)


def test_shares_passage_ignores_short_lines_and_normalises_width() -> None:
    assert not shares_passage("教訓\n事象\n提言", "教訓\n事象\n提言")  # labels alone are no passage
    assert shares_passage(
        "Ｕｎｉｔ tests must run on every commit, always", "unit tests\nUnit tests must run on every commit, always"
    )


def test_shares_passage_counts_a_line_a_chunk_boundary_cut() -> None:
    lesson = "The integration environment was booked too late, so the vendor tested on their own laptops."
    chunk = "so the vendor tested on their own laptops.\nWhat went well"
    assert shares_passage(chunk, lesson)


def _unit(*rows: list[float]) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_near_duplicates_need_both_the_lead_and_the_body_over_the_line() -> None:
    line = DuplicateLine(lead=0.9, body=0.975)
    leads = _unit([1, 0], [1, 0.1], [1, 0], [np.nan, np.nan])  # cos(a, b) = 0.995; d has no vector
    bodies = _unit([1, 0], [1, 0.1], [1, 0.5], [1, 0])  # cos(a, b) = 0.995, cos(a, c) = 0.894
    pairs = near_duplicates(leads, bodies, line)
    assert pairs.tolist() == [
        [False, True, False, False],
        [True, False, False, False],
        [False, False, False, False],
        [False, False, False, False],
    ]
    assert not near_duplicates(leads[:2], bodies[:2], IDENTICAL).any()  # 0.995 is not the same text
    assert near_duplicates(leads[[0, 2]], bodies[[0, 0]], IDENTICAL).tolist() == [[False, True], [True, False]]


@dataclass
class _Doc:
    id: str
    kind: str
    title: str
    status: str
    supersedes: str | None = None


def test_version_titles_follow_the_chain_both_ways() -> None:
    links = [("v1", None), ("v2", "v1"), ("v3", "v2"), ("other", None)]
    assert version_titles("v1", links) == {"v1", "v2", "v3"}
    assert version_titles("v3", links) == {"v1", "v2", "v3"}
    assert version_titles("other", links) == {"other"}


def test_current_versions_map_each_retired_standard_to_its_published_version() -> None:
    docs = [
        _Doc("1", "template", "Report v1", "superseded"),
        _Doc("2", "template", "Report v2", "archived", supersedes="Report v1"),
        _Doc("3", "template", "Report v3", "published", supersedes="Report v2"),
        _Doc("4", "template", "Lonely", "archived"),
        _Doc("5", "lesson", "Report v1", "superseded"),  # not a standard
        _Doc("6", "procedure", "Report v1", "published"),  # another kind: another standard
    ]
    assert current_versions(docs, frozenset({"template", "procedure"})) == {"1": "3", "2": "3"}


def test_unit_means_normalise_each_run_of_rows_like_a_sum_per_document() -> None:
    rows = np.array([[1, 0], [3, 0], [0, 2], [0, 1], [1, 1], [np.nan, 0]], dtype=np.float32)
    means = unit_means(rows, np.array([2, 1, 2, 1]))
    assert means[:3].tolist() == [[1.0, 0.0], [0.0, 1.0], pytest.approx([0.447214, 0.894427], abs=1e-6)]
    assert np.isnan(means[3]).all()  # a chunk without a vector leaves its document with no body to compare
    wide = np.random.default_rng(1).standard_normal((40, 8)).astype(np.float32)
    sizes = np.array([1, 7, 3, 20, 9])
    sums = np.add.reduceat(wide, np.concatenate(([0], np.cumsum(sizes)[:-1])), axis=0)
    assert np.allclose(unit_means(wide, sizes), sums / np.linalg.norm(sums, axis=1, keepdims=True), atol=1e-6)
