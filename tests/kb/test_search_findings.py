"""One hit per finding, applied by the searcher (kb.search.findings through Searcher.search)."""

from __future__ import annotations

from typing import Any

import pytest

from kb.engine import KnowledgeBase
from kb.record.models import DocumentDraft, Kind, Status
from kb.record.store import document_id
from kb.search.searcher import Filters

RETRO = "/retro.md"
RETRO_ID = document_id(RETRO, "main")
OVERVIEW = (
    "The cutover weekend ran on the data centre generator after a storm took the grid down. " * 6
)  # a chunk alone
EVENT = "The integration environment was booked too late, so the vendor tested on their own laptops."
LESSON = "Book the shared integration environment when the contract is signed, not when testing starts."


def _add(kb: KnowledgeBase, path: str, *drafts: dict[str, Any]) -> None:
    kb.store.replace_source(path, "h", [DocumentDraft.model_validate(d) for d in drafts])


@pytest.fixture
def kb(knowledge_base: KnowledgeBase) -> KnowledgeBase:
    retro_body = f"## Overview\n\n{OVERVIEW}\n\n## Lessons\n\n### Book environments early\n\n**What happened**: {EVENT}\n\n**Lesson**: {LESSON}\n"
    _add(
        knowledge_base,
        RETRO,
        {"kind": Kind.retrospective, "title": "Billing platform retrospective", "body": retro_body, "groups": ["pmo"]},
        {
            "kind": Kind.lesson,
            "title": "Book environments early",
            "body": f"## What happened\n\n{EVENT}\n\n## Lesson\n\n{LESSON}",
            "parent_id": RETRO_ID,
            "key": "lesson-1",
        },
    )
    weekly = "Weekly status report: schedule, risks, decisions needed. " * 3
    _add(
        knowledge_base,
        "/v1.md",
        {"kind": Kind.template, "title": "Status report v1", "body": weekly * 3, "status": Status.superseded},
    )
    _add(
        knowledge_base,
        "/v2.md",
        {"kind": Kind.template, "title": "Status report v2", "body": weekly, "supersedes": "Status report v1"},
    )
    faq = {
        "kind": Kind.faq,
        "title": "How do I claim travel expenses?",
        "body": "Submit the expense form to finance within 30 days.",
    }
    _add(knowledge_base, "/faq-a.md", faq)
    _add(knowledge_base, "/faq-b.md", faq)  # the same FAQ imported twice
    _add(
        knowledge_base,
        "/faq-c.md",
        {**faq, "body": "Travel expenses: ask your project office for the travel policy first."},
    )
    knowledge_base.catch_up()
    return knowledge_base


def _ids(kb: KnowledgeBase, query: str, **kwargs: Any) -> list[str]:
    return [h.document.id for h in kb.searcher.search(query, mode="lexical", **kwargs).hits]


def test_a_lesson_takes_the_slot_of_its_retrospective_for_the_passage_they_share(kb: KnowledgeBase) -> None:
    lesson = document_id(RETRO, "lesson-1")
    result = kb.searcher.search("integration environment booked laptops", mode="lexical")
    assert [h.document.id for h in result.hits] == [lesson]
    assert result.total == 1
    hit = result.hits[0]
    assert hit.parent is not None and hit.parent.id == RETRO_ID and hit.parent.title == "Billing platform retrospective"


def test_a_retrospective_matching_on_its_own_passage_keeps_its_slot(kb: KnowledgeBase) -> None:
    assert len(kb.store.chunks([RETRO_ID])) == 2  # the overview, then the lessons
    lesson = document_id(RETRO, "lesson-1")
    assert _ids(kb, "cutover generator storm grid laptops") == [RETRO_ID, lesson]


def test_a_lesson_names_its_retrospective_only_to_those_who_may_see_it(kb: KnowledgeBase) -> None:
    lesson = document_id(RETRO, "lesson-1")
    hidden = kb.searcher.search(
        "shared integration environment contract", mode="lexical", filters=Filters(visible_to=("sales",))
    )
    assert [(h.document.id, h.parent) for h in hidden.hits] == [(lesson, None)]


def test_a_superseded_version_never_outranks_the_current_one(kb: KnowledgeBase) -> None:
    result = kb.searcher.search("weekly status report risks decisions", mode="lexical")
    by_id = {h.document.id: h for h in result.hits}
    old, new = document_id("/v1.md", "main"), document_id("/v2.md", "main")
    assert by_id[old].score > by_id[new].score  # on its own merits the old version would lead
    assert [h.document.id for h in result.hits][:2] == [new, old]


def test_the_same_faq_imported_twice_is_one_hit_with_one_similar(kb: KnowledgeBase) -> None:
    a, b, c = (document_id(f"/faq-{x}.md", "main") for x in "abc")
    result = kb.searcher.search("claim travel expenses", mode="lexical")
    ids = [h.document.id for h in result.hits]
    assert c in ids and len({a, b} & set(ids)) == 1  # same question, another answer: its own hit
    kept = next(h for h in result.hits if h.document.id in (a, b))
    assert [s.id for s in kept.similar] == list({a, b} - {kept.document.id})
    assert result.total == 2 and dict(result.facets["kind"]) == {"faq": 2}


def test_an_edited_twin_stops_folding_though_its_body_was_remembered(kb: KnowledgeBase) -> None:
    """Bodies are kept by the indexer (kb.search.bodies): an edit re-indexes the document, so a fresh body."""
    a, b = (document_id(f"/faq-{x}.md", "main") for x in "ab")
    assert len({a, b} & set(_ids(kb, "claim travel expenses"))) == 1  # folded, bodies now cached
    _add(
        kb,
        "/faq-b.md",
        {
            "kind": Kind.faq,
            "title": "How do I claim travel expenses?",
            "body": "Hotel nights above the city rate need the sponsor's written approval before booking.",
        },
    )
    kb.catch_up()
    assert {a, b} <= set(_ids(kb, "claim travel expenses"))  # the same question, another answer: two hits
