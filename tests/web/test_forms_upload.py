"""The retrospective form's pick-lists and tags, the upload page's formats, links and column mapping, Word downloads."""

from __future__ import annotations

import io
import re

import docx
from fastapi.testclient import TestClient

from ingest.registry import default_registry
from kb.record.models import DocumentDraft, Role
from tests.web.conftest import add_user, bearer, csrf_of


def _datalist(html: str, name: str) -> list[str]:
    match = re.search(f'<datalist id="choices-{name}">(.*?)</datalist>', html, re.S)
    assert match, f"no {name} pick-list"
    return re.findall(r'<option value="([^"]*)">', match.group(1))


def test_pick_lists_offer_existing_projects_vocabulary_phases_and_tags_folded(client: TestClient) -> None:
    kb = client.app.state.kb  # type: ignore[attr-defined]
    projects = {d.project for d in kb.store.documents() if d.project}
    ja = client.get("/retrospectives/new", headers={"accept-language": "ja"}).text
    en = client.get("/retrospectives/new", headers={"accept-language": "en"}).text
    assert "基幹システム刷新" in _datalist(ja, "project") and set(_datalist(ja, "project")) <= projects
    assert _datalist(ja, "phase")[:4] == ["企画", "計画", "要件定義", "設計"]
    assert _datalist(en, "phase")[:4] == ["Initiation", "Planning", "Requirements", "Design"]
    ja_tags, en_tags = _datalist(ja, "tag"), _datalist(en, "tag")
    assert "ベンダー選定" in ja_tags and "Vendor selection" in en_tags and "ベンダー選定" not in en_tags
    assert len(ja_tags) == len(set(ja_tags)) and len(ja_tags) == len(en_tags)  # folded: one entry per tag
    for name, field in (("project", "project"), ("phase", "phase")):  # every input still takes free text
        assert re.search(f'<input name="{field}" value="" list="choices-{name}"', ja)
    assert ja.count('list="choices-tag"') >= 3


def test_a_project_spelled_two_ways_is_offered_once(client: TestClient) -> None:
    for project in ("Deep Space Network (DSN)", "deep space  network", "DSN"):
        client.post(
            "/api/documents", json={"kind": "lesson", "title": f"On {project}", "body": "x", "project": project}
        )
    offered = _datalist(client.get("/retrospectives/new").text, "project")
    assert sum("space network" in p.lower() or p == "DSN" for p in offered) == 1


def test_restricted_projects_are_not_offered_to_outsiders(client: TestClient) -> None:
    doc = {"kind": "lesson", "title": "Payroll", "body": "x", "project": "極秘給与刷新", "groups": ["finance"]}
    client.app.state.kb.store.create(DocumentDraft.model_validate(doc))  # type: ignore[attr-defined]
    assert "極秘給与刷新" in client.get("/retrospectives/new").text
    outsider = add_user(client, "sato", Role.contributor, groups=["hr"])
    assert "極秘給与刷新" not in client.get("/retrospectives/new", headers=bearer(outsider)).text


def test_retrospective_form_stores_tags_and_free_text_project_and_phase(client: TestClient) -> None:
    form = {
        "csrf": csrf_of(client, "/retrospectives/new"),
        "title": "倉庫移転の振り返り",
        "project": "まったく新しい案件",
        "phase": "要件定義",
        "tags": ["ベンダー選定", "倉庫, 移行", ""],
        "lesson": ["在庫移動は前日に凍結する"],
    }
    r = client.post("/retrospectives", data=form, follow_redirects=False)
    assert r.status_code == 303
    retro_id = r.headers["location"].rsplit("/", 1)[1]
    kb = client.app.state.kb  # type: ignore[attr-defined]
    retro = kb.store.get(retro_id)
    lessons = kb.store.children(retro_id)
    assert retro.tags == ["ベンダー選定", "倉庫", "移行"] and retro.project == "まったく新しい案件"
    assert lessons and all(lesson.tags == retro.tags for lesson in lessons)
    assert "まったく新しい案件" in _datalist(client.get("/retrospectives/new").text, "project")
    assert "倉庫" in _datalist(client.get("/retrospectives/new").text, "tag")


