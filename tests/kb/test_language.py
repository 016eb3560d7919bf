"""One language rule for documents, chunks and queries, and where its line is."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.markdown import document_drafts
from kb.record.models import Kind
from kb.search.language import LATIN_PER_KANA, detect_language, has_japanese
from kb.search.lexical import Bm25Index


@pytest.mark.parametrize(
    ("ja", "latin", "lang"),
    [
        (1, LATIN_PER_KANA, "ja"),  # exactly on the line: 12.5 % kana/kanji, 30 % weighted
        (1, LATIN_PER_KANA + 1, "en"),
        (10, 10 * LATIN_PER_KANA, "ja"),
        (10, 10 * LATIN_PER_KANA + 1, "en"),
        (3, 17, "ja"),  # 15 % kana/kanji: English under the old document rule (20 %), Japanese now
        (1, 0, "ja"),
        (0, 5, "en"),
    ],
)
def test_the_line_is_seven_latin_letters_per_kana_or_kanji(ja: int, latin: int, lang: str) -> None:
    text = " ".join(["会" * ja, "a" * latin, "1234 ・、。!?"])  # digits and punctuation count for neither side
    assert detect_language(text) == lang


def test_a_japanese_sentence_full_of_english_terms_is_japanese() -> None:
    text = "PMOのproject management officeについて"  # 5 kana, 26 Latin letters: 16 %
    assert detect_language(text) == "ja"
    assert detect_language("Please check the schedule with 田中 before the meeting") == "en"


def test_half_width_katakana_and_iteration_marks_count_as_japanese() -> None:
    assert detect_language("ｶﾞｲﾄﾞ") == "ja" and has_japanese("人々") and not has_japanese("Ｐ M O")


def test_a_text_in_the_band_is_japanese_as_a_document_and_as_a_chunk(tmp_path: Path) -> None:
    """13–20 % kana/kanji used to be English as a document (the language filter) and Japanese as a chunk."""
    text = "PMOのproject management officeについて"
    (draft,) = document_drafts(
        tmp_path / "pmo.md", text, kind=Kind.procedure, fields={"title": "PMO"}, meta={}, source="pmo.md"
    )
    assert draft.language == "ja"
    index = Bm25Index()
    index.add([(1, text), (2, "Vendor selection process")])
    assert index._other_language("vendor").tolist() == [True, False]  # the Japanese rows, for an English query
