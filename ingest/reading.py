"""Turning a file's bytes into text: size limit, binary check, encoding detection.

Japanese files still arrive in Shift_JIS/CP932, EUC-JP or UTF-16 from older
tools. Byte-order marks come first; then strict UTF-8 (it almost never decodes
anything else by accident); then UTF-16 without a BOM, recognised by its NUL
bytes all falling on one side of each pair (ASCII characters in UTF-16); then
charset-normalizer, limited to the encodings such files really use, so short
Japanese text is not mistaken for a Western code page and stored as mojibake.
Text that was already mojibake when it arrived is refused (``ingest.mojibake``).
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from ingest.mojibake import find_mojibake
from kb.errors import InvalidInput

# Encodings seen in Japanese and English office files, most specific first.
# Limiting detection to these is what keeps a short CP932 file from being read
# as, say, Cyrillic (charset-normalizer's guess over all code pages).
CANDIDATE_ENCODINGS = ["utf_8", "cp932", "euc_jp", "iso2022_jp", "utf_16", "cp1252"]

# ISO-2022-JP (JIS) switches into JIS X 0208 with ESC $ B or ESC $ @; old mail and text exports use it.
_ISO2022_SHIFT = re.compile(rb"\x1b\$[@B]")

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes, *, source: str) -> str:
    """Decode file bytes to text, or raise ``InvalidInput`` naming the file and the reason."""
    if not data.strip():
        raise InvalidInput("file is empty", source=source)
    text = next((_decode(data, enc, source) for bom, enc in _BOMS if data.startswith(bom)), None)
    if text is None and _ISO2022_SHIFT.search(data[:8192]) and data.isascii():
        text = _decode(data, "iso2022_jp", source)  # 7-bit: it would pass as UTF-8, escapes and all
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _utf16_without_bom(data) or _detect(data, source)
    if _looks_binary(text):
        raise InvalidInput("file looks binary (it holds control characters, not text)", source=source)
    check_not_mojibake(text, source=source)
    return text


def check_not_mojibake(text: str, *, source: str) -> None:
    """Raise ``InvalidInput`` with the line when ``text`` is mojibake (see ``ingest.mojibake``)."""
    found = find_mojibake(text)
    if found is not None:
        raise InvalidInput(found.describe(), source=source, line=text.count("\n", 0, found.offset) + 1)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a BOM, when its NUL bytes say which byte order it is in.

    ASCII characters (line breaks, digits, front matter) in UTF-16 have one NUL
    byte each, always on the same side of the pair; binary data has NULs on
    both sides alike. Needs a fifth of the pairs to be such characters; the
    other side may hold a few NULs (一 is U+4E00, the ideographic space U+3000).
    """
    sample = data[: min(len(data), 8192) // 2 * 2]
    if len(data) % 2 or len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    pairs = len(sample) // 2
    if odd >= pairs // 5 and even * 4 < odd:
        encoding = "utf-16-le"
    elif even >= pairs // 5 and odd * 4 < even:
        encoding = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return None if _looks_binary(text) else text


def _decode(data: bytes, encoding: str, source: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"cannot decode as {encoding}: {exc.reason} at byte {exc.start}", source=source) from exc
    if not text.strip():
        raise InvalidInput("file is empty", source=source)
    return text


def _detect(data: bytes, source: str) -> str:
    if b"\0" in data[:8192]:
        raise InvalidInput("file looks binary (it holds NUL bytes), not text", source=source)
    best = from_bytes(data, cp_isolation=CANDIDATE_ENCODINGS).best()
    if best is None:
        raise InvalidInput(
            "cannot tell the text encoding (tried UTF-8, Shift_JIS/CP932, EUC-JP, ISO-2022-JP, UTF-16, CP1252)",
            source=source,
        )
    return str(best)


def _looks_binary(text: str) -> bool:
    """True when more than 1% of the first 8k characters are control characters other than whitespace."""
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return controls > max(1, len(sample) // 100)
