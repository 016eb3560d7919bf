"""One place that turns errors into responses: JSON under ``/api``, an HTML page elsewhere.

Domain errors carry their own status and a message a user can act on; request
validation errors become 422 with the field named; anything unexpected is a
500 without internals in the body (and a log entry).
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from kb.errors import KbError, Unauthorized
from web.deps import language_of

log = logging.getLogger(__name__)


def error_response(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api"):
        return JSONResponse({"status": status, "message": message}, status_code=status)
    from web.pages import render  # the pages module owns the page context (language, CSRF)

    return render(request, "error.html", language_of(request), status_code=status, status=status, message=message)


def unauthorized(request: Request, exc: Unauthorized) -> Response:
    """401: the API says so (with the Bearer challenge); a page sends the browser to the login page and back."""
    if request.url.path.startswith("/api") or request.method != "GET":
        response = error_response(request, 401, exc.message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="kb"'
        return response
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": here}), status_code=303)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KbError)
    async def domain_error(request: Request, exc: KbError) -> Response:
        if isinstance(exc, Unauthorized):
            return unauthorized(request, exc)
        return error_response(request, exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg', 'invalid')}"
            for e in exc.errors()
        )
        return error_response(request, 422, problems or "invalid request")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return error_response(request, 500, "internal error")
