"""The authorisation matrix: every route × anonymous / reader / contributor / PMO admin / outsider.

The route list comes from the app itself, so a new route without a rule in
``RULES`` fails ``test_every_route_has_a_rule``. Each cell makes a real
request: below the rule it must be refused (401 or a redirect to the login
page for nobody, 403 for a role too low) and change nothing in the store;
at or above it, it must succeed. The outsider is a contributor in another
group, asking for a document restricted to ``finance``: every document route
answers 404, as for a document that does not exist.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from app import held
from app.caller import Caller as AppCaller
from kb.config import Settings
from kb.identity.access import Principal
from kb.pmo import feedback, saved_briefs
from kb.pmo.brief import BriefRequest, make_brief
from kb.record.models import DocumentDraft, Kind, OriginalFile, Role, Verdict
from tests.conftest import HashingEmbedder
from tests.web.conftest import bearer, csrf_of
from web.app import create_app

PUBLIC = None
RULES: dict[tuple[str, str], Role | None] = {
    ("GET", "/"): Role.reader,
    ("GET", "/documents/{doc_id}"): Role.reader,
    ("GET", "/documents/{doc_id}/original"): Role.reader,
    ("GET", "/documents/{doc_id}/docx"): Role.reader,
    ("GET", "/library"): Role.reader,
    ("GET", "/faq"): Role.reader,
    ("GET", "/retrospectives/new"): Role.contributor,
    ("POST", "/retrospectives"): Role.contributor,
    ("GET", "/upload"): Role.contributor,
    ("POST", "/upload"): Role.contributor,
    ("POST", "/upload/map"): Role.contributor,
    ("POST", "/feedback"): Role.reader,
    ("POST", "/feedback/{feedback_id}/resolve"): Role.reader,
    ("GET", "/documents/{doc_id}/edit"): Role.contributor,
    ("POST", "/documents/{doc_id}/edit"): Role.contributor,
    ("GET", "/documents/{doc_id}/delete"): Role.contributor,
    ("POST", "/documents/{doc_id}/delete"): Role.contributor,
    ("GET", "/account"): Role.reader,
    ("POST", "/account/password"): Role.reader,
    ("POST", "/account/profile"): Role.reader,
    ("POST", "/account/tokens"): Role.reader,
    ("POST", "/account/tokens/{token_id}/revoke"): Role.reader,
    ("GET", "/invite/{secret}"): PUBLIC,
    ("POST", "/invite/{secret}"): PUBLIC,
    ("GET", "/users"): Role.pmo_admin,
    ("POST", "/users"): Role.pmo_admin,
    ("GET", "/users/{login}"): Role.pmo_admin,
    ("POST", "/users/{login}"): Role.pmo_admin,
    ("POST", "/users/{login}/active"): Role.pmo_admin,
    ("POST", "/users/{login}/reset"): Role.pmo_admin,
    ("GET", "/groups"): Role.pmo_admin,
    ("POST", "/groups"): Role.pmo_admin,
    ("GET", "/tokens"): Role.pmo_admin,
    ("POST", "/tokens/{token_id}/revoke"): Role.pmo_admin,
    ("POST", "/demo"): Role.pmo_admin,
    ("GET", "/insights"): Role.pmo_admin,
    ("GET", "/audit"): Role.pmo_admin,
    ("POST", "/documents/{doc_id}/lifecycle"): Role.contributor,
    ("POST", "/documents/{doc_id}/action"): Role.contributor,
    ("GET", "/documents/{doc_id}/diff"): Role.reader,
    ("GET", "/reviews"): Role.contributor,
    ("POST", "/api/documents/{doc_id}/lifecycle"): Role.contributor,
    ("POST", "/api/documents/{doc_id}/action"): Role.contributor,
    ("GET", "/brief"): Role.reader,
    ("POST", "/brief"): Role.reader,
    ("POST", "/brief/export"): Role.reader,
    ("POST", "/brief/save"): Role.contributor,
    ("GET", "/briefs"): Role.reader,
    ("GET", "/briefs/{brief_id}"): Role.reader,
    ("POST", "/briefs/{brief_id}"): Role.contributor,
    ("GET", "/briefs/{brief_id}/markdown"): Role.reader,
    ("POST", "/api/brief"): Role.reader,
    ("POST", "/api/briefs"): Role.contributor,
    ("GET", "/dashboard"): Role.pmo_admin,
    ("GET", "/dashboard/{table}.csv"): Role.pmo_admin,
    ("GET", "/faq/new"): Role.contributor,
    ("POST", "/faq/new"): Role.contributor,
    ("GET", "/lang/{code}"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/api/search"): Role.reader,
    ("GET", "/api/documents/{doc_id}"): Role.reader,
    ("GET", "/api/documents/{doc_id}/original"): Role.reader,
    ("POST", "/api/documents"): Role.contributor,
    ("PUT", "/api/documents/{doc_id}"): Role.contributor,
    ("DELETE", "/api/documents/{doc_id}"): Role.contributor,
    ("POST", "/api/retrospectives"): Role.contributor,
    ("POST", "/api/upload"): Role.contributor,
    ("POST", "/api/feedback"): Role.reader,
    ("GET", "/api/stats"): Role.pmo_admin,
    ("GET", "/api/me"): Role.reader,
    ("GET", "/api/tokens"): Role.reader,
    ("POST", "/api/tokens"): Role.reader,
    ("DELETE", "/api/tokens/{token_id}"): Role.reader,
    ("GET", "/api/users"): Role.pmo_admin,
    ("POST", "/api/users"): Role.pmo_admin,
    ("PATCH", "/api/users/{login}"): Role.pmo_admin,
    ("GET", "/api/audit"): Role.pmo_admin,
    ("GET", "/subscriptions"): Role.reader,
    ("POST", "/subscriptions"): Role.reader,
    ("POST", "/subscriptions/{subscription_id}/stop"): Role.reader,
    ("GET", "/inbox"): Role.reader,
    ("GET", "/inbox/{message_id}"): Role.reader,
    ("GET", "/unsubscribe/{subscription_id}"): PUBLIC,
    ("POST", "/unsubscribe/{subscription_id}"): PUBLIC,
    ("GET", "/feeds/{token}.atom"): PUBLIC,
    ("GET", "/projects"): Role.reader,
    ("POST", "/projects"): Role.contributor,
    ("POST", "/projects/phase"): Role.contributor,
    ("GET", "/api/subscriptions"): Role.reader,
    ("POST", "/api/subscriptions"): Role.reader,
    ("DELETE", "/api/subscriptions/{subscription_id}"): Role.reader,
    ("GET", "/api/inbox"): Role.reader,
    ("GET", "/api/projects"): Role.reader,
    ("POST", "/api/projects/{name}/phase"): Role.contributor,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/static"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
}


def app_routes(app: FastAPI) -> Iterator[tuple[str, str, Role | None]]:
    """(method, path, declared role) of every route the app serves; HEAD is GET's shadow."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:  # FastAPI's included router
            for ctx in contexts():
                for method in sorted(ctx.methods - {"HEAD"}):
                    yield method, ctx.path, _declared(ctx.dependant)
        elif isinstance(route, APIRoute):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, route.path, _declared(route.dependant)
        elif isinstance(route, Route):
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                yield method, route.path, PUBLIC
        elif isinstance(route, Mount):
            yield "GET", route.path, PUBLIC


