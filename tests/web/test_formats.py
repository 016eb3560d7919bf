"""Office files uploaded through the web read correctly on their pages, and their originals download."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ingest.samples import docx_file, xlsx

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_word_procedure_reads_on_its_page_and_keeps_its_original(client: TestClient) -> None:
    data = docx_file(
        [
            ("Title", "障害報告手順書"),
            ("Heading 1", "報告の流れ"),
            ("List Number", "障害を検知したら15分以内に一次報告する"),
            ("table", [["区分", "報告先"], ["重大", "部長"], ["軽微", "PM"]]),
        ]
    )
    r = client.post("/api/upload", data={"kind": "procedure"}, files=[("files", ("incident-report.docx", data, DOCX))])
    assert r.json()["files"][0]["status"] == "added", r.json()
    hit = client.get("/api/search", params={"q": "障害 一次報告", "kind": "procedure"}).json()["hits"][0]
    doc = client.get(f"/api/documents/{hit['id']}").json()
    assert doc["title"] == "障害報告手順書" and doc["has_original"] is True
    page = client.get(f"/documents/{hit['id']}").text
    assert "<h2>報告の流れ</h2>" in page and "<td>部長</td>" in page and "15分以内に一次報告" in page
    assert f"/documents/{hit['id']}/original" in page
    original = client.get(f"/documents/{hit['id']}/original")
    assert original.content == data and original.headers["content-type"].startswith(DOCX)
    assert f"/documents/{hit['id']}/original" in client.get("/library").text


def test_a_lessons_register_becomes_one_lesson_page_per_row(client: TestClient) -> None:
    data = xlsx(
        {
            "教訓一覧": [
                ["No.", "件名", "事象", "教訓", "対策", "プロジェクト"],
                [
                    1,
                    "帳票の早期合意",
                    "帳票差異がUATで多発",
                    "帳票は設計で合意する",
                    "帳票サンプルを設計書に添付",
                    "販売管理",
                ],
                [2, "夜間バッチの性能", "本番データ量で遅延", "性能試験は本番相当で", "データ量を見積もる", "販売管理"],
            ]
        }
    )
    r = client.post("/api/upload", files=[("files", ("register.xlsx", data, XLSX))]).json()
    assert r["files"][0] == {"filename": "register.xlsx", "status": "added", "documents": 2, "error": None}
    hit = client.get("/api/search", params={"q": "帳票 合意", "project": "販売管理"}).json()["hits"][0]
    page = client.get(f"/documents/{hit['id']}").text
    assert 'class="block block-event"' in page and "帳票差異がUATで多発" in page
    assert 'class="block block-reco"' in page and "帳票サンプルを設計書に添付" in page
