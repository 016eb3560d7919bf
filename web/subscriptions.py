"""Subscriptions, the inbox, feeds, unsubscribe links and the project register: pages and API, thin over
``app.subscriptions``, ``app.notify`` and ``app.projects``.

``install`` adds the routes and the header's unread count; ``Notifier`` is the
scheduler ``kb serve`` runs (one pass every KB_NOTIFY_SECONDS, and at once
after a write through the app).
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from app import notify as app_notify
from app import projects as app_projects
from app import subscriptions as app_subscriptions
from app.caller import Caller
from kb.engine import KnowledgeBase
from kb.errors import KbError
from kb.identity.access import ANONYMOUS, Principal
from kb.notify.subscriptions import CHANNELS, FORMATS, RHYTHMS, TOPICS
from web.deps import CsrfDep, KbDep, LangDep, Role, caller_of, requires
from web.pages import render
from web.schemas import RowId

log = logging.getLogger(__name__)
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])
ReaderDep = Annotated[Principal, Depends(requires(Role.reader))]
ContributorDep = Annotated[Principal, Depends(requires(Role.contributor))]
Short = Annotated[str, Form(max_length=2000)]
FILTERS = ("kind", "project", "phase", "tag", "language")


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace("、", ",").split(",") if v.strip()]


# -- pages ---------------------------------------------------------------------------------------------------


@pages.get("/subscriptions", response_class=HTMLResponse)
def subscriptions_page(request: Request, kb: KbDep, who: ReaderDep, lang: LangDep) -> HTMLResponse:
    """My subscriptions, what each last sent (or why it could not), and a form for a new one."""
    mine = app_subscriptions.mine(kb, caller=caller_of(request, who))
    return render(
        request, "subscriptions.html", lang, mine=mine, topics=TOPICS, channels=CHANNELS, rhythms=RHYTHMS,
        formats=FORMATS, public_url=kb.settings.public_url.rstrip("/"), saved=request.query_params.get("saved"),
        form={k: request.query_params.get(k, "") for k in ("topic", "query", "target")},
    )  # fmt: skip


@pages.post("/subscriptions", dependencies=[CsrfDep])
async def subscribe_form(
    request: Request,
    kb: KbDep,
    who: ReaderDep,
    lang: LangDep,
    topic: Short = "search",
    query: Short = "",
    target: Short = "",
    channel: Short = "inbox",
    rhythm: Short = "now",
    address: Short = "",
    format: Short = "json",
) -> Response:
    """Subscribe from this page, a search page (its words and filters), a document or a project."""
    form = await request.form()
    if topic != "search" and not target:  # the page's one "words or value" field names a topic's value too
        target, query = query, ""
    filters = {f"{name}s": [str(v) for v in form.getlist(name)] for name in FILTERS}
    app_subscriptions.subscribe(
        kb, caller=caller_of(request, who), topic=topic, query=query, target=target, filters=filters,
        channel=channel, rhythm=rhythm, address=address, format=format, language=lang,
    )  # fmt: skip
    return RedirectResponse("/subscriptions?saved=1", status_code=303)


@pages.post("/subscriptions/{subscription_id}/stop", dependencies=[CsrfDep])
def stop_form(request: Request, kb: KbDep, who: ReaderDep, subscription_id: RowId) -> Response:
    app_subscriptions.stop(kb, caller=caller_of(request, who), subscription_id=subscription_id)
    return RedirectResponse("/subscriptions", status_code=303)


@pages.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, kb: KbDep, who: ReaderDep, lang: LangDep) -> HTMLResponse:
    entries = app_notify.inbox(kb, caller=caller_of(request, who))
    return render(request, "inbox.html", lang, entries=entries)


@pages.get("/inbox/{message_id}")
def open_inbox_entry(request: Request, kb: KbDep, who: ReaderDep, message_id: RowId) -> Response:
    """Open an entry: it is marked read, and the reader lands on its brief or document."""
    target = app_notify.open_entry(kb, caller=caller_of(request, who), message_id=message_id)
    return RedirectResponse(target, status_code=303)


@pages.get("/unsubscribe/{subscription_id}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, subscription_id: RowId, token: str, lang: LangDep) -> HTMLResponse:
    """The link in every message: a confirmation (a mail scanner fetching links must not unsubscribe)."""
    return render(request, "unsubscribe.html", lang, subscription_id=subscription_id, token=token, done=False)


@pages.post("/unsubscribe/{subscription_id}", response_class=HTMLResponse)
def unsubscribe_post(
    request: Request, kb: KbDep, subscription_id: RowId, lang: LangDep, token: str = ""
) -> HTMLResponse:
    """Stop the subscription: the signed token is the proof, no login (also RFC 8058 one-click from mail apps)."""
    caller = Caller(ANONYMOUS, "web", request.client.host if request.client else None)
    app_subscriptions.unsubscribe(kb, caller=caller, subscription_id=subscription_id, token=token)
    return render(request, "unsubscribe.html", lang, subscription_id=subscription_id, token=token, done=True)


@pages.get("/feeds/{token}.atom")
def feed(kb: KbDep, token: str) -> Response:
    """A subscription's Atom feed; the secret URL is the key (feed readers do not log in)."""
    return Response(app_notify.feed(kb, token=token), media_type="application/atom+xml")


