""" "Why this result" and the brief's reasons on the pages: words for everyone, numbers for admins only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kb.config import Settings
from kb.record.models import Role
from tests.conftest import HashingEmbedder
from tests.web.conftest import add_user, bearer, csrf_of, load_demo
from web.app import create_app
from web.i18n import MESSAGES

REASON = re.compile(r'<p class="reasons meta">(.*?)</p>', re.S)
PART = re.compile(r'<span class="reason-(\w+)">([^<]*)</span>')
ENGINE_WORDS = re.compile(r"match|matched|translation|meaning|score|rank|bm25|cosine|fused|strength", re.I)


@pytest.fixture
def reader(web_settings: Settings) -> Iterator[TestClient]:
    """The demo as an anonymous reader sees it."""
    settings = web_settings.model_copy(update={"anonymous_role": "reader"})
    load_demo(settings)
    with TestClient(create_app(settings, embedder=HashingEmbedder())) as client:
        yield client


def test_a_reader_sees_words_and_an_admin_also_the_numbers(reader: TestClient) -> None:
    page = reader.get("/", params={"q": "ベンダー選定の遅延"}, headers={"accept-language": "ja"}).text
    assert "一致した語: ベンダー、選定" in page
    assert 'class="why-scores"' not in page and MESSAGES["fused_score"]["ja"] not in page
    assert not re.search(r"順位 \d+ · スコア", page)  # no rank, BM25 or cosine for a reader
    reader.headers.update(bearer(add_user(reader, "admin", Role.pmo_admin)))
    admin = reader.get("/", params={"q": "ベンダー選定の遅延"}, headers={"accept-language": "ja"}).text
    assert 'class="why-scores"' in admin and MESSAGES["fused_score"]["ja"] in admin
    assert re.search(r"総合スコア</dt><dd>\d+\.\d{3}</dd>", admin) and re.search(r"順位 \d+ · スコア", admin)


@pytest.mark.parametrize("query", ["ベンダー選定の遅延", "vendor selection", "基幹システム刷新のテスト計画"])
def test_the_japanese_explanation_has_no_english_engine_text(reader: TestClient, query: str) -> None:
    """Every label of the reasons is the Japanese message; the only other text is the query's and documents' words."""
    page = reader.get("/", params={"q": query}, headers={"accept-language": "ja"}).text
    reasons = REASON.findall(page)
    assert reasons
    labels = {MESSAGES[k]["ja"] for k in ("matched_words", "via_translation")}
    plain = {MESSAGES[k]["ja"] for k in MESSAGES if k.startswith(("match_", "reason_")) or k == "similar_meaning"}
    for reason in reasons:
        parts = PART.findall(reason)
        assert parts and "".join(f'<span class="reason-{k}">{v}</span>' for k, v in parts) == reason.strip()
        for kind, text in parts:
            if kind in ("words", "translated"):
                label, _, said = text.partition(": ")
                assert label in labels and said
            else:
                assert text in plain, text
    words_only = [v.partition(": ")[0] for r in reasons for k, v in PART.findall(r)]
    assert not any(ENGINE_WORDS.search(w) for w in words_only)
    assert not any(f in r for r in reasons for f in ("幹シ", "ム刷", "ー選", "ト計"))  # bigrams are no words


def test_the_brief_names_words_not_fragments_on_the_page_and_in_markdown(client: TestClient) -> None:
    description = "基幹システム刷新のテスト計画を立てる。ベンダー選定が遅れないようにしたい。"
    form = {"csrf": csrf_of(client, "/brief"), "description": description}
    html = client.post("/brief", data=form, headers={"accept-language": "ja"}).text
    assert 'id="brief-result"' in html and MESSAGES["matched_words"]["ja"] + ": " in html
    reasons = "".join(REASON.findall(html))
    assert reasons and not any(f in reasons for f in ("幹シ", "ム刷", "ー選", "ト計"))
    markdown = client.post("/brief/export", data={**form, "format": "md"}).text
    said = [line for line in markdown.splitlines() if "matched / 一致: " in line]
    assert said and not any(f in line for line in said for f in ("幹シ", "ム刷", "ー選"))
    api = client.post("/api/brief", json={"description": description}).json()
    items = [i for group in api["groups"].values() for i in group]
    assert any("ベンダー" in i["matched_words"] for i in items)
    assert all(not {"幹シ", "ム刷", "ー選"} & set(i["matched_words"]) for i in items)
