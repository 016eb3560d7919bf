"""Search quality floors on the real evaluation sets, run through `kb eval` as a user would.

The floors sit just under what the product measured (see docs/search.md "Measured
quality"); a change that costs quality fails CI. The sets live in
``../shared/eval`` beside the repository (``KB_EVAL_DIR`` overrides) and are
never copied into it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app

pytestmark = pytest.mark.slow

EVAL_DIR = Path(os.environ.get("KB_EVAL_DIR", Path(__file__).resolve().parents[2] / "shared" / "eval"))

# set → (nDCG@10 floor, Recall@10 floor) for hybrid search with the default embedder (confident matches only)
FLOORS = {
    "ja_localgovfaq": (0.59, 0.68),  # measured 0.5999 / 0.6923
    "en_covidqa_faq": (0.78, 0.945),  # measured 0.7915 / 0.9590
    # known-item sets: 2.1% of the title queries get no confident match (their best match is weak)
    "en_llis_title2lesson": (0.77, 0.87),  # measured 0.7824 / 0.8811
    # narrative queries (what went wrong → the lesson): long queries, covered by their ten most telling words
    # and weighing meaning by 20 / words (kb.search.fusion.Weights)
    "en_llis_event2lesson": (0.84, 0.915),  # measured 0.8516 / 0.9262
    # across languages: Japanese query → English lesson, English query → Japanese FAQ
    "ja_llis_title2lesson_xl": (0.645, 0.77),  # measured 0.6573 / 0.7804
    "en_localgovfaq_xl": (0.455, 0.58),  # measured 0.4678 / 0.5930
}
# mixed_jaen (English lessons and Japanese FAQs in one store): nDCG@10 floor per language pair
MIXED_FLOORS = {"en->en": 0.84, "en->ja": 0.455, "ja->en": 0.64, "ja->ja": 0.575}  # 0.8531 0.4660 0.6513 0.5866
# oos_nasa (questions nothing in the NASA lessons answers): at most this share may get a confident hit
OOS_ANSWERED_CEILING = 0.22  # measured 0.195
# the NASA title queries over the same lessons: at least this share keeps a confident hit
IN_SCOPE_ANSWERED_FLOOR = 0.95  # measured 0.979 (English), 0.956 (Japanese)


def _eval(name: str, tmp_path: Path) -> dict[str, Any]:
    folder = EVAL_DIR / name
    if not folder.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"evaluation set {folder} is missing")
        pytest.skip(f"evaluation set {folder} is not on this machine")
    result = CliRunner().invoke(app, ["eval", str(folder), "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["mode"] == "hybrid"
    return report


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_hybrid_quality_stays_above_the_floor(name: str, tmp_path: Path) -> None:
    report = _eval(name, tmp_path)
    ndcg_floor, recall_floor = FLOORS[name]
    assert report["queries"] >= 200
    assert report["ndcg@10"] >= ndcg_floor, report
    assert report["recall@10"] >= recall_floor, report
    if name in ("en_llis_title2lesson", "ja_llis_title2lesson_xl"):
        assert report["answered"] >= IN_SCOPE_ANSWERED_FLOOR, report


def test_a_mixed_store_keeps_every_language_pair_above_its_floor(tmp_path: Path) -> None:
    report = _eval("mixed_jaen", tmp_path)
    for group, floor in MIXED_FLOORS.items():
        assert report["groups"][group] >= floor, (group, report)


def test_questions_the_store_does_not_answer_get_no_confident_match(tmp_path: Path) -> None:
    report = _eval("oos_nasa", tmp_path)
    assert report["queries"] == 400 and report["answered"] <= OOS_ANSWERED_CEILING, report
