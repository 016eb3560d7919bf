"""Phase and category vocabulary: synonyms in both languages fold to one key; unknown values stay themselves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.errors import InvalidInput
from kb.pmo.vocabulary import Vocabulary, fold


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


def test_a_path_means_its_most_specific_known_part_and_nasa_phases_land_on_pmo_phases() -> None:
    v = Vocabulary.load(None)
    nasa = {
        "Not Applicable » Pre-Phase A": "initiation",
        "Formulation » Phase A": "requirements",
        "Formulation » Phase B": "design",
        "Implementation » Phase C": "build",
        "Implementation » Phase D": "test",
        "Implementation » Phase E": "operations",
        "Implementation » Phase F": "closing",
        "Implementation": "build",
        "Formulation": "planning",
        "開発 > 結合テスト": "test",
        "Implementation » 謎": "build",  # the specific part unknown: the general one
    }
    assert {value: v.canonical("phase", value) for value in nasa} == nasa
    assert v.canonical("phase", "Approval") == "Approval" and v.lookup("phase", "謎 » 不明") is None


def test_tags_in_both_languages_and_and_or_ampersand_fold_to_one_key() -> None:
    v = Vocabulary.load(None)
    assert {v.lookup("tag", t) for t in ("risk", "Risk", "リスク", "risks")} == {"risk"}
    assert v.lookup("tag", "vendor management") == v.lookup("tag", "ベンダー管理") == "vendor management"
    assert v.lookup("tag", "Risk Management / Assessment") == v.lookup("tag", "リスク管理") == "risk management"
    assert v.lookup("tag", "risk register") != v.lookup("tag", "risk")  # related ideas stay apart
    assert (v.label("tag", "risk", "ja"), v.label("tag", "risk", "en")) == ("リスク", "Risk")
    assert fold("Safety and Mission Assurance") == fold("Safety & Mission Assurance") == "safetymissionassurance"
    assert fold("Sandy band") == "sandyband"  # only the word "and"


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
