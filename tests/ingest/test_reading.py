"""Decoding files: encodings Japanese offices use, and clear refusals for what is not text."""

from __future__ import annotations

import codecs

import pytest

from ingest.reading import decode_text
from kb.errors import InvalidInput

JA = "---\ntitle: ベンダー選定の教訓\n---\n\n## 事象\n\n要件定義の段階でベンダー選定が三か月遅れ、稼働日が後ろ倒しになった。\n"


@pytest.mark.parametrize(
    "data",
    [
        JA.encode("utf-8"),
        codecs.BOM_UTF8 + JA.encode("utf-8"),
        JA.encode("utf-16"),
        JA.encode("utf-16-le"),
        JA.encode("utf-16-be"),
        JA.encode("cp932"),
        JA.encode("euc_jp"),
        JA.encode("iso2022_jp"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16le-no-bom", "utf16be-no-bom", "cp932", "euc-jp", "iso-2022-jp"],
)
def test_japanese_text_decodes_in_every_common_encoding(data: bytes) -> None:
    assert decode_text(data, source="f.md").lstrip("\ufeff") == JA


def test_short_shift_jis_is_not_mojibake() -> None:
    assert decode_text("教訓：早めに相談する".encode("cp932"), source="f.md") == "教訓：早めに相談する"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "file is empty"),
        (b"  \n\t\n", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (bytes(range(256)) * 4, "binary"),
    ],
    ids=["empty", "blank", "png", "noise"],
)
def test_not_text_is_refused_with_the_file_named(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as info:
        decode_text(data, source="docs/x.md")
    assert info.value.message.startswith("docs/x.md: ")