def test_a_refused_form_keeps_its_tags(client: TestClient) -> None:
    form = {"csrf": csrf_of(client, "/retrospectives/new"), "title": "", "tags": ["保持するタグ"], "lesson": ["x"]}
    html = client.post("/retrospectives", data=form).text
    assert 'name="tags" value="保持するタグ"' in html


def test_edit_form_offers_the_pick_lists_and_saves_tags_from_several_boxes(client: TestClient) -> None:
    created = client.post("/api/documents", json={"kind": "lesson", "title": "Edit me", "body": "b", "tags": ["old"]})
    doc_id = created.json()["id"]
    page = client.get(f"/documents/{doc_id}/edit").text
    assert 'name="tags" value="old"' in page and "要件定義" in _datalist(page, "phase")
    form = {"csrf": csrf_of(client, f"/documents/{doc_id}/edit"), "title": "Edit me", "body": "b"}
    client.post(f"/documents/{doc_id}/edit", data={**form, "tags": ["old", "新しい、次"]})
    assert client.app.state.kb.store.get(doc_id).tags == ["old", "新しい", "次"]  # type: ignore[attr-defined]


def test_upload_page_lists_every_format_of_the_registry_in_both_languages(client: TestClient) -> None:
    for lang in ("ja", "en"):
        html = client.get("/upload", headers={"accept-language": lang}).text
        section = html[html.index('id="formats"') :]
        for name, extensions in default_registry().formats():
            assert f'class="format-{name}"' in section, name
            for ext in extensions:
                assert f"<code>{ext}</code>" in section, ext
    assert "スライドごと" in client.get("/upload", headers={"accept-language": "ja"}).text
    assert "heading per slide" in client.get("/upload", headers={"accept-language": "en"}).text


def test_upload_results_link_the_documents_each_file_made(client: TestClient) -> None:
    faq = "---\nkind: faq\n---\n# 総務FAQ\n\n## 経費精算の締め日は？\n\n毎月25日です。\n\n## 出張申請は？\n\n3日前までに。\n"
    files = [("files", ("faq-upload.md", faq.encode(), "text/markdown"))]
    html = client.post("/upload", data={"csrf": csrf_of(client)}, files=files).text
    links = dict(re.findall(r'<li><a href="/documents/([0-9a-f]+)">([^<]+)</a></li>', html))
    assert set(links.values()) == {"経費精算の締め日は？", "出張申請は？"}
    for doc_id in links:
        assert client.get(f"/documents/{doc_id}").status_code == 200


REGISTER = (
    "2024年度 ふりかえり台帳\n"
    "学んだこと,打ち手,起きたこと,備考\n"
    "ベンダーの回答が遅れた,週次で督促する,要件確定が2週間遅れた,<script>alert(1)</script>\n"
    "引継ぎ資料が不足,テンプレートを整備する,運用開始後に問い合わせが多発,\n"
)


