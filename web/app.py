"""The web application: one FastAPI app built from explicit settings.

``create_app`` is the composition root: the lifespan opens the knowledge base
(store, embedder, indexes, searcher), catches the indexes up with the store and
starts the change-log follower; everything lives on ``app.state``. No globals,
no import-time side effects: tests build isolated apps from temporary settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.pmo.clusters import ClusterCache
from kb.pmo.vocabulary import Vocabulary
from kb.search.embedders.base import Embedder
from web import (
    account,
    accounts_api,
    admin,
    api,
    briefs,
    dashboard,
    editing,
    feedback,
    ops,
    pages,
    standards,
    subscriptions,
)
from web.deps import csrf_guard, one_time_password_guard
from web.display import install_display, zone_of
from web.error_words import delivery_reason
from web.errors import declare_errors, error_response, install_error_handlers
from web.follower import Follower
from web.i18n import translate
from web.rendering import file_parts, part_names, render_markdown
from web.storable import refuse_unstorable

# Scripts and styles from our own origin only (no inline script); the API docs page needs its CDN assets,
# so /docs gets FastAPI's defaults and this policy applies everywhere else.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        kb = KnowledgeBase.open(settings, embedder=embedder)
        kb.catch_up()
        follower = Follower(kb, interval=settings.follow_seconds)
        follower.start()
        recurring = ClusterCache(lambda: kb.indexer, interval=settings.follow_seconds)
        recurring.start()
        app.state.kb = kb
        app.state.follower = follower
        kb.searcher.on_search = metrics.observe_search
        kb.hooks.indexed.append(follower.changed)
        kb.hooks.written.append(lambda outcome, documents: metrics.written.labels(outcome).inc(documents))
        kb.clusters = recurring
        app.state.clusters = recurring
        notifier = subscriptions.Notifier(kb, interval=settings.notify_seconds)
        kb.hooks.indexed.append(notifier.wake)
        notifier.start()
        app.state.notifier = notifier
        try:
            yield
        finally:
            notifier.stop()
            recurring.stop()
            follower.stop()
            kb.close()

    app = FastAPI(
        title="PMO knowledge base",
        summary="Lessons learned, FAQs, templates and procedures, searchable in Japanese and English.",
        version="0.1.0",
        lifespan=lifespan,
        # every route, pages and API alike: state-changing requests a cookie authenticates must come from our
        # pages; text the database cannot hold (NUL, lone surrogates) is refused with a 422 naming the field; a
        # session still on an admin-issued one-time password reaches only the account page until it chooses its own
        dependencies=[Depends(csrf_guard), Depends(refuse_unstorable), Depends(one_time_password_guard)],
    )
    app.state.settings = settings
    templates = Jinja2Templates(directory=str(files("templates")))
    templates.env.globals["render_markdown"] = render_markdown
    templates.env.globals.update(file_parts=file_parts, part_names=part_names)  # sheets and slides of office files
    templates.env.globals["translate"] = translate
    templates.env.globals["delivery_reason"] = delivery_reason  # a failed delivery's stored reason, in words
    app.state.vocabulary = Vocabulary.load(settings.vocabulary)
    templates.env.globals["vocabulary"] = app.state.vocabulary
    install_display(templates.env.globals, zone=zone_of(settings.timezone), vocabulary=app.state.vocabulary)
    app.state.templates = templates
    install_error_handlers(app)
    metrics = ops.install(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Defence in depth behind escaping: no inline or third-party script can run on our pages."""
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.middleware("http")
    async def request_size_limit(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Refuse a request body larger than one upload batch before anything reads it.

        Starlette spools multipart bodies to disk before a route sees them; a
        declared Content-Length over the limit is answered 413 at once. (A proxy
        should also cap chunked bodies, which declare no length.)
        """
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > settings.max_request_bytes:
            limit = f"{settings.max_request_bytes:,} bytes (setting KB_MAX_REQUEST_BYTES)"
            return error_response(request, 413, f"the request is {int(length):,} bytes, over the limit of {limit}")
        return await call_next(request)

    app.include_router(api.router)
    app.include_router(accounts_api.router)
    app.include_router(standards.api)
    app.include_router(briefs.api)
    app.include_router(pages.router)
    app.include_router(standards.pages)
    app.include_router(briefs.pages)
    app.include_router(dashboard.router)
    app.include_router(account.router)
    app.include_router(admin.router)
    app.include_router(editing.router)
    app.include_router(feedback.router)
    app.include_router(ops.router)
    subscriptions.install(app)
    app.openapi = lambda: _openapi_with_bearer(app)  # type: ignore[method-assign]
    app.mount("/static", StaticFiles(directory=str(files("templates") / "static")), name="static")
    return app


def _openapi_with_bearer(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, declaring that every ``/api`` operation takes ``Authorization: Bearer <token>``."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "An API token (`kb token create`)."}
        }
        schema["security"] = [{"bearer": []}]
        declare_errors(schema)
        app.openapi_schema = schema
    return app.openapi_schema
