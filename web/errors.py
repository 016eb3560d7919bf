"""One place that turns errors into responses: JSON under ``/api``, an HTML page elsewhere.

Domain errors carry their own status and a message a user can act on; request
validation errors become 422 with the field named; anything unexpected is a
500 without internals in the body (and a log entry).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from kb.errors import KbError, PasswordChangeRequired, Unauthorized
from web.deps import language_of
from web.error_words import error_text

log = logging.getLogger(__name__)


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "properties": {
        "status": {"type": "integer", "description": "The HTTP status, again"},
        "message": {"type": "string", "description": "What went wrong, for a person (names the field or file)"},
    },
    "required": ["status", "message"],
}
"""The body of every JSON error (``error_response``), as the OpenAPI document declares it."""

ERRORS = {
    400: "The body could not be parsed (not JSON, not a form)",
    401: "No valid credentials (an API token: `Authorization: Bearer …`)",
    403: "The caller's role or groups do not allow this",
    404: "No such document, token, account or brief (or one the caller may not see)",
    409: "The change conflicts with what is stored",
    413: "The request body is over the size limit",
    422: "A parameter or field is invalid: the message names it",
}


def declare_errors(schema: dict[str, Any]) -> None:
    """Declare, on every operation of an OpenAPI ``schema``, the error answers it can give, with the error body.

    One rule for all routes instead of a ``responses=`` on each: every
    operation may answer 401, 403 and 422 (auth and parameters, including text
    that cannot be stored); one naming something (a path parameter or a body)
    may answer 404; one with a body may answer 413 and, when it writes, 409.
    FastAPI's own 422 schema (a list of pydantic errors) is replaced by ours,
    which is what the handler below really sends.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for name in _request_components(schema):
        _storable_strings(components[name])
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            has_path = any(p.get("in") == "path" for p in operation.get("parameters", []))
            has_body = "requestBody" in operation
            codes = [401, 403, 422]
            codes += [404] if has_path or has_body else []
            codes += [400, 413] if has_body else []
            codes += [409] if has_body and method in ("post", "put", "patch") else []
            for parameter in operation.get("parameters", []):
                _storable_strings(parameter.get("schema", {}))
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses[str(code)] = {"description": ERRORS[code], "content": body}


NO_NUL = "^[^\\u0000]*$"
"""What every string a client sends must match: PostgreSQL cannot hold a NUL (``web.storable``)."""


def _storable_strings(schema: dict[str, Any]) -> None:
    """Declare on every free string of a request ``schema`` (nested, not ``$ref``) that it holds no NUL.

    A string that has a pattern already gets the rule as an ``allOf``
    member; enumerations and formats cannot hold a NUL anyway.
    """
    if schema.get("type") == "string" and not ({"enum", "const", "format"} & schema.keys()):
        if "pattern" in schema:
            schema.setdefault("allOf", []).append({"pattern": NO_NUL})
        else:
            schema["pattern"] = NO_NUL
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _storable_strings(schema[key])
    for key in ("properties",):
        for inner in schema.get(key, {}).values():
            _storable_strings(inner)
    for key in ("anyOf", "oneOf", "allOf"):
        for inner in schema.get(key, []):
            if isinstance(inner, dict) and inner.get("pattern") != NO_NUL:
                _storable_strings(inner)


def _request_components(schema: dict[str, Any]) -> set[str]:
    """Names of the component schemas a request body refers to, directly or nested."""
    components = schema.get("components", {}).get("schemas", {})
    todo = [
        content.get("schema", {})
        for item in schema.get("paths", {}).values()
        for operation in item.values()
        for content in operation.get("requestBody", {}).get("content", {}).values()
    ]
    names: set[str] = set()
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and (name := ref.rsplit("/", 1)[1]) not in names:
                names.add(name)
                todo.append(components.get(name, {}))
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return names


def error_response(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api"):
        return JSONResponse({"status": status, "message": message}, status_code=status)
    from web.pages import render  # the pages module owns the page context (language, CSRF)

    lang = language_of(request)
    text = error_text(status, message, lang)
    back = _form_page(request) if request.method == "POST" else None
    return render(request, "error.html", lang, status_code=status, status=status, text=text, back=back)


def _form_page(request: Request) -> str | None:
    """The page a refused form was sent from (its Referer on this site), so the error page can lead back to it.

    Only a path on this server: a Referer naming another site gives no link.
    """
    referer = urlsplit(request.headers.get("referer", ""))
    if not referer.path.startswith("/") or referer.path.startswith("//") or referer.netloc != request.url.netloc:
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


def unauthorized(request: Request, exc: Unauthorized) -> Response:
    """401: the API says so (with the Bearer challenge); a page sends the browser to the login page and back."""
    if request.url.path.startswith("/api") or request.method != "GET":
        response = error_response(request, 401, exc.message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="kb"'
        return response
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": here}), status_code=303)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this request's path (RFC 9110 §15.5.6: a 405 lists them all)."""
    methods: set[str] = set()
    for route in _routes(request.app.router.routes):
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def _routes(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes themselves: FastAPI wraps an included router in one route (``original_router``) matching all."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _routes(inner.routes) if inner is not None else (route,)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KbError)
    async def domain_error(request: Request, exc: KbError) -> Response:
        if isinstance(exc, Unauthorized):
            return unauthorized(request, exc)
        if isinstance(exc, PasswordChangeRequired) and not request.url.path.startswith("/api"):
            return RedirectResponse("/account?first=1", status_code=303)  # the page says why, in their language
        return error_response(request, exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = error_response(request, exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # Starlette names the first matching route's methods only
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

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
