"""Template and procedure lifecycle: every legal move, every illegal one, and who may make it."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from kb.errors import Conflict, Forbidden, InvalidInput, NotFound
from kb.identity.access import Principal
from kb.pmo.actions import action_of, actions, adopted_into, set_action
from kb.pmo.lifecycle import MOVES, Action, allowed_actions, family, history, move, overdue, version_key
from kb.record.models import ActionStatus, DocumentDraft, Kind, Role, Status
from kb.record.store import SqlStore

ADMIN = Principal("boss", Role.pmo_admin, via="session")
AUTHOR = Principal("tanaka", Role.contributor, via="session")
OTHER = Principal("sato", Role.contributor, via="session")
READER = Principal("yamada", Role.reader, via="session")


def _standard(store: SqlStore, status: Status, *, by: str = "tanaka", **fields: object) -> str:
    values = {"kind": Kind.template, "title": "Vendor evaluation sheet", "body": "score", "status": status, **fields}
    return str(store.create(DocumentDraft.model_validate(values), by=by).id)


LEGAL = [(a, s) for a, s in itertools.product(Action, Status) if s in MOVES[a][0]]  # Status order, not a set's
ILLEGAL = [(a, s) for a, s in itertools.product(Action, Status) if s not in MOVES[a][0]]


@pytest.mark.parametrize(("action", "start"), LEGAL, ids=[f"{a.value}-from-{s.value}" for a, s in LEGAL])
def test_every_legal_move_as_a_pmo_admin(sqlite_store: SqlStore, action: Action, start: Status) -> None:
    doc_id = _standard(sqlite_store, start)
    today = dt.date(2026, 12, 3)
    moved = move(sqlite_store, doc_id, action, by=ADMIN, comment="fix the weights", today=today, review_days=90)
    assert moved.document.status is MOVES[action][1]
    assert sqlite_store.get(doc_id).status is MOVES[action][1]
    if action is Action.verify:
        assert moved.document.review_by == dt.date(2027, 3, 3)
    (event,) = history(sqlite_store, doc_id)
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        action.value,
        start,
        MOVES[action][1],
        "boss",
    )


@pytest.mark.parametrize(("action", "start"), ILLEGAL, ids=[f"{a.value}-from-{s.value}" for a, s in ILLEGAL])
def test_every_illegal_move_is_a_conflict_and_changes_nothing(
    sqlite_store: SqlStore, action: Action, start: Status
) -> None:
    doc_id = _standard(sqlite_store, start)
    seq = sqlite_store.last_seq()
    with pytest.raises(Conflict, match=f"cannot {action.value} a document that is {start.value}"):
        move(sqlite_store, doc_id, action, by=ADMIN, comment="x")
    assert sqlite_store.get(doc_id).status is start and sqlite_store.last_seq() == seq
    assert history(sqlite_store, doc_id) == []


def test_contributor_submits_admin_returns_with_a_comment_then_approves(sqlite_store: SqlStore) -> None:
    doc_id = _standard(sqlite_store, Status.draft)
    assert allowed_actions(sqlite_store.get(doc_id), AUTHOR) == [Action.submit]
    assert allowed_actions(sqlite_store.get(doc_id), OTHER) == []
    with pytest.raises(Forbidden):
        move(sqlite_store, doc_id, Action.submit, by=OTHER)  # not theirs
    move(sqlite_store, doc_id, Action.submit, by=AUTHOR)
    for action in (Action.approve, Action.return_, Action.archive):
        with pytest.raises(Forbidden, match="only a PMO admin"):
            move(sqlite_store, doc_id, action, by=AUTHOR, comment="x")
    with pytest.raises(InvalidInput, match="needs a comment"):
        move(sqlite_store, doc_id, Action.return_, by=ADMIN, comment="  ")
    move(sqlite_store, doc_id, Action.return_, by=ADMIN, comment="Add the cost criteria")
    assert sqlite_store.get(doc_id).status is Status.draft
    assert history(sqlite_store, doc_id)[0].comment == "Add the cost criteria"
    move(sqlite_store, doc_id, Action.submit, by=AUTHOR)
    assert set(allowed_actions(sqlite_store.get(doc_id), ADMIN)) == {Action.approve, Action.return_, Action.archive}
    move(sqlite_store, doc_id, Action.approve, by=ADMIN)
    assert sqlite_store.get(doc_id).status is Status.published
    assert [e.action for e in history(sqlite_store, doc_id)] == ["approve", "submit", "return", "submit"]


def test_readers_and_outsiders_cannot_move_anything(sqlite_store: SqlStore) -> None:
    doc_id = _standard(sqlite_store, Status.published)
    with pytest.raises(Forbidden):
        move(sqlite_store, doc_id, Action.verify, by=READER)
    hidden = _standard(sqlite_store, Status.published, groups=["finance"])
    with pytest.raises(NotFound):
        move(sqlite_store, hidden, Action.archive, by=Principal("x", Role.contributor, frozenset({"hr"}), "session"))
    lesson = str(sqlite_store.create(DocumentDraft(kind=Kind.lesson, title="L")).id)
    with pytest.raises(InvalidInput, match="only templates and procedures"):
        move(sqlite_store, lesson, Action.archive, by=ADMIN)


def test_approving_a_new_version_supersedes_the_published_one(sqlite_store: SqlStore) -> None:
    v1 = _standard(sqlite_store, Status.published, title="Status report v1", version="1.0")
    v2 = _standard(
        sqlite_store, Status.in_review, title="Status report v2", version="2.0", supersedes="Status report v1"
    )
    other = _standard(sqlite_store, Status.published, title="Risk register", version="1.0")
    moved = move(sqlite_store, v2, Action.approve, by=ADMIN)
    assert [d.id for d in moved.superseded] == [v1]
    assert sqlite_store.get(v1).status is Status.superseded and sqlite_store.get(other).status is Status.published
    assert history(sqlite_store, v1)[0].comment == f"superseded by {v2}"
    versions = family(sqlite_store.documents(kind=Kind.template), sqlite_store.get(v1))
    assert [d.id for d in versions] == [v2, v1]


def test_verify_by_owner_resets_the_review_date_and_overdue_lists_are_per_owner(sqlite_store: SqlStore) -> None:
    today = dt.date(2026, 12, 3)
    mine = _standard(sqlite_store, Status.published, by="cli", owner="tanaka", review_by=dt.date(2026, 1, 31))
    theirs = _standard(sqlite_store, Status.published, by="sato", review_by=dt.date(2026, 6, 1), title="B")
    _standard(sqlite_store, Status.published, review_by=dt.date(2027, 6, 1), title="not due")
    _standard(sqlite_store, Status.superseded, review_by=dt.date(2020, 6, 1), title="retired")
    docs = sqlite_store.documents()
    assert [d.id for d in overdue(docs, today)] == [mine, theirs]
    assert [d.id for d in overdue(docs, today, AUTHOR)] == [mine]
    assert [d.id for d in overdue(docs, today, OTHER)] == [theirs]
    with pytest.raises(Forbidden, match="owner"):
        move(sqlite_store, mine, Action.verify, by=OTHER)
    move(sqlite_store, mine, Action.verify, by=AUTHOR, today=today, review_days=180)
    assert sqlite_store.get(mine).review_by == today + dt.timedelta(days=180)
    assert [d.id for d in overdue(sqlite_store.documents(), today, AUTHOR)] == []


def test_version_key_compares_numbers_as_numbers() -> None:
    assert sorted(["1.10", "1.9", "2.0", None, "1.9a"], key=version_key) == [None, "1.9", "1.9a", "1.10", "2.0"]


def test_lesson_action_status_links_both_ways(sqlite_store: SqlStore) -> None:
    lesson = str(sqlite_store.create(DocumentDraft(kind=Kind.lesson, title="Agree criteria early"), by="tanaka").id)
    template = _standard(sqlite_store, Status.published, version="1.1")
    faq = str(sqlite_store.create(DocumentDraft(kind=Kind.faq, title="Q")).id)
    assert action_of(sqlite_store, lesson) is None  # open
    with pytest.raises(InvalidInput, match="which template"):
        set_action(sqlite_store, lesson, ActionStatus.adopted, by=AUTHOR)
    with pytest.raises(InvalidInput, match="not a faq"):
        set_action(sqlite_store, lesson, ActionStatus.adopted, by=AUTHOR, target_id=faq)
    with pytest.raises(InvalidInput, match="why"):
        set_action(sqlite_store, lesson, ActionStatus.not_adopted, by=AUTHOR)
    with pytest.raises(Forbidden):
        set_action(sqlite_store, lesson, ActionStatus.not_adopted, by=OTHER, reason="no")
    row = set_action(sqlite_store, lesson, ActionStatus.adopted, by=AUTHOR, target_id=template)
    assert row is not None and (row.target_id, row.target_version, row.actor) == (template, "1.1", "tanaka")
    assert [a.lesson_id for a in adopted_into(sqlite_store, template)] == [lesson]
    set_action(sqlite_store, lesson, ActionStatus.not_adopted, by=ADMIN, reason="covered by the RFP rules")
    assert adopted_into(sqlite_store, template) == []
    assert actions(sqlite_store)[lesson].reason == "covered by the RFP rules"
    assert set_action(sqlite_store, lesson, ActionStatus.open, by=ADMIN) is None
    assert actions(sqlite_store) == {}
    with pytest.raises(InvalidInput, match="only lessons"):
        set_action(sqlite_store, template, ActionStatus.open, by=ADMIN)
