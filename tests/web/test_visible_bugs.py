"""The visible bugs of issue 21, each pinned by what a reader sees on the page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.ingest.samples import docx_file
from tests.web.conftest import csrf_of

EN = {"accept-language": "en"}


def test_a_retrospective_line_typed_with_a_bullet_shows_one_bullet_and_no_form_id(client: TestClient) -> None:
    r = client.post(
        "/retrospectives",
        data={
            "csrf": csrf_of(client, "/retrospectives/new"),
            "title": "箇条書きの振り返り",
            "went_well": "- 早期に合意した\n・毎週デモした",
            "lesson": ["課題は早めに共有する"],
            "action": "save",
        },
        follow_redirects=False,
    )
    doc_id = r.headers["location"].rsplit("/", 1)[1]
    body = client.get(f"/api/documents/{doc_id}").json()["body"]
    assert "- 早期に合意した\n- 毎週デモした" in body and "- -" not in body
    page = client.get(f"/documents/{doc_id}").text
    assert "<li>早期に合意した</li>" in page
    assert "form:" not in page  # the synthetic source id is nobody's file name (it overflowed the side panel)


def test_a_brief_shows_a_recommendation_list_as_a_list(client: TestClient) -> None:
    client.post(
        "/api/documents",
        json={
            "kind": "lesson",
            "title": "ペンギン舎の温度管理",
            "body": "ペンギン舎の温度管理で失敗した。",
            "lesson": "ペンギン舎の温度は毎日記録する。",
            "recommendation": "- 温度計を二台置く\n- 記録を週次で確認する",
        },
    )
    html = client.post(
        "/brief", data={"csrf": csrf_of(client, "/brief"), "description": "ペンギン舎の温度管理を見直す"}
    ).text
    reco = html[html.index("ペンギン舎の温度管理</a>") :]
    reco = reco[reco.index('class="brief-reco"') : reco.index("</div>", reco.index('class="brief-reco"'))]
    assert "<li>温度計を二台置く</li>" in reco and "<li>記録を週次で確認する</li>" in reco
    assert "- 温度計" not in reco


def test_library_tables_have_no_empty_column(client: TestClient) -> None:
    html = client.get("/library").text
    assert "<th></th>" not in html
    for table in re.findall(r'<table class="library">.*?</table>', html, re.S):
        header_cells = table.split("</thead>")[0].count("<th>")
        for row in re.findall(r"<tr class=\"status-row.*?</tr>", table, re.S):
            assert row.count("<td") == header_cells


def test_after_a_word_faq_upload_uncategorised_comes_last_and_no_stray_hash(client: TestClient) -> None:
    data = docx_file([("Heading 2", "会議室の予約方法は？"), ("", "ポータルから予約します。")], title="総務FAQ")
    r = client.post(
        "/upload",
        files={"files": ("faq.docx", data, "application/octet-stream")},
        data={"csrf": csrf_of(client), "kind": "faq"},
    )
    assert 'class="file-added"' in r.text
    html = client.get("/faq").text
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert headings[-1] == "未分類" and headings.count("未分類") == 1
    assert ">#</a>" not in html


def test_faq_categories_in_two_languages_are_one_group(client: TestClient) -> None:
    html = client.get("/faq", headers=EN).text
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert "Budget and cost" in headings and "Approvals and budget" not in headings
    assert len(headings) == len(set(headings))
    budget = html[html.index("<h2>Budget and cost</h2>") :].split("</section>")[0]
    assert "予算" in budget and "budget" in budget.lower()  # the Japanese and the English FAQs together


def test_the_version_diff_is_compact_rendered_text(client: TestClient) -> None:
    old = client.post(
        "/api/documents",
        json={
            "kind": "template",
            "title": "承認手順",
            "body": "# 承認\n\n- 部長が承認する\n- 記録を残す\n",
            "status": "published",
        },
    ).json()
    new = client.post(
        "/api/documents",
        json={
            "kind": "template",
            "title": "承認手順",
            "body": "# 承認\n\n- 課長が承認する\n- 記録を残す\n",
            "version": "2",
            "supersedes": old["id"],
        },
    ).json()
    html = client.get(f"/documents/{new['id']}/diff", params={"against": old["id"]}).text
    assert "<del>部</del><ins>課</ins>長が承認する" in html
    assert "<pre" not in html and "- 課長" not in html and "# 承認" not in html


def test_the_home_page_shows_what_the_store_holds_and_my_work(client: TestClient) -> None:
    form = {"csrf": csrf_of(client, "/brief"), "description": "ベンダー選定", "project": "販売管理刷新"}
    client.post("/brief/save", data=form)
    html = client.get("/", headers=EN).text
    cards = re.findall(r'<li class="kind-card kind-card-(\w+)">(.*?)</li>\s*(?=<li class="kind-card|</ul>)', html, re.S)
    assert [k for k, _ in cards] == ["lesson", "retrospective", "faq", "template", "procedure"]
    lessons = dict(cards)["lesson"]
    assert re.search(r"Japanese \d+ · English \d+|English \d+ · Japanese \d+", lessons)
    assert 'name="kind" value="lesson"' in lessons and lessons.count("/documents/") == 3
    assert 'href="/library"' in dict(cards)["template"] and 'href="/faq"' in dict(cards)["faq"]
    mine = html[html.index('id="home-mine"') :]
    assert "販売管理刷新" in mine  # my saved brief
