"""Passwords and token secrets never leave the server: not in API responses, exports, the audit log or logs."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from kb.config import Settings
from kb.record.models import Role
from tests.conftest import HashingEmbedder
from tests.web.conftest import add_user, bearer, csrf_of
from web.app import create_app

PASSWORD = "Sup3r secret passphrase"
WRONG = "Wr0ng guess passphrase"


def test_no_response_export_audit_entry_or_log_line_carries_a_secret(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kb = client.app.state.kb  # type: ignore[attr-defined]
    seen: list[str] = []
    r = client.post("/api/users", json={"login": "sato", "role": "contributor", "password": PASSWORD})
    assert r.status_code == 201 and r.json()["has_password"] is True
    seen += [r.text, client.get("/api/users").text]
    r = client.post("/api/tokens", json={"name": "script"})
    secret = r.json()["secret"]
    assert secret.startswith("kb_")
    seen += [client.get("/api/tokens").text, client.get("/api/me", headers=bearer(secret)).text]
    # a browser login, a failed one, and a request with a wrong token
    anonymous = TestClient(client.app)
    csrf = csrf_of(anonymous, "/login")
    for password in (WRONG, PASSWORD):
        r = anonymous.post("/login", data={"csrf": csrf, "login": "sato", "password": password}, follow_redirects=False)
        seen.append(r.text)  # (the successful one's Set-Cookie header carries the session id: that is its job)
    session = anonymous.cookies.get("kb_session")
    assert session
    seen.append(client.get("/api/me", headers=bearer(secret + "x")).text)
    seen += [client.get("/api/audit", params={"limit": 1000}).text, client.get("/audit").text]
    seen += [json.dumps(list(kb.store.export_records()), default=str)]
    seen += [caplog.text]
    everything = "\n".join(seen)
    hashes = [u.password_hash for u in kb.accounts.users() if u.password_hash]
    for value in (PASSWORD, WRONG, secret, session, *hashes):
        assert value not in everything
    assert "login_failed" in everything  # the audit log did record the attempt, without what was typed


def test_a_token_shows_its_secret_once_and_a_revoked_one_stops_working(client: TestClient) -> None:
    token = add_user(client, "bot", Role.contributor)
    assert client.get("/api/me", headers=bearer(token)).json() == {
        "login": "bot",
        "role": "contributor",
        "groups": [],
        "via": "token",
    }
    listed = client.get("/api/tokens").json()
    mine = next(t for t in listed if t["owner"] == "bot")
    assert "secret" not in mine and token.startswith(mine["prefix"])
    r = client.delete(f"/api/tokens/{mine['id']}", headers=bearer(token))
    assert r.status_code == 204
    r = client.get("/api/me", headers=bearer(token))
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


def test_the_trusted_proxy_header_logs_in_only_from_the_proxy(web_settings: Settings) -> None:
    settings = web_settings.model_copy(
        update={"trusted_user_header": "X-Forwarded-User", "trusted_proxies": ["10.0.0.0/24"]}
    )
    app = create_app(settings, embedder=HashingEmbedder())
    with TestClient(app, client=("10.0.0.5", 4000)) as proxy, TestClient(app, client=("192.168.1.9", 4000)) as direct:
        me = proxy.get("/api/me", headers={"X-Forwarded-User": "suzuki"}).json()
        assert me == {"login": "suzuki", "role": "reader", "groups": [], "via": "proxy"}
        assert proxy.get("/upload", headers={"X-Forwarded-User": "suzuki"}).status_code == 403
        # the same header from anywhere else is ignored: nobody is logged in
        r = direct.get("/api/me", headers={"X-Forwarded-User": "suzuki"})
        assert r.status_code == 401
        kb = proxy.app.state.kb  # type: ignore[attr-defined]
        kb.accounts.update_user("suzuki", role=Role.contributor)
        assert proxy.get("/upload", headers={"X-Forwarded-User": "suzuki"}).status_code == 200
        kb.accounts.update_user("suzuki", active=False)
        assert proxy.get("/api/me", headers={"X-Forwarded-User": "suzuki"}).status_code == 401
        assert [e.action for e in kb.audit.events(actor="proxy")] == ["user_add"]


def test_the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy(web_settings: Settings) -> None:
    settings = web_settings.model_copy(update={"trusted_proxies": ["10.0.0.0/24"]})
    app = create_app(settings, embedder=HashingEmbedder())
    forwarded = {"X-Forwarded-For": "203.0.113.7, 10.0.0.9"}
    with TestClient(app, client=("10.0.0.5", 4000)) as proxy, TestClient(app, client=("198.51.100.2", 4000)) as direct:
        for c in (proxy, direct):
            csrf = csrf_of(c, "/login")
            c.post("/login", data={"csrf": csrf, "login": "nobody", "password": "x"}, headers=forwarded)
        kb = proxy.app.state.kb  # type: ignore[attr-defined]
        addresses = [e.address for e in kb.audit.events(action="login_failed")]
        assert addresses == ["198.51.100.2", "203.0.113.7"]  # newest first; the direct client cannot spoof it


def test_cookies_are_secure_behind_a_tls_proxy_and_httponly(web_settings: Settings) -> None:
    settings = web_settings.model_copy(update={"trusted_proxies": ["10.0.0.5"]})
    app = create_app(settings, embedder=HashingEmbedder())
    with TestClient(app, client=("10.0.0.5", 4000)) as proxy, TestClient(app, client=("10.9.9.9", 4000)) as direct:
        kb = proxy.app.state.kb  # type: ignore[attr-defined]
        kb.accounts.add_user("sato", role=Role.reader, password=PASSWORD)
        for c, secure in ((proxy, True), (direct, False)):
            headers = {"X-Forwarded-Proto": "https"}
            page = c.get("/login", headers=headers)
            csrf_cookie = page.headers["set-cookie"]
            csrf = csrf_of(c, "/login")
            r = c.post(
                "/login",
                data={"csrf": csrf, "login": "sato", "password": PASSWORD},
                headers=headers,
                follow_redirects=False,
            )
            session_cookie = r.headers["set-cookie"]
            assert (
                "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie and "Max-Age=43200" in session_cookie
            )
            assert ("Secure" in session_cookie) is secure and ("Secure" in csrf_cookie) is secure