def test_a_sheet_with_unknown_headers_is_mapped_on_the_page_and_its_rows_stored(client: TestClient) -> None:
    csrf = csrf_of(client)
    files = [("files", ("ふりかえり台帳.csv", REGISTER.encode(), "text/csv"))]
    html = client.post("/upload", data={"csrf": csrf}, files=files, headers={"accept-language": "ja"}).text
    assert "列の対応を指定" in html and "--map" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html  # the preview is escaped
    assert "2024年度" not in html.split('class="mapping-preview"')[1]  # the title row is not the header
    columns = re.findall(r'name="column" value="([^"]+)"', html)
    assert columns == ["学んだこと", "打ち手", "起きたこと", "備考"]
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html)
    assert token
    chosen = {"学んだこと": "lesson", "打ち手": "recommendation", "起きたこと": "driving_event", "備考": "meta"}
    form = {"csrf": csrf, "token": token.group(1), "column": columns, "field": [chosen[c] for c in columns]}
    done = client.post("/upload/map", data=form).text
    assert "file-added" in done
    kb = client.app.state.kb  # type: ignore[attr-defined]
    stored = kb.store.documents_of_source("upload:ふりかえり台帳.csv")
    by_title = {d.title: d for d in stored}
    assert set(by_title) == {"ベンダーの回答が遅れた", "引継ぎ資料が不足"}
    first = by_title["ベンダーの回答が遅れた"]
    assert (first.kind.value, first.recommendation, first.driving_event) == (
        "lesson",
        "週次で督促する",
        "要件確定が2週間遅れた",
    )
    assert f'href="/documents/{first.id}"' in done
    again = client.post("/upload/map", data=form)  # stored: the held file is gone
    assert again.status_code == 404


def test_a_held_sheet_is_only_for_whoever_uploaded_it(client: TestClient) -> None:
    csrf = csrf_of(client)
    files = [("files", ("台帳.csv", REGISTER.encode(), "text/csv"))]
    html = client.post("/upload", data={"csrf": csrf}, files=files).text
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html)
    assert token
    other = bearer(add_user(client, "suzuki", Role.contributor))
    form = {"csrf": csrf, "token": token.group(1), "column": ["学んだこと"], "field": ["lesson"]}
    assert client.post("/upload/map", data=form, headers=other).status_code == 404
    for bad in ("../../kb.sqlite", "0" * 32):
        assert client.post("/upload/map", data={**form, "token": bad}).status_code in (404, 422)


def test_a_markdown_template_downloads_as_word(client: TestClient) -> None:
    body = "## 記入方法\n\n次の項目を埋める。\n\n- 目的を書く\n- 期限を書く\n\n| 項目 | 担当 |\n|---|---|\n| 要件確認 | 山田 |\n"
    created = client.post("/api/documents", json={"kind": "template", "title": "移行計画書 テンプレート", "body": body})
    doc_id = created.json()["id"]
    assert f'href="/documents/{doc_id}/docx"' in client.get(f"/documents/{doc_id}").text
    r = client.get(f"/documents/{doc_id}/docx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''%E7%A7%BB%E8%A1%8C" in disposition
    assert 'filename="download.docx"' in disposition
    word = docx.Document(io.BytesIO(r.content))
    paragraphs = [(p.style.name, p.text) for p in word.paragraphs]
    assert paragraphs[0] == ("Title", "移行計画書 テンプレート")
    assert ("Heading 2", "記入方法") in paragraphs and ("List Bullet", "目的を書く") in paragraphs
    assert [[c.text for c in row.cells] for row in word.tables[0].rows] == [["項目", "担当"], ["要件確認", "山田"]]


def test_an_outsider_gets_404_for_a_restricted_documents_word_file(client: TestClient) -> None:
    doc = {"kind": "procedure", "title": "給与計算手順", "body": "## 手順\n\n- 締める", "groups": ["finance"]}
    doc_id = client.app.state.kb.store.create(DocumentDraft.model_validate(doc)).id  # type: ignore[attr-defined]
    assert client.get(f"/documents/{doc_id}/docx").status_code == 200
    outsider = bearer(add_user(client, "sato", Role.contributor, groups=["hr"]))
    r = client.get(f"/documents/{doc_id}/docx", headers=outsider)
    assert r.status_code == 404 and "給与" not in r.text


def test_a_lesson_and_a_word_original_offer_no_word_download(client: TestClient) -> None:
    lesson = client.post("/api/documents", json={"kind": "lesson", "title": "L", "body": "b"}).json()["id"]
    assert "/docx" not in client.get(f"/documents/{lesson}").text
