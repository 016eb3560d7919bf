"""Plain text files, and text that arrived as mojibake."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from ingest.mojibake import find_mojibake
from ingest.options import IngestOptions
from ingest.reading import decode_text
from ingest.text import TextIngester
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind


def parse(path: str, data: bytes, kind: Kind | None = None) -> list[DocumentDraft]:
    return TextIngester().parse(Path(path), data, source=path, options=IngestOptions(kind=kind))


NOTE_JA = "ベンダー選定の遅れ\n\n事象: RFP後に評価項目を議論し、選定が3か月遅れた。\n教訓: 評価基準はRFP前に合意する。\n対策: 評価シートをRFPと同時に承認する。\n"


@pytest.mark.parametrize(
    "data",
    [
        NOTE_JA.encode("utf-8"),
        codecs.BOM_UTF8 + NOTE_JA.encode("utf-8"),
        NOTE_JA.encode("utf-16"),
        NOTE_JA.encode("cp932"),
        NOTE_JA.encode("euc_jp"),
    ],
    ids=["utf8", "utf8-bom", "utf16", "cp932", "euc-jp"],
)
def test_a_lesson_note_in_any_encoding_fills_its_labelled_parts(data: bytes) -> None:
    (doc,) = parse("/kb/lessons/note.txt", data)
    assert (doc.kind, doc.title, doc.language) == (Kind.lesson, "ベンダー選定の遅れ", "ja")
    assert doc.driving_event == "RFP後に評価項目を議論し、選定が3か月遅れた。"
    assert doc.recommendation == "評価シートをRFPと同時に承認する。"


def test_an_english_procedure_keeps_its_text_escaped() -> None:
    (doc,) = parse(
        "/kb/x/escalation.txt", b"Escalation\n\nCall the PMO <within 2 hours>.\nC:\\path\\*file*\n", Kind.procedure
    )
    assert doc.title == "Escalation" and doc.language == "en"
    assert doc.body == "Call the PMO \\<within 2 hours>.\nC:\\path\\\\*file*"


def latin1ish(data: bytes) -> str:
    """How a UTF-8 file looks after a tool read it as Windows-1252 and saved it again."""
    return "".join(chr(b) if b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes([b]).decode("cp1252") for b in data)


@pytest.mark.parametrize(
    ("text", "how"),
    [
        (latin1ish("スケジュール遅延の教訓".encode()), "UTF-8 read as Windows-1252"),
        ("スケジュール遅延の教訓と対策".encode().decode("cp932", errors="ignore"), "UTF-8 read as Shift_JIS"),
        ("スケジュール遅延".encode("cp932").decode("cp1252", errors="ignore"), "Shift_JIS read as Windows-1252"),
        (latin1ish("Le café de la société".encode()), "UTF-8 read as Windows-1252"),
        ("教訓\ufffd\ufffdを共有する", "U+FFFD"),
    ],
    ids=["utf8-as-1252", "utf8-as-sjis", "sjis-as-1252", "latin", "replacement"],
)
def test_mojibake_is_recognised_and_never_stored(text: str, how: str) -> None:
    found = find_mojibake(text)
    assert found is not None and how in found.how
    with pytest.raises(InvalidInput, match="mojibake") as info:
        decode_text(("タイトル\n\n" + text).encode("utf-8"), source="/kb/lessons/broken.txt")
    assert info.value.line == 3


@pytest.mark.parametrize(
    "text",
    [
        "Le précédent projet a été déjà très compliqué : société, café, où, ça, côté, Ä, Öl, Übergabe, Straße.",
        "Información, planificación, garantía, año — “quoted” ‘text’ … €100 ™ ½ × ÷.",
        "ベンダー選定に想定以上の時間がかかり、要件定義の開始が二週間遅れた。一〇〇万円　全角スペース",
        "Ａｂｃ　ｶﾀｶﾅ ﾃｽﾄ、ｷｬﾝｾﾙ　①②③ ㈱ ～",
    ],
)
def test_real_text_in_many_scripts_is_not_mistaken_for_mojibake(text: str) -> None:
    assert find_mojibake(text) is None


def test_demo_knowledge_base_has_no_false_mojibake() -> None:
    for path in (Path(__file__).parents[2] / "ingest/demo_kb").rglob("*.md"):
        assert find_mojibake(path.read_text(encoding="utf-8")) is None, path
