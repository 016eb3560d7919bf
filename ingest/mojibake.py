"""Recognising mojibake: text that was decoded with the wrong encoding before it reached us.

Decoding files ourselves never makes mojibake (``reading.decode_text`` is
strict and tries only the encodings Japanese and English files use). But a
file can arrive already damaged: a CSV that went through Excel with the wrong
code page, a wiki page pasted from a mis-read e-mail. Storing such text would
put unreadable, unsearchable documents in the library, so it is refused with
an example of what it should have said.

The test is the one that undoes the damage: take a suspicious run of
characters, encode it back with the encoding it was wrongly read as, and
decode the bytes with the one it really was in. Only when that round trip
succeeds *and* yields Japanese or other non-ASCII letters is the run mojibake.
Three cases cover what PMO files meet:

- UTF-8 read as Windows-1252 (``ã‚¹ã‚±`` for ``スケ``);
- UTF-8 read as Shift_JIS/CP932 (``繧ｹ繧ｱ`` for ``スケ``);
- Shift_JIS read as Windows-1252 (``ƒXƒP`` for ``スケ``).

Text that holds U+FFFD (the replacement character a lossy conversion leaves)
is refused too: the original characters are already gone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Characters Windows-1252 gives to bytes 0x80-0x9F, and the Latin-1 range.
_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
_LATIN_RUN = re.compile(f"[\u0080-\u00ff{_CP1252_HIGH}][\u0080-\u00ff{_CP1252_HIGH}\u0040-\u007e]+")
_CJK_RUN = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff61-\uff9f]{4,}")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

MIN_RUNS = 2  # one odd run can be a name or a symbol; two are a pattern


@dataclass(frozen=True)
class Mojibake:
    """Where mojibake starts (character offset), what it says and what it should have said."""

    offset: int
    found: str
    meant: str
    how: str

    def describe(self) -> str:
        return (
            f"the text is mojibake ({self.how}): {self.found!r} should read {self.meant!r}; "
            "the file was saved after being opened with the wrong encoding, fix it at its source"
        )


def find_mojibake(text: str) -> Mojibake | None:
    """The first sign of mojibake in ``text``, or None."""
    if (at := text.find("\ufffd")) >= 0:
        return Mojibake(at, text[max(0, at - 10) : at + 10], "?", "it holds U+FFFD replacement characters")
    hits: list[Mojibake] = []
    for match in _LATIN_RUN.finditer(text):
        raw = _cp1252_bytes(match.group())
        if raw is None:
            continue
        meant = raw.decode("utf-8", errors="replace")
        if ("\ufffd" not in meant and _foreign_letters(meant)) or _mostly_japanese(meant):
            hits.append(Mojibake(match.start(), match.group(), meant, "UTF-8 read as Windows-1252"))
        elif _mostly_japanese(meant := raw.decode("cp932", errors="replace")):
            hits.append(Mojibake(match.start(), match.group(), meant, "Shift_JIS read as Windows-1252"))
    for match in _CJK_RUN.finditer(text):
        try:
            raw = match.group().encode("cp932")
        except UnicodeEncodeError:
            continue
        if _mostly_japanese(meant := raw.decode("utf-8", errors="replace")):
            hits.append(Mojibake(match.start(), match.group(), meant, "UTF-8 read as Shift_JIS"))
    if len(hits) >= MIN_RUNS or any(len(_JAPANESE.findall(h.meant)) >= 4 for h in hits):
        return min(hits, key=lambda h: h.offset)
    return None


def _mostly_japanese(text: str) -> bool:
    """Two or more Japanese letters, at least half of what decoded and twice the undecodable bytes.

    Accented Latin words (``précédent``) decode to a kanji or two among Latin
    letters at most; real mojibake decodes to Japanese almost throughout.
    """
    count = len(_JAPANESE.findall(text))
    bad = text.count("\ufffd")
    return count >= 2 and count >= 2 * bad and 2 * count >= len(text) - bad


def _foreign_letters(text: str) -> bool:
    """Non-ASCII letters (not unassigned code points or symbols, which garbled bytes also decode to)."""
    return any(not ch.isascii() and unicodedata.category(ch).startswith("L") for ch in text)


def _cp1252_bytes(run: str) -> bytes | None:
    out = bytearray()
    for ch in run:
        if ord(ch) < 256:
            out.append(ord(ch))
        else:
            try:
                out += ch.encode("cp1252")
            except UnicodeEncodeError:
                return None
    return bytes(out)
