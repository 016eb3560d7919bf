"""Administration in the browser: users, groups, tokens and one's own account, through real form posts.

Each test signs in with a password (a session cookie, as a browser would), so
the CSRF rules for cookie-authenticated posts apply exactly as in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import accounts as app_accounts
from app.caller import Caller
from kb.config import Settings
from kb.errors import Conflict
from kb.identity.access import Principal
from kb.record.models import DocumentDraft, Kind, Role, Status
from tests.conftest import HashingEmbedder, migrated
from tests.web.conftest import bearer, csrf_of
from web.app import create_app
from web.auth import SESSION_COOKIE

ADMIN_PASSWORD = "admin password 12345"


@pytest.fixture
def browser(web_settings: Settings) -> Iterator[TestClient]:
    """A client with no token: it signs in like a browser (``sign_in``); an admin ``boss`` exists."""
    migrated(web_settings)
    with TestClient(create_app(web_settings, embedder=HashingEmbedder())) as client:
        client.app.state.kb.accounts.add_user("boss", role=Role.pmo_admin, password=ADMIN_PASSWORD)  # type: ignore[attr-defined]
        client.cookies.set("kb_lang", "en")
        yield client


def sign_in(client: TestClient, login: str, password: str) -> str:
    """Post the login form; return where it redirects."""
    response = client.post(
        "/login",
        data={"csrf": csrf_of(client, "/login"), "login": login, "password": password, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]
    return response.headers["location"]


def form_post(client: TestClient, url: str, page: str, **data: object) -> object:
    return client.post(url, data={"csrf": csrf_of(client, page), **data}, follow_redirects=False)


def audit_actions(client: TestClient) -> list[str]:
    return [e.action for e in client.app.state.kb.audit.events(limit=200)]  # type: ignore[attr-defined]


def test_a_reader_is_refused_the_admin_pages_with_guidance(browser: TestClient) -> None:
    browser.app.state.kb.accounts.add_user("yamada", role=Role.reader, password="reader password 1")  # type: ignore[attr-defined]
    sign_in(browser, "yamada", "reader password 1")
    for page in ("/users", "/groups", "/tokens", "/users/boss"):
        response = browser.get(page)
        assert response.status_code == 403, page
        assert "Ask your PMO admin" in response.text
    assert "nav-users" not in browser.get("/").text  # the header does not offer it either


def test_admin_creates_a_user_with_a_one_time_password_shown_once(browser: TestClient) -> None:
    sign_in(browser, "boss", ADMIN_PASSWORD)
    response = form_post(
        browser,
        "/users",
        "/users",
        login="tanaka",
        display_name="田中 一郎",
        role="contributor",
        groups=[],
        new_groups="pj-a, 経理",
        credential="one_time_password",
    )
    assert response.status_code == 201  # type: ignore[attr-defined]
    found = re.search(r'id="one-time-password">([^<]+)<', response.text)  # type: ignore[attr-defined]
    assert found
    password = found.group(1)
    # never again: not on the user's page, the list, the audit log or the API
    for page in ("/users", "/users/tanaka", "/audit", "/tokens"):
        assert password not in browser.get(page).text
    user = browser.app.state.kb.accounts.user("tanaka")  # type: ignore[attr-defined]
    assert (user.role, user.groups, user.display_name) == (Role.contributor, ["pj-a", "経理"], "田中 一郎")
    assert user.must_change_password
    assert {"user_add", "user_update"} <= set(audit_actions(browser))

    # the new user signs in with it, is sent to choose their own, and the header shows their name
    browser.cookies.clear()
    browser.cookies.set("kb_lang", "en")
    assert sign_in(browser, "tanaka", password) == "/account?first=1"
    page = browser.get("/account").text
    assert 'id="must-change"' in page and "田中 一郎" in page
    response = form_post(
        browser, "/account/password", "/account", current=password, new="tanaka own pw 1", again="tanaka own pw 1"
    )
    assert response.headers["location"] == "/account?done=password"  # type: ignore[attr-defined]
    assert 'id="must-change-banner"' not in browser.get("/").text
    assert browser.get("/account").status_code == 200  # still signed in: a new session replaced the old one
    browser.cookies.clear()
    failed = browser.post("/login", data={"csrf": csrf_of(browser, "/login"), "login": "tanaka", "password": password})
    assert failed.status_code == 401  # the one-time password is spent
    sign_in(browser, "tanaka", "tanaka own pw 1")


def test_a_one_time_password_opens_nothing_but_the_account_page(browser: TestClient) -> None:
    """Until they choose their own password, the admin-known one buys a browser the account page and nothing else."""
    kb = browser.app.state.kb  # type: ignore[attr-defined]
    kb.accounts.add_user("ito", role=Role.contributor, password="ito password 1")
    token = kb.accounts.create_token("ito", "script").secret  # made by ito: not the admin's secret
    doc = kb.store.create(
        DocumentDraft(kind=Kind.lesson, status=Status.published, title="Freeze scope early", body="Scope."), by="ito"
    )
    kb.accounts.update_user("ito", password="admin issued 1", one_time=True, by="boss")
    assert sign_in(browser, "ito", "admin issued 1") == "/account?first=1"

    pages = ("/", "/?q=vendor", f"/documents/{doc.id}", f"/documents/{doc.id}/edit", "/library", "/inbox")
    for page in pages:
        response = browser.get(page, follow_redirects=False)
        assert (response.status_code, response.headers.get("location")) == (303, "/account?first=1"), page
    followed = browser.get("/?q=vendor")
    assert str(followed.url).endswith("/account?first=1") and 'id="must-change"' in followed.text
    assert "please choose your own password" in followed.text  # the i18n message, in the reader's language
    assert 'id="create-token"' not in followed.text  # the page offers only what they may do now
    minted = form_post(browser, "/account/tokens", "/account", name="escape hatch")
    assert minted.headers["location"] == "/account?first=1"  # type: ignore[attr-defined]
    assert kb.accounts.tokens("ito")[0][0].name == "script"  # no token minted with the admin-known password
    api = browser.get("/api/search?q=x")
    assert api.status_code == 403 and "one-time password" in api.json()["message"]
    assert browser.get("/api/me").status_code == 403
    # a token ito made themselves is theirs, not the admin's: it still works
    assert browser.get("/api/me", headers=bearer(token)).json()["login"] == "ito"

    response = form_post(
        browser, "/account/password", "/account", current="admin issued 1", new="ito own pw 12", again="ito own pw 12"
    )
    assert response.headers["location"] == "/account?done=password"  # type: ignore[attr-defined]
    for page in pages:
        assert browser.get(page, follow_redirects=False).status_code == 200, page
    assert 'id="create-token"' in browser.get("/account").text
    assert browser.get("/api/search?q=x").status_code == 200


def test_changing_ones_password_needs_the_current_one(browser: TestClient) -> None:
    sign_in(browser, "boss", ADMIN_PASSWORD)
    response = form_post(browser, "/account/password", "/account", current="wrong one!!", new="x" * 12, again="x" * 12)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "login_failed" in audit_actions(browser)  # counted like a failed login (the lockout applies)
    browser.cookies.clear()
    sign_in(browser, "boss", ADMIN_PASSWORD)  # unchanged


def test_an_invitation_link_sets_the_password_once(browser: TestClient) -> None:
    sign_in(browser, "boss", ADMIN_PASSWORD)
    response = form_post(browser, "/users", "/users", login="sato", role="reader", credential="invitation")
    link = re.search(r'id="invitation-link">([^<]+)<', response.text)  # type: ignore[attr-defined]
    assert link and "/invite/" in link.group(1)
    path = "/invite/" + link.group(1).rsplit("/invite/", 1)[1]
    browser.cookies.clear()
    assert "sato" in browser.get(path).text
    response = form_post(browser, path, path, new="sato password 1", again="sato password 1")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert browser.get("/account").status_code == 200  # signed in by the link
    browser.cookies.clear()
    assert browser.get(path).status_code == 404  # used: gone
    sign_in(browser, "sato", "sato password 1")
    assert "invite_accept" in audit_actions(browser)


def test_an_invitation_link_works_in_a_browser_still_on_a_one_time_password(browser: TestClient) -> None:
    """The link is for another account, the secret in it the credential: the one-time session neither hides the
    page behind its own account page nor outlives the acceptance."""
    kb = browser.app.state.kb  # type: ignore[attr-defined]
    kb.accounts.add_user("ito", role=Role.contributor, password="ito password 1")
    kb.accounts.update_user("ito", password="admin issued 1", one_time=True, by="boss")
    kb.accounts.add_user("sato", role=Role.reader)
    path = "/invite/" + kb.accounts.invite("sato", by="boss", address=None)
    assert sign_in(browser, "ito", "admin issued 1") == "/account?first=1"
    one_time_session = browser.cookies.get(SESSION_COOKIE)
    page = browser.get(path, follow_redirects=False)
    assert page.status_code == 200 and "sato" in page.text
    assert browser.get("/invite/not-a-link", follow_redirects=False).status_code == 404  # open, not redirected
    assert browser.get("/library", follow_redirects=False).headers["location"] == "/account?first=1"  # still shut
    mismatch = form_post(browser, path, path, new="sato password 1", again="sato password 2")
    assert mismatch.status_code == 422  # type: ignore[attr-defined]
    response = form_post(browser, path, path, new="sato password 1", again="sato password 1")
    assert (response.status_code, response.headers["location"]) == (303, "/")  # type: ignore[attr-defined]
    assert browser.get("/api/me").json()["login"] == "sato"  # signed in as the invited account
    assert browser.get("/library", follow_redirects=False).status_code == 200
    stale = TestClient(browser.app)
    stale.cookies.set(SESSION_COOKIE, str(one_time_session))
    assert stale.get("/api/me").status_code == 401  # ito's one-time session ended with the acceptance
    assert kb.accounts.user("ito").must_change_password  # and ito still has to choose their own password


def test_disabling_ends_sessions_and_tokens_at_once(browser: TestClient) -> None:
    kb = browser.app.state.kb  # type: ignore[attr-defined]
    kb.accounts.add_user("leaver", role=Role.contributor, password="leaver password")
    token = kb.accounts.create_token("leaver", "script").secret
    other = TestClient(browser.app)
    sign_in(other, "leaver", "leaver password")
    assert other.get("/account").status_code == 200
    sign_in(browser, "boss", ADMIN_PASSWORD)
    form_post(browser, "/users/leaver/active", "/users/leaver", active="no")
    assert other.get("/account", follow_redirects=False).status_code in (401, 303)
    assert browser.get("/api/me", headers=bearer(token)).status_code == 401
    assert all(t.revoked_at is not None for t, _ in kb.accounts.tokens("leaver"))
    form_post(browser, "/users/leaver/active", "/users/leaver", active="yes")
    assert browser.get("/api/me", headers=bearer(token)).status_code == 401  # re-enabling does not revive it


def test_reset_by_admin_and_role_and_group_edits(browser: TestClient) -> None:
    kb = browser.app.state.kb  # type: ignore[attr-defined]
    kb.accounts.add_user("kato", role=Role.reader, password="kato password 1")
    sign_in(browser, "boss", ADMIN_PASSWORD)
    form_post(
        browser, "/users/kato", "/users/kato", role="contributor", display_name="加藤", groups=[], new_groups="hr"
    )
    user = kb.accounts.user("kato")
    assert (user.role, user.groups, user.display_name) == (Role.contributor, ["hr"], "加藤")
    response = form_post(browser, "/users/kato/reset", "/users/kato", credential="one_time_password")
    new = re.search(r'id="one-time-password">([^<]+)<', response.text)  # type: ignore[attr-defined]
    assert new
    other = TestClient(browser.app)
    refused = other.post(
        "/login", data={"csrf": csrf_of(other, "/login"), "login": "kato", "password": "kato password 1"}
    )
    assert refused.status_code == 401
    assert sign_in(other, "kato", new.group(1)) == "/account?first=1"
    assert "hr" in browser.get("/groups").text and "kato" in browser.get("/groups").text


def test_the_last_admin_cannot_lock_everyone_out(browser: TestClient) -> None:
    kb = browser.app.state.kb  # type: ignore[attr-defined]
    caller = Caller(Principal("boss", Role.pmo_admin, via="session"), "web", "127.0.0.1")
    with pytest.raises(Conflict):
        app_accounts.update_user(kb, caller=caller, login="boss", active=False)
    with pytest.raises(Conflict):
        app_accounts.update_user(kb, caller=caller, login="boss", role=Role.reader)
    assert kb.accounts.user("boss").active


def test_admin_pages_refuse_a_post_without_the_csrf_token(browser: TestClient) -> None:
    sign_in(browser, "boss", ADMIN_PASSWORD)
    for url, data in (
        ("/users", {"login": "forged", "role": "pmo_admin"}),
        ("/users/boss/reset", {"credential": "one_time_password"}),
        ("/groups", {"name": "forged"}),
        ("/account/tokens", {"name": "forged"}),
    ):
        response = browser.post(url, data=data, follow_redirects=False)
        assert response.status_code == 403, url
        forged = browser.post(url, data=data, headers={"Origin": "https://evil.example"}, follow_redirects=False)
        assert forged.status_code == 403, url
    kb = browser.app.state.kb  # type: ignore[attr-defined]
    assert [u.login for u in kb.accounts.users()] == ["boss"]
    assert kb.accounts.groups() == [] and kb.accounts.tokens() == []


def test_my_tokens_secret_shown_once_and_revoked(browser: TestClient) -> None:
    sign_in(browser, "boss", ADMIN_PASSWORD)
    response = form_post(browser, "/account/tokens", "/account", name="nightly export", role_cap="reader")
    assert response.status_code == 201  # type: ignore[attr-defined]
    secret = re.search(r'id="token-secret">([^<]+)<', response.text)  # type: ignore[attr-defined]
    assert secret
    assert secret.group(1) not in browser.get("/account").text
    assert secret.group(1) not in browser.get("/tokens").text
    assert browser.get("/api/me", headers=bearer(secret.group(1))).json()["role"] == "reader"  # capped
    (token, owner), *_ = browser.app.state.kb.accounts.tokens()  # type: ignore[attr-defined]
    assert owner == "boss" and "nightly export" in browser.get("/tokens").text
    form_post(browser, f"/tokens/{token.id}/revoke", "/tokens")
    assert browser.get("/api/me", headers=bearer(secret.group(1))).status_code == 401
    assert {"token_create", "token_revoke"} <= set(audit_actions(browser))


def test_profile_sets_display_name_and_language(browser: TestClient) -> None:
    sign_in(browser, "boss", ADMIN_PASSWORD)
    response = form_post(browser, "/account/profile", "/account", display_name="PMO 山田", language="ja")
    assert response.cookies.get("kb_lang") == "ja"  # type: ignore[attr-defined]
    page = browser.get("/").text
    assert 'id="who"' in page and "PMO 山田 ·" in page  # the header shows the display name
    assert browser.app.state.kb.accounts.user("boss").language == "ja"  # type: ignore[attr-defined]
    browser.cookies.clear()
    browser.cookies.set("kb_lang", "en")
    response = browser.post(
        "/login",
        data={"csrf": csrf_of(browser, "/login"), "login": "boss", "password": ADMIN_PASSWORD},
        follow_redirects=False,
    )
    assert response.cookies.get("kb_lang") == "ja"  # the account's choice wins at login


def test_account_changes_and_their_audit_rows_commit_together(
    browser: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the audit row cannot be written, the change it records is not made either (one transaction)."""
    kb = browser.app.state.kb  # type: ignore[attr-defined]
    caller = Caller(Principal("boss", Role.pmo_admin, via="session"), "web", "127.0.0.1")
    real = kb.audit.record

    def failing(actor: str, action: str, *args: object, **kwargs: object) -> None:
        real(actor, action, *args, **kwargs)
        if action == "user_invite":
            raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(kb.audit, "record", failing)
    with pytest.raises(RuntimeError):
        app_accounts.create_user(kb, caller=caller, login="half", role=Role.reader, groups=[], credential="invitation")
    assert [u.login for u in kb.accounts.users()] == ["boss"]
    assert "half" not in [e.target for e in kb.audit.events()]  # nor its audit rows
