"""Cross-site request forgery: every state-changing request a session cookie authenticates must come from our pages.

A forged request carries the victim's ``kb_session`` cookie but not the
``kb_csrf`` cookie (SameSite=Strict) nor, from a modern browser, our origin.
The guard is one app-wide dependency (``web.deps.csrf_guard``); the route walk
below makes a route that escapes it fail the suite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kb.config import Settings
from kb.record.models import Role
from tests.conftest import HashingEmbedder
from tests.web.conftest import add_user, bearer, csrf_of
from tests.web.test_authz import app_routes
from web.app import create_app
from web.auth import SESSION_COOKIE

EVIL = "http://evil.example"
OURS = "http://testserver"  # the TestClient's host
PASSWORD = "a long enough password"
UPLOAD = [("files", ("forged.md", b"---\nkind: faq\n---\n# Forged?\n\nYes.\n", "text/markdown"))]
FORGERY = "cross-site request forgery"  # in the guard's refusal, and in no other message
NO_ORIGIN = "neither where it came from"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def browser(web_settings: Settings) -> Iterator[TestClient]:
    """A browser logged in as a PMO admin through the session cookie, sending no Origin, Referer or token."""
    with TestClient(create_app(web_settings, embedder=HashingEmbedder())) as client:
        kb = client.app.state.kb  # type: ignore[attr-defined]
        kb.accounts.add_user("alice", role=Role.pmo_admin, password=PASSWORD)
        _, secret = kb.accounts.login("alice", PASSWORD, address=None, hours=1)
        client.cookies.set(SESSION_COOKIE, secret)
        client.headers["accept-language"] = "en"  # the refusals' wording below is the English page's
        yield client


def _documents(client: TestClient) -> int:
    return len(client.app.state.kb.store.documents())  # type: ignore[attr-defined]


def test_a_cross_site_multipart_upload_with_only_the_cookie_is_refused(browser: TestClient) -> None:
    before = _documents(browser)
    r = browser.post("/api/upload", files=UPLOAD, headers={"origin": EVIL})
    assert r.status_code == 403 and FORGERY in r.json()["message"]
    r = browser.post("/api/upload", files=UPLOAD, headers={"referer": f"{EVIL}/page.html"})
    assert r.status_code == 403 and FORGERY in r.json()["message"]
    r = browser.post("/api/upload", files=UPLOAD, headers={"origin": "null"})  # a sandboxed frame
    assert r.status_code == 403
    r = browser.post("/api/upload", files=UPLOAD)  # neither Origin nor Referer: the token is required
    assert r.status_code == 403 and NO_ORIGIN in r.json()["message"]
    r = browser.post("/api/upload", files=UPLOAD, data={"csrf": "x" * 43})  # a guessed token
    assert r.status_code == 403
    assert _documents(browser) == before


def test_our_own_pages_upload_with_the_token_or_their_origin(browser: TestClient) -> None:
    before = _documents(browser)
    token = csrf_of(browser)  # the upload page sets the kb_csrf cookie and puts its value in the form
    assert browser.post("/api/upload", files=UPLOAD, data={"csrf": token}).json()["summary"] == {"added": 1}
    r = browser.post("/api/upload", files=UPLOAD, headers={"x-csrf-token": token})
    assert r.status_code == 200 and r.json()["summary"] == {"unchanged": 1}
    assert browser.post("/api/upload", files=UPLOAD, headers={"origin": OURS}).status_code == 200
    assert browser.post("/api/upload", files=UPLOAD, headers={"referer": f"{OURS}/upload"}).status_code == 200
    assert _documents(browser) == before + 1


def test_bearer_tokens_are_exempt_and_requests_without_credentials_unaffected(browser: TestClient) -> None:
    token = add_user(browser, "bot", Role.contributor)
    browser.cookies.clear()
    r = browser.post("/api/upload", files=UPLOAD, headers={**bearer(token), "origin": EVIL})
    assert r.status_code == 200 and r.json()["summary"] == {"added": 1}
    r = browser.post("/api/upload", files=UPLOAD, headers={"origin": EVIL})  # nobody: 401 as before
    assert r.status_code == 401


def test_every_state_changing_route_refuses_a_cookie_only_cross_site_request(browser: TestClient) -> None:
    """Walks ``app.routes``: a route added later without the guard fails here."""
    app = browser.app
    kb = app.state.kb  # type: ignore[attr-defined]
    doc_id = "nothing"  # the guard answers before any route looks its document up
    walked = []
    for method, path, _ in app_routes(app):  # type: ignore[arg-type]
        if method not in UNSAFE:
            continue
        url = re.sub(r"\{[^}]+\}", doc_id, path)
        if kb.accounts.session_user(browser.cookies.get(SESSION_COOKIE, "")) is None:  # the last control logged out
            browser.cookies.set(SESSION_COOKIE, kb.accounts.login("alice", PASSWORD, address=None, hours=1)[1])
        before = (kb.store.last_seq(), len(kb.accounts.users()), len(kb.accounts.tokens()))
        forged = browser.request(method, url, headers={"origin": EVIL}, files=UPLOAD, follow_redirects=False)
        assert forged.status_code == 403 and FORGERY in forged.text, (method, url, forged.text[:200])
        bare = browser.request(method, url, follow_redirects=False)
        assert bare.status_code == 403 and NO_ORIGIN in bare.text, (method, url, bare.text[:200])
        after = (kb.store.last_seq(), len(kb.accounts.users()), len(kb.accounts.tokens()))
        assert after == before, (method, url)
        # the same request from our own origin gets past the guard (whatever the route then says)
        ours = browser.request(method, url, headers={"origin": OURS}, follow_redirects=False)
        assert FORGERY not in ours.text and NO_ORIGIN not in ours.text, (method, url)
        walked.append((method, path))
    assert ("POST", "/api/upload") in walked and ("DELETE", "/api/documents/{doc_id}") in walked
    assert ("POST", "/login") in walked and len(walked) >= 20