def _declared(dependant: Any) -> Role | None:
    roles = [role for dep in _walk(dependant) if (role := getattr(dep.call, "required_role", None)) is not None]
    return max(roles, key=lambda r: r.rank) if roles else PUBLIC


def _walk(dependant: Any) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep
        yield from _walk(dep)


@dataclass
class Caller:
    name: str
    login: str | None
    role: Role | None
    groups: tuple[str, ...] = ()
    token: str | None = None

    def headers(self) -> dict[str, str]:
        return bearer(self.token) if self.token else {}


MATRIX_PASSWORD = "matrix password 1"
CALLERS = [
    Caller("anonymous", None, None),
    Caller("reader", "reader1", Role.reader),
    Caller("contributor", "contrib1", Role.contributor),
    Caller("admin", "admin1", Role.pmo_admin),
    Caller("outsider", "outsider1", Role.contributor, ("hr",)),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, Caller]]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("authz") / "data", min_dense_score=0.5)
    with TestClient(create_app(settings, embedder=HashingEmbedder())) as client:
        kb = client.app.state.kb  # type: ignore[attr-defined]
        callers = {}
        for caller in CALLERS:
            if caller.login:
                kb.accounts.add_user(caller.login, role=caller.role, groups=caller.groups, password=MATRIX_PASSWORD)
                caller.token = kb.accounts.create_token(caller.login, "matrix").secret
            callers[caller.name] = caller
        kb.accounts.add_user("pwuser", role=Role.reader, password="a long enough password")
        kb.accounts.add_user("target1", role=Role.reader)  # what the /users/{login} pages change
        yield client, callers


