"""Refuse a request carrying text no database can hold, whatever part of it carries it.

One dependency on the whole app (``create_app``), so no route, present or
future, can forget it: path and query parameters, form fields (and uploaded
file names) and every string of a JSON body are checked with
``kb.record.storable`` before a route runs, and the first bad one is a 422 naming it
(``lessons.0.lesson: contains a NUL character…``), on SQLite and PostgreSQL
alike. A search query or a login with a NUL would otherwise reach PostgreSQL
as a query parameter and fail there. Documents get the same check again
where every way in meets (``DocumentDraft``), for the CLI and files.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import Request
from starlette.datastructures import UploadFile

from kb.record import storable


async def refuse_unstorable(request: Request) -> AsyncIterator[None]:
    """Raise ``InvalidInput`` for the first parameter or body field holding a NUL or a lone surrogate.

    A form is parsed once (the route's own form parameters read the same
    object); closing it afterwards releases its spooled files when the route
    itself takes no form (FastAPI closes those it parsed; closing twice is harmless).
    """
    try:
        await _check(request)
        yield
    finally:
        await request.close()


async def _check(request: Request) -> None:
    storable.check(dict(request.path_params))
    for name, value in request.query_params.multi_items():
        storable.check(value, name)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        for name, field in form.multi_items():
            storable.check((field.filename or "") if isinstance(field, UploadFile) else field, name)
    elif content_type == "application/json" or content_type.endswith("+json"):
        body = await request.body()  # cached: the route's body parameter reads the same bytes
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return  # the route's body validation says what is wrong with it
        storable.check(data)