@pages.get("/projects", response_class=HTMLResponse)
def projects_page(request: Request, kb: KbDep, who: ReaderDep, lang: LangDep) -> HTMLResponse:
    listed = app_projects.listed(kb, caller=caller_of(request, who))
    return render(request, "projects.html", lang, projects=listed)


@pages.post("/projects", dependencies=[CsrfDep])
def save_project_form(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    name: Annotated[str, Form(max_length=200)],
    aliases: Short = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    pm: Short = "",
    members: Short = "",
    planned: Short = "",
) -> Response:
    plan = dict(line.split("=", 1) for line in planned.replace("＝", "=").splitlines() if "=" in line)
    app_projects.save(
        kb, caller=caller_of(request, who), name=name, aliases=_split(aliases), description=description, pm=pm,
        members=_split(members), planned={k.strip(): v.strip() for k, v in plan.items()},
    )  # fmt: skip
    return RedirectResponse("/projects", status_code=303)


@pages.post("/projects/phase", dependencies=[CsrfDep])
def enter_phase_form(
    request: Request, kb: KbDep, who: ContributorDep, name: Annotated[str, Form(max_length=200)], phase: Short
) -> Response:
    app_projects.enter_phase(kb, caller=caller_of(request, who), name=name, phase=phase)
    kb_wake(request)
    return RedirectResponse("/projects", status_code=303)


def kb_wake(request: Request) -> None:
    notifier = getattr(request.app.state, "notifier", None)
    if notifier is not None:
        notifier.wake()


# -- API -----------------------------------------------------------------------------------------------------


class SubscriptionIn(BaseModel):
    topic: str = Field(description="search, tag, category, phase, project, kind or document")
    query: str = Field(default="", max_length=2000)
    target: str = Field(default="", max_length=500)
    filters: dict[str, list[str]] = Field(default_factory=dict, description="kinds, projects, phases, tags, languages")
    channel: str = "inbox"
    rhythm: str = "now"
    address: str = Field(default="", max_length=1000)
    format: str = "json"
    language: str = "ja"


class SubscriptionOut(BaseModel):
    id: int
    topic: str
    query: str
    target: str
    channel: str
    rhythm: str
    active: bool
    feed_url: str | None = None
    webhook_secret: str | None = None


def _out(kb: KnowledgeBase, sub: Any) -> SubscriptionOut:
    base = kb.settings.public_url.rstrip("/")
    return SubscriptionOut(
        id=sub.id, topic=sub.topic, query=sub.query, target=sub.target, channel=sub.channel, rhythm=sub.rhythm,
        active=sub.active, feed_url=f"{base}/feeds/{sub.feed_token}.atom" if sub.channel == "feed" else None,
        webhook_secret=sub.secret if sub.channel == "webhook" else None,
    )  # fmt: skip


