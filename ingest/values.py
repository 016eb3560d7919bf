"""Reading one cell or record value as a field: text, dates, tags, status, kind, language.

Each parser raises ``ValueError`` with a reason a user can act on; the caller
adds the row and the column. Dates come in every form offices write them:
ISO, ``2024/5/1``, ``2024年5月1日``, Japanese eras (``令和6年5月1日``), English
month names and Excel serial numbers.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata

from ingest.mdtree import fold
from kb.record.models import Kind, Status

# Cells that mean "nothing here"; treated as empty for metadata fields.
PLACEHOLDERS = frozenset(
    {"n/a", "na", "-", "－", "—", "―", "なし", "該当なし", "none", "null", "not applicable", "not specified"}
)

_ENTITY = re.compile(r"&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);")
_TAG_SPLIT = re.compile(r"[,;、；，|｜\n]")

# Excel's day 0 is 1899-12-30 (it counts the 1900 leap day that never was).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serial numbers read as dates only in this range (1954-10-04 .. 2119-01-09), so a
# year such as 2024 or an id is never taken for a day in 1905.
_SERIALS = range(20_000, 80_001)

_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925, "r": 2018, "h": 1988, "s": 1925}
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?.*)?"  # a time after the date is dropped
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?" + _TIME + "$")
_YM = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_ERA = re.compile(r"^(令和|平成|昭和|[rhs])\s*(\d{1,2}|元)\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?$")
_MDY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# A time after a date ("May 1, 2024 10:00 AM" in Notion exports) says nothing about the day.
_TRAILING_TIME = re.compile(
    r"(?<=\d)(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?(?:\s*\(?[A-Z]{2,4}\)?)?$"
)
_NAMED_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%b %d %Y")


def cell_text(value: object) -> str:
    """A cell as text: numbers without a spurious ``.0``, dates as ISO, HTML entities of web exports decoded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).replace("\r\n", "\n").strip()
    return html.unescape(text) if _ENTITY.search(text) else text


def is_placeholder(text: str) -> bool:
    return unicodedata.normalize("NFKC", text).strip().casefold() in PLACEHOLDERS


def parse_date(value: object) -> dt.date:
    """A date from any common form (see the module docstring); ``ValueError`` otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(value)
    text = _TRAILING_TIME.sub("", unicodedata.normalize("NFKC", str(value)).strip())
    try:
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            return _serial(float(text))
        if m := _YMD.match(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _YM.match(text):
            return dt.date(int(m[1]), int(m[2]), 1)
        if m := _ERA.match(text.lower()):
            year = 1 if m[2] == "元" else int(m[2])
            return dt.date(_ERAS[m[1]] + year, int(m[3]), int(m[4]))
        if m := _MDY.match(text):
            first, second, year = int(m[1]), int(m[2]), int(m[3])
            # Month first (US, and Excel's default CSV) unless the first number cannot be a month.
            return dt.date(year, second, first) if first > 12 else dt.date(year, first, second)
    except ValueError as exc:
        raise ValueError(f"not a real date: {text!r} ({exc})") from None
    for fmt in _NAMED_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r} (write it as 2024-05-01, 2024/5/1 or 2024年5月1日)")


def _serial(number: float) -> dt.date:
    if int(number) not in _SERIALS:
        raise ValueError(f"not a date: {number:g} (a number is read as an Excel date only between 20000 and 80000)")
    return _EXCEL_EPOCH + dt.timedelta(days=int(number))


def split_tags(value: object) -> list[str]:
    """Tags from a list or from text separated by commas, semicolons, 、 or line breaks; order kept, no repeats."""
    items = value if isinstance(value, list | tuple) else _TAG_SPLIT.split(cell_text(value))
    tags: list[str] = []
    for item in items:
        tag = cell_text(item)
        if tag and not is_placeholder(tag) and tag not in tags:
            tags.append(tag)
    return tags


_STATUS_WORDS = {
    "公開": Status.published,
    "公開中": Status.published,
    "承認済": Status.published,
    "承認済み": Status.published,
    "有効": Status.published,
    "下書き": Status.draft,
    "草案": Status.draft,
    "ドラフト": Status.draft,
    "作成中": Status.draft,
    "旧版": Status.superseded,
    "改訂済": Status.superseded,
    "廃止": Status.archived,
    "アーカイブ": Status.archived,
}


def parse_status(text: str) -> Status:
    word = unicodedata.normalize("NFKC", text).strip().lower()
    if word in _STATUS_WORDS:
        return _STATUS_WORDS[word]
    try:
        return Status(word)
    except ValueError:
        raise ValueError(f"unknown status {text!r}; use one of {', '.join(s.value for s in Status)}") from None


def parse_kind(text: str, names: dict[str, Kind]) -> Kind:
    """A kind from its name or a folder name for it (``names``: ``FOLDER_KINDS``), e.g. 教訓, FAQ, 手順書."""
    word = fold(text)
    try:
        return Kind(word)
    except ValueError:
        pass
    if word in names:
        return names[word]
    raise ValueError(f"unknown kind {text!r}; use one of {', '.join(k.value for k in Kind)}")


_LANGUAGES = {"ja": "ja", "jp": "ja", "日本語": "ja", "japanese": "ja", "en": "en", "英語": "en", "english": "en"}


def parse_language(text: str) -> str:
    word = fold(text)
    if word in _LANGUAGES:
        return _LANGUAGES[word]
    if re.fullmatch(r"[a-z]{2}(?:[a-z]{2})?", word):  # "de", "zh-tw" folded to "zhtw"
        return word[:2]
    raise ValueError(f"not a language code: {text!r} (use ja or en)")
