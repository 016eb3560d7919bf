"""One hit per finding through the API, the page (both languages) and the CLI's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app

FAQ = {"kind": "faq", "title": "How do I renew a zebracorn badge?", "body": "Ask the zebracorn desk on floor 3."}


def _twice(client: TestClient) -> list[str]:
    return [client.post("/api/documents", json=FAQ).json()["id"] for _ in range(2)]


def test_the_api_folds_a_duplicate_and_names_a_lessons_retrospective(client: TestClient) -> None:
    ids = _twice(client)
    found = client.get("/api/search", params={"q": "zebracorn", "mode": "lexical"}).json()
    assert found["total"] == 1 and len(found["hits"]) == 1
    hit = found["hits"][0]
    assert [hit["id"], *(s["id"] for s in hit["similar"])] in (ids, ids[::-1])
    assert hit["similar"][0] == {"id": hit["similar"][0]["id"], "kind": "faq", "title": FAQ["title"]}
    vendor = client.get("/api/search", params={"q": "ベンダー選定 評価基準 RFP", "mode": "lexical"}).json()["hits"]
    lesson = next(h for h in vendor if h["title"] == "ベンダー選定は評価基準を先に固める")
    assert (
        lesson["parent"]["title"] == "基幹システム刷新 移行フェーズ振り返り"
        and lesson["parent"]["kind"] == "retrospective"
    )
    assert lesson["parent"]["id"] not in [h["id"] for h in vendor]  # its passage is the lesson's: one slot


def test_the_page_shows_similar_and_from_in_both_languages(client: TestClient) -> None:
    _twice(client)
    ja = client.get("/", params={"q": "zebracorn", "mode": "lexical"}).text
    assert "ほぼ同じ内容の文書 1 件" in ja and ja.count(f">{FAQ['title']}</a>") == 2  # the hit, and the folded one
    vendor = client.get("/", params={"q": "ベンダー選定 評価基準 RFP"}).text
    assert "元の振り返り:" in vendor and "基幹システム刷新 移行フェーズ振り返り</a>" in vendor
    client.get("/lang/en")
    en = client.get("/", params={"q": "zebracorn", "mode": "lexical"}).text
    assert "1 similar" in en and "ほぼ同じ" not in en
    assert "From:" in client.get("/", params={"q": "ベンダー選定 評価基準 RFP"}).text


EVENT = (
    "The project started reporting earned value six months after the baseline was set. Control account "
    "managers had not been trained, so the cost and schedule variances in the first reports were wrong "
    "and the monthly reviews argued about the numbers instead of the work."
)
LESSON = "Train control account managers in earned value before the first report is due."
OTHER = "Freeze the performance measurement baseline before anyone reports variances against it."


def _lesson(title: str, event: str, lesson: str) -> str:
    return f"---\nkind: lesson\n---\n# {title}\n\n## Driving event\n\n{event}\n\n## Lesson\n\n{lesson}\n"


@pytest.mark.slow
def test_the_cli_folds_a_reissued_lesson_but_not_another_lesson_from_the_same_event(tmp_path: Path) -> None:
    """With the real embedder and its measured line: an edited re-issue folds, a different lesson does not."""
    data = str(tmp_path / "data")
    files = {
        "a.md": _lesson("Earned value needs trained account managers", EVENT, LESSON),
        "b.md": _lesson("Earned value needs trained account managers", EVENT.replace("the numbers", "numbers"), LESSON),
        "c.md": _lesson("Freeze the baseline before reporting earned value", EVENT, OTHER),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    runner = CliRunner()
    paths = [str(tmp_path / name) for name in files]
    assert runner.invoke(app, ["ingest", "--data-dir", data, *paths]).exit_code == 0
    out = runner.invoke(app, ["search", "earned value training", "--json", "--weak", "--data-dir", data])
    hits = json.loads(out.stdout)["hits"]
    earned = "Earned value needs trained account managers"
    assert len(hits) == 2, [h["title"] for h in hits]
    kept = next(h for h in hits if h["title"] == earned)
    assert [s["title"] for s in kept["similar"]] == [earned]  # the re-issue, edited
    assert next(h for h in hits if h["title"] != earned)["similar"] == []
    assert all(h["parent"] is None for h in hits)
