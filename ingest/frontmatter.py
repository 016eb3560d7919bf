"""YAML front matter: parsing with python-frontmatter, checking every field's type.

Errors name the line in the file, counted from 1 the way an editor shows it.

Front matter comes from anyone who can drop a file in a folder or upload one,
so the YAML is screened before it is built into objects: a PMO front matter is
a dozen ``key: value`` lines and never needs anchors, aliases, explicit tags or
deep nesting. Aliases are what make a "billion laughs" file (nine anchors of
nine aliases, nine levels deep: 9⁹ values from twenty lines) expand when it is
walked; refusing them outright costs a real file nothing. The block itself is
capped (``MAX_FRONT_MATTER_CHARS``) so even the screening pass is bounded.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from kb.errors import InvalidInput
from kb.record.models import Kind, Status

# libyaml's safe loader when PyYAML was built with it: ten times faster, same result.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A front matter is a dozen short lines (well under 2,000 characters, long
# lesson texts included); 64 Ki characters is thirty times that, and YAML of that
# size parses in milliseconds. Longer text belongs in the body.
MAX_FRONT_MATTER_CHARS = 64 * 1024
# ``tags: [a, b]`` is depth 2 inside the top mapping; nothing real goes past 4.
# libyaml stops at 1,000 levels, but the pure-Python loader recurses until
# RecursionError, so the screen caps it for both.
MAX_FRONT_MATTER_DEPTH = 16
# Explicit tags that only spell out what plain YAML would infer anyway; any other
# tag (``!!binary``, ``!!set``, ``!!python/…``) builds values a document cannot hold.
_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
}

# Keys with a place in the content model; anything else is kept in ``meta``.
STRING_FIELDS = (
    "title",
    "project",
    "phase",
    "owner",
    "version",
    "supersedes",
    "category",
    "impact",
    "driving_event",
    "lesson",
    "recommendation",
    "question",
    "answer",
)
ALIASES = {"language": "lang", "doc_date": "date", "review-by": "review_by", "reviewby": "review_by"}


@dataclass
class FrontMatter:
    """Checked front matter and the body that follows it."""

    fields: dict[str, Any]
    meta: dict[str, Any]
    body: str
    body_line: int  # 1-based line of the body's first line in the file


def parse_front_matter(text: str, *, source: str) -> FrontMatter:
    """Split and check front matter; raise ``InvalidInput`` with the file line on any problem."""
    text = text.lstrip("\ufeff")
    if not re.match(r"^-{3,}\s*$", text.split("\n", 1)[0]):
        return FrontMatter({}, {}, text, 1)
    if not re.search(r"^-{3,}\s*$", text.split("\n", 1)[1] if "\n" in text else "", re.M):
        raise InvalidInput("front matter opened with '---' on line 1 is never closed", source=source, line=1)
    # python-frontmatter splits; we load the YAML ourselves because its
    # ``parse`` quietly turns front matter that is not a mapping into {}.
    fm_text, body = YAMLHandler().split(text)
    if len(fm_text) > MAX_FRONT_MATTER_CHARS:
        raise InvalidInput(
            f"front matter (lines 1–{fm_text.count(chr(10)) + 1}) is {len(fm_text):,} characters, over the limit of "
            f"{MAX_FRONT_MATTER_CHARS:,}: keep front matter to short `key: value` lines and put long text in the body",
            source=source,
            line=1,
        )
    try:
        _screen(fm_text, source)
        raw = yaml.load(fm_text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"front matter is not valid YAML: {problem}", source=source, line=line) from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidInput("front matter must be a mapping of `key: value` lines", source=source, line=2)
    fm_lines = text.split("\n")
    closing = next(i for i, line in enumerate(fm_lines[1:], start=1) if re.match(r"^-{3,}\s*$", line))
    fields, meta = _check(raw, fm_lines[: closing + 1], source)
    return FrontMatter(fields, meta, body, closing + 2)


def _screen(fm_text: str, source: str) -> None:
    """Refuse anchors, aliases, unusual tags and deep nesting, reading YAML events only.

    Events are the parser's output before any object is built, so this pass is
    linear in the text whatever it holds; an alias bomb is stopped at its first
    anchor. Lines count from the ``---`` line, which is line 1 of the file.
    """
    depth = 0
    for event in yaml.parse(fm_text, Loader=_SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        anchor = getattr(event, "anchor", None)  # an alias event's ``anchor`` is the name it refers to
        if anchor is not None:
            what = f"alias `*{anchor}`" if isinstance(event, yaml.AliasEvent) else f"anchor `&{anchor}`"
            raise InvalidInput(
                f"front matter uses the YAML {what}: anchors and aliases are not accepted "
                "(a few lines of them can expand to billions of values); write each value out",
                source=source,
                line=line,
            )
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _PLAIN_TAGS:
            raise InvalidInput(
                f"front matter uses the YAML tag `{tag}`: write plain text, numbers, dates and lists",
                source=source,
                line=line,
            )
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_FRONT_MATTER_DEPTH:
                raise InvalidInput(
                    f"front matter is nested more than {MAX_FRONT_MATTER_DEPTH} levels deep: "
                    "use flat `key: value` lines and simple lists",
                    source=source,
                    line=line,
                )
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def _check(raw: dict[Any, Any], fm_lines: list[str], source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    fields: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    for raw_key, value in raw.items():
        key = ALIASES.get(str(raw_key).lower(), str(raw_key).lower())

        def bad(expected: str, key: str = key, raw_key: Any = raw_key, value: Any = value) -> InvalidInput:
            return InvalidInput(
                f"front matter `{raw_key}` must be {expected}, not {value!r}",
                source=source,
                line=_key_line(fm_lines, str(raw_key)),
            )

        if value is None:
            continue
        if key == "kind":
            try:
                fields["kind"] = Kind(str(value).strip().lower())
            except ValueError:
                raise bad("one of " + ", ".join(k.value for k in Kind)) from None
        elif key == "status":
            try:
                fields["status"] = Status(str(value).strip().lower())
            except ValueError:
                raise bad("one of " + ", ".join(s.value for s in Status)) from None
        elif key == "lang":
            if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}(-[A-Za-z]{2})?", value.strip()):
                raise bad("a language code such as ja or en")
            fields["language"] = value.strip().lower()[:2]
        elif key in ("tags", "groups"):
            if isinstance(value, str):
                value = [t for t in re.split(r"[,、，]", value)]
            if not isinstance(value, list) or not all(isinstance(t, str | int | float) for t in value):
                raise bad("a list of words")
            fields[key] = [str(t).strip() for t in value if str(t).strip()]
        elif key in ("review_by", "date"):
            fields["review_by" if key == "review_by" else "doc_date"] = _date(value, bad)
        elif key in STRING_FIELDS:
            if isinstance(value, dict | list):
                raise bad("text")
            fields[key] = str(value).strip()
        else:
            meta[str(raw_key)] = _jsonable(value)
    return fields, meta


def _date(value: Any, bad: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip().replace("/", "-"))
    except ValueError:
        raise bad("a date written YYYY-MM-DD") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _key_line(fm_lines: list[str], key: str) -> int:
    for number, line in enumerate(fm_lines, start=1):
        if re.match(rf"^\s*{re.escape(key)}\s*:", line):
            return number
    return 1
