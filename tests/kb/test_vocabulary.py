"""Phase and category vocabulary: synonyms in both languages fold to one key; unknown values stay themselves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.errors import InvalidInput
from kb.vocabulary import Vocabulary, fold


def test_synonyms_in_both_languages_and_widths_fold_to_one_key() -> None:
    v = Vocabulary.load(None)
    assert {v.canonical("phase", x) for x in ("テスト", "test", "Testing", "Ｔｅｓｔｉｎｇ", " 結合テスト ", "QA")} == {
        "test"
    }
    assert v.canonical("phase", "企画") == v.canonical("phase", "initiation") == "initiation"
    assert v.canonical("phase", "月面着陸") == "月面着陸" and v.canonical("phase", None) is None
    assert v.canonical("category", "Monitoring & reporting") == v.canonical("category", "監視・報告") == "reporting"
    assert (v.label("phase", "test", "ja"), v.label("phase", "test", "en")) == ("テスト", "Test")
    assert v.label("phase", "月面着陸", "en") == "月面着陸"
    assert fold("Go-Live") == "golive"


def test_filters_expand_to_the_spellings_present_and_facets_merge() -> None:
    v = Vocabulary.load(None)
    present = ["テスト", "test", "build", "開発", "closing"]
    assert v.variants("phase", ["test"], present) == ("test", "テスト")
    assert v.variants("phase", ["テスト"], present) == ("test", "テスト")  # an old link with the written value
    assert v.merge_counts("phase", [("テスト", 4), ("test", 3), ("build", 3), ("開発", 2), ("謎", 1)]) == [
        ("test", 7),
        ("build", 5),
        ("謎", 1),
    ]


def test_a_file_replaces_and_adds_entries(tmp_path: Path) -> None:
    path = tmp_path / "vocab.json"
    path.write_text(
        json.dumps(
            {
                "phase": {
                    "test": {"ja": "試験", "en": "Testing", "synonyms": ["検証工程"]},
                    "pilot": {"en": "Pilot", "synonyms": ["PoC"]},
                }
            }
        ),
        encoding="utf-8",
    )
    v = Vocabulary.load(path)
    assert v.canonical("phase", "検証工程") == "test" and v.label("phase", "test", "ja") == "試験"
    assert v.canonical("phase", "テスト") == "テスト"  # the replaced entry no longer lists it
    assert v.canonical("phase", "poc") == "pilot" and v.canonical("phase", "開発") == "build"  # others kept
    path.write_text("{broken", encoding="utf-8")
    with pytest.raises(InvalidInput, match="vocabulary file"):
        Vocabulary.load(path)
    path.write_text('{"owner": {}}', encoding="utf-8")
    with pytest.raises(InvalidInput, match="unknown field 'owner'"):
        Vocabulary.load(path)
