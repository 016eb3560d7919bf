"""Turning a file's bytes into text: size limit, binary check, encoding detection.

Japanese files still arrive in Shift_JIS/CP932, EUC-JP or UTF-16 from older
tools. Strict UTF-8 is tried first (it almost never decodes anything else by
accident); then byte-order marks; then charset-normalizer, limited to the
encodings such files really use, so short Japanese text is not mistaken for a
Western code page and stored as mojibake.
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from kb.errors import InvalidInput

# Encodings seen in Japanese and English office files, most specific first.
# Limiting detection to these is what keeps a short CP932 file from being read
# as, say, Cyrillic (charset-normalizer's guess over all code pages).
CANDIDATE_ENCODINGS = ["utf_8", "cp932", "euc_jp", "iso2022_jp", "utf_16", "cp1252"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes, *, source: str) -> str:
    """Decode file bytes to text, or raise ``InvalidInput`` naming the file and the reason."""
    if not data.strip():
        raise InvalidInput("file is empty", source=source)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode(data, encoding, source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _detect(data, source)
    if _looks_binary(text):
        raise InvalidInput("file looks binary (it holds control characters, not text)", source=source)
    return text


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
