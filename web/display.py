"""How stored values read on a page: times in the reader's zone, audit events in words, a document's source.

Pure functions over plain values, registered as template globals by the app.
The database keeps UTC and codes (``brief_save``, ``via=session``); a PMO
reads "2025-04-01 09:30 JST" and "Saved a kickoff brief · in the browser".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from kb.pmo.vocabulary import Vocabulary
from web.i18n import MESSAGES, translate

SYNTHETIC_SOURCES = ("form:",)
"""Sources that name no file (the retrospective form's ``form:<uuid>``): nothing a reader can open or recognise."""


def zone_of(name: str) -> dt.tzinfo:
    """The zone ``KB_TIMEZONE`` names, or the server's own zone when it is empty."""
    if name:
        return ZoneInfo(name)
    return dt.datetime.now().astimezone().tzinfo or dt.UTC


def local_time(at: dt.datetime | None, zone: dt.tzinfo, *, seconds: bool = False, date_only: bool = False) -> str:
    """``at`` in ``zone`` with the zone's abbreviation (``2025-04-01 09:30 JST``); a naive time is UTC."""
    if at is None:
        return ""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    here = at.astimezone(zone)
    if date_only:
        return here.strftime("%Y-%m-%d")
    return here.strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else "")) + " " + (here.strftime("%Z") or "")


def source_label(source_path: str | None) -> str | None:
    """The file name a reader recognises (``report.xlsx`` for ``upload:report.xlsx``); None for a form's id."""
    if not source_path or source_path.startswith(SYNTHETIC_SOURCES):
        return None
    name = source_path.removeprefix("upload:")
    return PurePosixPath(name.replace("\\", "/")).name or None


AUDIT_PREFIX = "audit_action_"


def audit_actions(lang: str) -> list[tuple[str, str]]:
    """(code, words) of every audit action the UI knows, by their words: the audit page's pick-list."""
    codes = [key.removeprefix(AUDIT_PREFIX) for key in MESSAGES if key.startswith(AUDIT_PREFIX)]
    return sorted(((c, audit_action(c, lang)) for c in codes), key=lambda pair: pair[1])


def audit_action(action: str, lang: str) -> str:
    """What an audit action means in words; a code the catalog lacks reads with spaces, never as a raw code."""
    key = AUDIT_PREFIX + action
    return translate(key, lang) if key in MESSAGES else action.replace("_", " ")


# Details whose value is itself a code with words in the catalog: prefixes of the keys to try, in order.
_CODED = {
    "kind": ("kind_",),
    "status": ("status_", "file_", "action_"),
    "role": ("role_",),
    "cap": ("role_",),
    "via": ("via_",),
    "topic": ("topic_",),
    "channel": ("channel_",),
    "rhythm": ("rhythm_",),
    "verdict": ("verdict_", ""),
    "language": ("lang_", "language_"),
}
_COUNTS = ("added", "updated", "unchanged", "failed", "skipped", "removed")


def audit_details(detail: Mapping[str, Any], lang: str, *, skip: tuple[str, ...] = ()) -> list[str]:
    """An event's details as short phrases in ``lang``: ``via=session items=17`` reads "in the browser", "17 items".

    Counts of zero are left out (a demo load that skipped nothing says
    nothing about skipping); a key the catalog lacks reads "key: value".
    """
    phrases: list[str] = []
    for key, value in detail.items():
        if key in skip or value in ("", None, [], {}) or (key in _COUNTS and value == 0):
            continue
        if key in _COUNTS:
            phrases.append(f"{translate('file_' + key, lang)} {value}")
            continue
        shown = _coded(key, value, lang)
        if isinstance(value, bool):  # "comment: True" says less than "コメント: あり"
            shown = translate("detail_yes" if value else "detail_no", lang)
        if isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        label = "detail_" + key
        if label in MESSAGES:
            phrases.append(translate(label, lang, value=shown))
        else:
            phrases.append(f"{key.replace('_', ' ')}: {shown}")
    return phrases


def _coded(key: str, value: Any, lang: str) -> str:
    for prefix in _CODED.get(key, ()):
        if prefix + str(value) in MESSAGES:
            return translate(prefix + str(value), lang)
    return str(value)


_IMPACT = {
    "high": "impact_high",
    "高": "impact_high",
    "大": "impact_high",
    "medium": "impact_medium",
    "moderate": "impact_medium",
    "中": "impact_medium",
    "low": "impact_low",
    "低": "impact_low",
    "小": "impact_low",
}


def field_words(field: str, value: Any, lang: str, *, vocabulary: Vocabulary) -> str:
    """A document field's value as the reader's language says it: impact ``high`` is 高, phase 要件定義 is
    Requirements; a value nobody has words for reads as written."""
    text = str(value)
    field = _FIELD_OF.get(field, field)
    if field == "impact" and text.strip().casefold() in _IMPACT:
        return translate(_IMPACT[text.strip().casefold()], lang)
    if field in ("phase", "category", "tag"):
        return vocabulary.label(field, vocabulary.canonical(field, text) or text, lang)
    return _coded(field, text, lang)  # a code with words in the catalog (kind lesson: 教訓), else as written


# The other names a field goes by (a search filter's ``kinds``, a facet's ``tags``).
_FIELD_OF = {"kinds": "kind", "statuses": "status", "languages": "language", "tags": "tag", "phases": "phase"}


def install_display(globals_: dict[str, Any], *, zone: dt.tzinfo, vocabulary: Vocabulary) -> None:
    """Make these functions available to every template (times bound to the configured zone)."""

    def shown_time(at: dt.datetime | None, seconds: bool = False, date_only: bool = False) -> str:
        return local_time(at, zone, seconds=seconds, date_only=date_only)

    def shown_field(field: str, value: Any, lang: str) -> str:
        return field_words(field, value, lang, vocabulary=vocabulary)

    globals_.update(
        local_time=shown_time,
        field_words=shown_field,
        source_label=source_label,
        audit_action=audit_action,
        audit_actions=audit_actions,
        audit_details=audit_details,
    )