@api.get("/subscriptions")
def list_subscriptions(request: Request, kb: KbDep, who: ReaderDep) -> list[SubscriptionOut]:
    return [_out(kb, m.subscription) for m in app_subscriptions.mine(kb, caller=caller_of(request, who))]


@api.post("/subscriptions", status_code=201)
def create_subscription(request: Request, kb: KbDep, who: ReaderDep, body: SubscriptionIn) -> SubscriptionOut:
    sub = app_subscriptions.subscribe(kb, caller=caller_of(request, who), **body.model_dump())
    return _out(kb, sub)


@api.delete("/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(request: Request, kb: KbDep, who: ReaderDep, subscription_id: RowId) -> Response:
    app_subscriptions.stop(kb, caller=caller_of(request, who), subscription_id=subscription_id)
    return Response(status_code=204)


class InboxOut(BaseModel):
    id: int
    subject: str
    read: bool
    link: str
    items: list[dict[str, str]]


@api.get("/inbox")
def list_inbox(request: Request, kb: KbDep, who: ReaderDep) -> list[InboxOut]:
    entries = app_notify.inbox(kb, caller=caller_of(request, who))
    return [
        InboxOut(id=e.message.id or 0, subject=e.subject, read=e.message.read_at is not None, link=e.link,
                 items=[{"id": i.id, "title": i.title, "kind": i.kind, "url": i.url} for i in e.items])
        for e in entries
    ]  # fmt: skip


class PhaseIn(BaseModel):
    phase: str = Field(min_length=1, max_length=200)


class ProjectOut(BaseModel):
    name: str
    phase: str
    pm: str
    members: list[str]
    aliases: list[str]
    planned: dict[str, str]


@api.get("/projects")
def list_projects(request: Request, kb: KbDep, who: ReaderDep) -> list[ProjectOut]:
    return [ProjectOut(**p.model_dump()) for p in app_projects.listed(kb, caller=caller_of(request, who))]


@api.post("/projects/{name}/phase")
def enter_phase_api(request: Request, kb: KbDep, who: ContributorDep, name: str, body: PhaseIn) -> ProjectOut:
    """Move a project into a phase from a PM tool: its members get that phase's kickoff brief."""
    row = app_projects.enter_phase(kb, caller=caller_of(request, who), name=name, phase=body.phase)
    kb_wake(request)
    return ProjectOut(**row.model_dump())


# -- the scheduler and the header ----------------------------------------------------------------------------


class Notifier:
    """``kb serve``'s scheduler: ``app.notify.run`` every ``interval`` seconds, and soon after a write."""

    def __init__(self, kb: KnowledgeBase, *, interval: float) -> None:
        self.kb = kb
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-notifier", daemon=True)

    def start(self) -> None:
        if self.interval > 0:
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                app_notify.run(self.kb)
            except Exception:  # a failed pass must not stop the scheduler; the next one retries
                log.exception("notification pass failed")


def install(app: FastAPI) -> None:
    """Add the routes and the header's unread count (``inbox_unread(who)`` in templates)."""
    app.include_router(api)
    app.include_router(pages)

    def inbox_unread(who: Principal) -> int:
        kb: KnowledgeBase | None = getattr(app.state, "kb", None)
        if kb is None or not who.login:
            return 0
        try:
            return app_notify.unread(kb, caller=Caller(who, "web"))
        except KbError:
            return 0

    def push_numbers() -> dict[str, Any]:
        """The dashboard's push panel (PMO admins only see the dashboard): per topic, failures, reach."""
        kb: KnowledgeBase = app.state.kb
        numbers, titles, names = app_notify.push_panel(kb)
        return {"numbers": numbers, "titles": titles, "names": names}

    app.state.templates.env.globals["inbox_unread"] = inbox_unread
    app.state.templates.env.globals["push_numbers"] = push_numbers
