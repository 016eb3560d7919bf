"""Text a database can hold: the one check every way in (API, pages, forms, files, CLI) shares.

PostgreSQL refuses a NUL character in text; neither database can hold a lone
UTF-16 surrogate (``"\\ud800"`` in JSON decodes to one), which is not encodable
as UTF-8. Both used to fail deep in a write (a driver error, a
``UnicodeEncodeError`` while hashing) and answer 500, on SQLite and
PostgreSQL differently; refused here, they are a 422 naming the field on both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from kb.errors import InvalidInput

NUL = "contains a NUL character, which cannot be stored"
SURROGATE = "contains a lone UTF-16 surrogate, which is not text"


def problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or ``None`` when it can."""
    if "\x00" in text:
        return NUL
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE
    return None


def _strings(value: object, place: str) -> Iterator[tuple[str, str]]:
    """``(place, text)`` for every string in ``value`` (nested lists and mappings; keys too), dotted places."""
    if isinstance(value, str):
        yield place, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            inner = f"{place}.{key}" if place else str(key)
            yield from _strings(key, inner)
            yield from _strings(item, inner)
    elif isinstance(value, list | tuple | set | frozenset):
        for number, item in enumerate(value):
            yield from _strings(item, f"{place}.{number}" if place else str(number))


def check(value: object, place: str = "") -> None:
    """Raise ``InvalidInput`` naming the first string in ``value`` that cannot be stored (``place``: its field)."""
    for where, text in _strings(value, place):
        reason = problem(text)
        if reason is not None:
            raise InvalidInput(reason, place=where or None)