def _doc(client: TestClient, by: str | None, **fields: Any) -> str:
    kb = client.app.state.kb  # type: ignore[attr-defined]
    original = OriginalFile(filename="plan.txt", media_type="text/plain", data=b"vendor plan")
    values = {"kind": Kind.lesson, "title": "Vendor selection slipped", "body": "Agree criteria early.", **fields}
    doc = kb.store.create(DocumentDraft.model_validate({**values, "original": original}), by=by)
    kb.indexer.catch_up()
    return str(doc.id)


def _prepare(client: TestClient, caller: Caller, method: str, path: str) -> Callable[[], Any]:
    """One real request for the route, as ``caller``, with valid parameters and body, ready to send."""
    kb = client.app.state.kb  # type: ignore[attr-defined]
    client.cookies.clear()  # a session a previous cell started (a login, an invitation) must not carry over
    outsider = caller.name == "outsider"
    # the document a route names: restricted to finance for the outsider, else the caller's own
    extra: dict[str, Any] = {}
    if path.endswith("/lifecycle") or path.endswith("/diff"):  # a standard: the caller's own draft
        extra = {"kind": Kind.template, "status": "draft"}
    doc_id = _doc(client, caller.login, groups=["finance"] if outsider else [], **extra)
    csrf = csrf_of(client, "/login")
    form: dict[str, Any] = {"csrf": csrf}
    url = path.replace("{doc_id}", doc_id).replace("{code}", "en")
    if "{token_id}" in path:
        owner = caller.login or "reader1"
        url = path.replace("{token_id}", str(kb.accounts.create_token(owner, "to revoke").token.id))
    if path.startswith("/users/{login}"):
        url = url.replace("{login}", "target1")
    url = url.replace("{login}", "reader1").replace("{table}", "coverage")
    if "{feedback_id}" in path:  # an outdated report on a document the caller created
        own = _doc(client, caller.login or "reader1")
        row = feedback.record(kb.store, doc_id=own, verdict=Verdict.outdated, query="", comment="old", by="reader1")
        url = url.replace("{feedback_id}", str(row.id))
    if "{secret}" in path:  # a pending invitation
        invitee = f"invitee{len(kb.accounts.users())}"
        kb.accounts.add_user(invitee, role=Role.reader)
        url = url.replace("{secret}", kb.accounts.invite(invitee, by="test", address=None))
    if "{brief_id}" in path:  # a brief the caller saved (anonymous: the reader's)
        owner = Principal(caller.login or "reader1", Role.contributor, via="token")
        brief = make_brief(kb.searcher, kb.store, BriefRequest("vendor selection"), visible_to=None)
        url = url.replace("{brief_id}", str(saved_briefs.save(kb.store, brief, project="P", read=[], by=owner).id))
    body: dict[str, Any] = {}
    url, extra_body = _push_route(kb, caller, path, url, form)
    body.update(extra_body)
    if path == "/" or path == "/api/search":
        body["params"] = {"q": "vendor"}
    elif path == "/retrospectives":
        body["data"] = {**form, "title": "Retro", "lesson": ["Write it down."]}
    elif path == "/upload/map":  # a sheet held for the caller after an upload whose columns were not known
        held_by = AppCaller.local(Principal(caller.login or "reader1", Role.contributor, via="token"))
        token = held.hold(kb, caller=held_by, name="matrix.csv", data=b"Frage,Antwort\nWie?,So.\n")
        body["data"] = {**form, "token": token, "column": ["Frage", "Antwort"], "field": ["question", "answer"]}
    elif path in ("/upload", "/api/upload"):
        body["files"] = [("files", ("matrix.md", b"---\nkind: faq\n---\n# Q?\n\nA.\n", "text/markdown"))]
        body["data"] = form
    elif path == "/documents/{doc_id}/lifecycle":
        body["data"] = {**form, "action": "submit"}
    elif path == "/api/documents/{doc_id}/lifecycle":
        body["json"] = {"action": "submit"}
    elif path == "/documents/{doc_id}/action":
        body["data"] = {**form, "status": "not_adopted", "reason": "covered elsewhere"}
    elif path == "/api/documents/{doc_id}/action":
        body["json"] = {"status": "not_adopted", "reason": "covered elsewhere"}
    elif path == "/documents/{doc_id}/diff":
        body["params"] = {"against": doc_id}
    elif path in ("/brief", "/brief/export", "/brief/save") and method == "POST":
        body["data"] = {**form, "description": "We will select a vendor.", "project": "ERP", "format": "md"}
    elif path == "/briefs/{brief_id}":
        body["data"] = form
    elif path == "/faq/new" and method == "POST":
        body["data"] = {**form, "question": "How long does approval take?", "answer": "Five days."}
    elif path == "/api/brief":
        body["json"] = {"description": "We will select a vendor."}
    elif path == "/api/briefs":
        body["json"] = {"description": "We will select a vendor.", "project": "ERP"}
    elif path == "/feedback":
        body["data"] = {**form, "query": "vendor", "document_id": doc_id, "verdict": "outdated", "comment": "old"}
    elif path == "/documents/{doc_id}/edit" and method == "POST":
        body["data"] = {**form, "title": "Vendor selection slipped", "body": "Agree criteria before the RFP."}
    elif path == "/account/password":
        body["data"] = {**form, "current": MATRIX_PASSWORD, "new": "matrix password 2", "again": "matrix password 2"}
    elif path == "/account/profile":
        body["data"] = {**form, "display_name": "Matrix", "language": "en"}
    elif path == "/account/tokens":
        body["data"] = {**form, "name": "from the page"}
    elif path == "/invite/{secret}" and method == "POST":
        body["data"] = {**form, "new": "invited password", "again": "invited password"}
    elif path == "/users" and method == "POST":
        body["data"] = {**form, "login": f"new{len(kb.accounts.users())}", "role": "reader"}
    elif path == "/users/{login}" and method == "POST":
        body["data"] = {**form, "role": "reader", "display_name": "Target", "groups": "sales"}
    elif path == "/users/{login}/active":
        body["data"] = {**form, "active": "yes"}
    elif path == "/users/{login}/reset":
        body["data"] = {**form, "credential": "invitation"}
    elif path == "/groups" and method == "POST":
        body["data"] = {**form, "name": "sales", "description": "Sales team"}
    elif method == "POST" and ("/revoke" in path or path.endswith("/delete") or path.endswith("/resolve")):
        body["data"] = form
    elif path == "/api/feedback":
        body["json"] = {"query": "vendor", "document_id": doc_id, "helpful": True}
    elif path in ("/demo", "/logout"):
        body["data"] = form
    elif path == "/login":
        if method == "POST":
            body["data"] = {**form, "login": "pwuser", "password": "a long enough password"}
    elif path.startswith("/api/documents") and method in ("POST", "PUT"):
        body["json"] = {"kind": "lesson", "title": "Agree vendor criteria", "body": "Before the RFP."}
    elif path == "/api/retrospectives":
        body["json"] = {"title": "Retro", "lessons": [{"lesson": "Write it down."}]}
    elif path == "/api/tokens" and method == "POST":
        body["json"] = {"name": "ci"}
    elif path == "/api/users" and method == "POST":
        body["json"] = {"login": f"new{len(kb.accounts.users())}", "role": "reader"}
    elif path == "/api/users/{login}":
        body["json"] = {"groups": ["sales"]}
    elif path == "/static":
        url = "/static/app.css"
    headers = caller.headers()
    if "data" in body and "files" not in body:  # a form post, as a browser sends it
        headers["content-type"] = "application/x-www-form-urlencoded"
    return lambda: client.request(method, url, headers=headers, follow_redirects=False, **body)


