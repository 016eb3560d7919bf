"""Accounts on every store backend: passwords, sessions, tokens, lockout, the audit log, and the access rules."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from kb.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests, Unauthorized
from kb.identity.access import CLI, GuardedStore, Principal, admit, check_edit
from kb.identity.accounts import MAX_FAILURES_PER_LOGIN, Accounts, principal_of
from kb.identity.audit import AuditLog
from kb.record.models import ApiToken, DocumentDraft, Kind, LoginSession, Role, Status
from kb.record.store import SqlStore

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(store: SqlStore) -> Accounts:
    with store.engine.begin() as conn:  # the PostgreSQL store is shared by the session's tests
        for table in ("auditevent", "apitoken", "loginsession", '"user"', '"group"'):
            conn.execute(text(f"DELETE FROM {table}"))
    return Accounts(store.engine, AuditLog(store.engine))


def test_password_login_starts_a_session_that_ends_at_logout(accounts: Accounts) -> None:
    accounts.add_user("tanaka", role=Role.contributor, password=PASSWORD, groups=["infra", " infra", "pmo"])
    user, secret = accounts.login("tanaka", PASSWORD, address="10.0.0.1", hours=1)
    assert user.groups == ["infra", "pmo"] and [g.name for g in accounts.groups()] == ["infra", "pmo"]
    found = accounts.session_user(secret)
    assert found is not None and found.login == "tanaka"
    accounts.end_session(secret)
    assert accounts.session_user(secret) is None


def test_only_hashes_are_stored(accounts: Accounts, store: SqlStore) -> None:
    accounts.add_user("tanaka", role=Role.reader, password=PASSWORD)
    _, session_secret = accounts.login("tanaka", PASSWORD, address=None, hours=1)
    token_secret = accounts.create_token("tanaka", "script").secret
    with store.engine.connect() as conn:
        dump = " ".join(
            str(row)
            for table in ('"user"', "loginsession", "apitoken", "auditevent")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
        )
    assert PASSWORD not in dump and session_secret not in dump and token_secret not in dump
    assert "$argon2id$" in dump


def test_wrong_password_unknown_user_and_disabled_user_are_refused_and_audited(accounts: Accounts) -> None:
    accounts.add_user("tanaka", role=Role.reader, password=PASSWORD)
    with pytest.raises(Unauthorized):
        accounts.login("tanaka", "wrong password!", address="10.0.0.9", hours=1)
    with pytest.raises(Unauthorized):
        accounts.login("nobody", PASSWORD, address="10.0.0.9", hours=1)
    _, secret = accounts.login("tanaka", PASSWORD, address="10.0.0.9", hours=1)
    accounts.update_user("tanaka", active=False)
    assert accounts.session_user(secret) is None  # disabling ends the session
    with pytest.raises(Unauthorized):
        accounts.login("tanaka", PASSWORD, address="10.0.0.9", hours=1)
    failed = accounts.audit.events(action="login_failed")
    assert [e.target for e in failed] == ["tanaka", "nobody", "tanaka"]
    assert all(e.address == "10.0.0.9" for e in failed)


def test_repeated_failures_lock_the_account_even_for_the_right_password(accounts: Accounts) -> None:
    accounts.add_user("tanaka", role=Role.reader, password=PASSWORD)
    for n in range(MAX_FAILURES_PER_LOGIN):
        with pytest.raises(Unauthorized):
            accounts.login("tanaka", f"guess number {n}", address=f"10.0.1.{n}", hours=1)
    with pytest.raises(TooManyRequests):
        accounts.login("tanaka", PASSWORD, address="10.0.2.1", hours=1)
    accounts.add_user("sato", role=Role.reader, password=PASSWORD)
    accounts.login("sato", PASSWORD, address="10.0.2.1", hours=1)  # other accounts are not locked


def test_an_expired_session_is_not_accepted(accounts: Accounts, store: SqlStore) -> None:
    accounts.add_user("tanaka", role=Role.reader, password=PASSWORD)
    _, secret = accounts.login("tanaka", PASSWORD, address=None, hours=1)
    with Session(store.engine) as session:
        row = session.exec(select(LoginSession)).one()
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.add(row)
        session.commit()
    assert accounts.session_user(secret) is None


def test_tokens_check_revoke_cap_the_role_and_record_use(accounts: Accounts, store: SqlStore) -> None:
    accounts.add_user("bot", role=Role.contributor)
    new = accounts.create_token("bot", "nightly import", role_cap=Role.reader)
    assert new.secret.startswith("kb_") and new.token.prefix == new.secret[:9]
    found = accounts.token_user(new.secret)
    assert found is not None
    user, token = found
    assert principal_of(user, "token", token.role_cap).role is Role.reader
    assert principal_of(user, "token", Role.pmo_admin).role is Role.contributor  # a cap never raises
    with Session(store.engine) as session:
        assert session.get(ApiToken, new.token.id).last_used_at is not None  # type: ignore[union-attr]
    assert accounts.token_user(new.secret + "x") is None and accounts.token_user("Bearer") is None
    accounts.revoke_token(new.token.id or 0)
    assert accounts.token_user(new.secret) is None
    assert [a.action for a in reversed(accounts.audit.events())] == ["user_add", "token_create", "token_revoke"]


def test_user_rules(accounts: Accounts) -> None:
    accounts.add_user("tanaka", role=Role.reader)
    with pytest.raises(Conflict):
        accounts.add_user("tanaka", role=Role.reader)
    with pytest.raises(InvalidInput, match="at least"):
        accounts.add_user("sato", role=Role.reader, password="short")
    with pytest.raises(InvalidInput, match="login"):
        accounts.add_user("bad name", role=Role.reader)
    with pytest.raises(NotFound):
        accounts.update_user("nobody", role=Role.reader)
    accounts.update_user("tanaka", role=Role.pmo_admin, by="admin")
    event = accounts.audit.events(action="user_update")[0]
    assert event.actor == "admin" and event.detail == {"role": "reader → pmo_admin"}


def _draft(**fields: object) -> DocumentDraft:
    return DocumentDraft.model_validate({"kind": Kind.lesson, "title": "t", "body": "b", **fields})


def test_admit_keeps_standards_as_drafts_and_groups_to_members() -> None:
    member = Principal("tanaka", Role.contributor, frozenset({"infra"}), "session")
    template = _draft(kind=Kind.template, status=Status.published)
    assert admit(member, template).status is Status.draft
    assert admit(CLI, template).status is Status.published
    assert admit(member, _draft(groups=["infra"])).groups == ["infra"]
    with pytest.raises(Forbidden, match="hr"):
        admit(member, _draft(groups=["hr"]))
    with pytest.raises(Forbidden):
        admit(Principal("yamada", Role.reader, via="session"), _draft())
    with pytest.raises(Unauthorized):
        admit(Principal("", None), _draft())


def test_contributors_edit_only_what_they_created_and_can_see(store: SqlStore) -> None:
    tanaka = Principal("tanaka", Role.contributor, frozenset({"infra"}), "session")
    sato = Principal("sato", Role.contributor, frozenset(), "session")
    doc = store.create(_draft(groups=["infra"]), by="tanaka")
    check_edit(tanaka, doc)
    check_edit(CLI, doc)
    with pytest.raises(NotFound):  # sato cannot even see it
        check_edit(sato, doc)
    open_doc = store.create(_draft(), by="tanaka")
    with pytest.raises(Forbidden):
        check_edit(sato, open_doc)


def test_an_upload_cannot_replace_someone_elses_file(store: SqlStore) -> None:
    tanaka = Principal("tanaka", Role.contributor, via="session")
    sato = Principal("sato", Role.contributor, via="session")
    GuardedStore(store, tanaka).replace_source("upload:a.md", "h1", [_draft()])
    assert store.documents_of_source("upload:a.md")[0].created_by == "tanaka"
    with pytest.raises(Forbidden, match="someone else"):
        GuardedStore(store, sato).replace_source("upload:a.md", "h2", [_draft(title="mine now")])
    assert store.documents_of_source("upload:a.md")[0].title == "t"


def test_the_guarded_store_offers_only_what_an_upload_writes_through(store: SqlStore) -> None:
    """No read or write reaches the store around the guard: it has the upload's methods and nothing else."""
    tanaka = Principal("tanaka", Role.contributor, via="session")
    guarded = GuardedStore(store, tanaka)
    for unguarded in ("delete", "update", "source_paths", "create", "documents", "import_records"):
        assert not hasattr(guarded, unguarded), unguarded
    with pytest.raises(Forbidden, match="never as someone else"):
        guarded.replace_source("upload:b.md", "h1", [_draft()], by="sato")
    assert guarded.replace_source("upload:b.md", "h1", [_draft()], by="tanaka").added


def test_an_upload_removes_only_attachments_its_uploader_may_edit(store: SqlStore) -> None:
    """A changed mail drops the attachments it no longer carries (ingest.pipeline.drop_detached) through the guard."""
    tanaka = Principal("tanaka", Role.contributor, via="session")
    sato = Principal("sato", Role.contributor, via="session")
    GuardedStore(store, tanaka).replace_source("upload:m.eml#a.md", "h1", [_draft()])
    assert GuardedStore(store, tanaka).attached_sources("upload:m.eml") == ["upload:m.eml#a.md"]
    with pytest.raises(Forbidden, match="someone else"):
        GuardedStore(store, sato).remove_source("upload:m.eml#a.md")
    assert store.documents_of_source("upload:m.eml#a.md")
    assert len(GuardedStore(store, tanaka).remove_source("upload:m.eml#a.md").removed) == 1
    assert store.documents_of_source("upload:m.eml#a.md") == []