def _push_route(kb: Any, caller: Caller, path: str, url: str, form: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Parameters and bodies of the subscription, inbox, feed and project routes: the caller's own rows."""
    import uuid

    from kb.notify import subscriptions
    from kb.pmo import projects
    from kb.record.notifications import Message

    owner = caller.login or "reader1"
    if "{subscription_id}" in path or "{token}" in path:
        sub = subscriptions.new(kb.store.db, owner=owner, topic="tag", target="vendor", channel="feed")
        url = url.replace("{subscription_id}", str(sub.id)).replace("{token}", sub.feed_token)
        if path.startswith("/unsubscribe"):
            url += f"?token={subscriptions.unsubscribe_token(sub)}"
    if "{message_id}" in path:
        with kb.store.db.writing() as session:
            row = Message(key=uuid.uuid4().hex, recipient=owner, channel="inbox", state="sent")
            session.add(row)
            session.flush()
            url = url.replace("{message_id}", str(row.id))
    if path in ("/projects/phase", "/api/projects/{name}/phase"):
        name = f"G-{owner}"
        projects.save(kb.store.db, name=name, by=Principal(owner, Role.contributor, via="token"))
        url = url.replace("{name}", name)
        if path == "/projects/phase":
            return url, {"data": {**form, "name": name, "phase": "移行"}}
        return url, {"json": {"phase": "移行"}}
    if path == "/subscriptions":
        return url, {"data": {**form, "topic": "tag", "query": "vendor"}}
    if path == "/api/subscriptions":
        return url, {"json": {"topic": "tag", "target": "vendor"}}
    if path == "/projects":
        return url, {"data": {**form, "name": f"P-{owner}"}}
    if path.endswith("/stop"):
        return url, {"data": form}
    return url, {}


def _state(client: TestClient) -> tuple[int, ...]:
    kb = client.app.state.kb  # type: ignore[attr-defined]
    kb.search_log.flush()  # a refused search must not even be queued
    return (
        kb.store.last_seq(),
        len(kb.accounts.users()),
        sum(1 for t, _ in kb.accounts.tokens() if t.revoked_at is None),
        kb.analytics.report().searches,
    )


def test_every_route_has_a_rule_and_declares_it(world: tuple[TestClient, dict[str, Caller]]) -> None:
    client, _ = world
    routes = {(m, p): role for m, p, role in app_routes(client.app)}  # type: ignore[arg-type]
    assert set(routes) == set(RULES), "a route without a rule in RULES (or a rule for a route that is gone)"
    assert routes == RULES, "the role a route declares with requires(...) differs from RULES"


CELLS = list(itertools.product(RULES, [c.name for c in CALLERS]))


@pytest.mark.parametrize(("route", "who"), CELLS, ids=[f"{m} {p} as {w}" for (m, p), w in CELLS])
def test_matrix(world: tuple[TestClient, dict[str, Caller]], route: tuple[str, str], who: str) -> None:
    client, callers = world
    caller = callers[who]
    method, path = route
    rule = RULES[route]
    send = _prepare(client, caller, method, path)
    before = _state(client)
    response = send()
    code = response.status_code
    location = response.headers.get("location", "")
    allowed = rule is None or (caller.role is not None and caller.role.at_least(rule))
    if not allowed:
        if caller.role is None:
            assert code == 401 or (code == 303 and location.startswith("/login?next=")), (code, response.text[:200])
        else:
            assert code == 403, (code, response.text[:200])
        after = _state(client)
        assert after[:3] == before[:3], "a refused request changed the store"
        return
    if who == "outsider" and ("{doc_id}" in path or path.endswith("/feedback")):
        assert code == 404, (code, response.text[:200])
        assert "finance" not in response.text and "Vendor selection slipped" not in response.text
        return
    ok: Callable[[int], bool] = lambda c: c in (200, 201, 204, 303)  # noqa: E731
    assert ok(code), (code, response.text[:300])
