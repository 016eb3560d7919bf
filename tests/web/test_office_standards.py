"""Office file standards on the web: a word only on slide 7 is found and the hit says "slide 7"; the document
page shows the deck slide by slide and the workbook sheet by sheet (escaped), the library lists them, and the
original downloads byte for byte."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.ingest.samples import pptx_file, xlsx

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DECK = pptx_file(
    [
        ("Project plan template", ["Write the purpose"]),
        *[(f"Chapter {n}", [f"Fill in part {n}"]) for n in range(2, 7)],
        ("Contingency", ["Size the reserve with the quokka method"]),
    ],
    notes={2: "<script>alert('notes')</script>"},
)


def test_a_word_only_on_slide_7_is_found_and_the_hit_says_slide_7(client: TestClient) -> None:
    r = client.post("/api/upload", data={"kind": "template"}, files=[("files", ("plan.pptx", DECK, PPTX))]).json()
    assert r["files"][0]["status"] == "added", r
    (hit,) = client.get("/api/search", params={"q": "quokka"}).json()["hits"]
    assert (hit["title"], hit["location"]) == ("Project plan template", "slide 7")
    english = client.get("/", params={"q": "quokka"}, headers={"Accept-Language": "en"}).text
    assert f'href="/documents/{hit["id"]}#slide-7">slide 7</a>' in english
    japanese = client.get("/", params={"q": "quokka"}, headers={"Accept-Language": "ja"}).text
    assert f'href="/documents/{hit["id"]}#slide-7">スライド 7</a>' in japanese
    doc = client.get(f"/documents/{hit['id']}").text
    assert '<section class="file-part file-part-slide" id="slide-7">' in doc
    assert "Size the reserve with the quokka method" in doc
    assert "<script>alert" not in doc and "&lt;script&gt;alert" in doc
    original = client.get(f"/documents/{hit['id']}/original")
    assert original.content == DECK and original.headers["content-type"].startswith(PPTX)


def test_a_template_workbook_shows_sheet_by_sheet_and_the_library_lists_its_sheets(client: TestClient) -> None:
    data = xlsx(
        {
            "WBS": [["WBS template"], [None], ["No.", "Task", "Owner"], ["1", "Wombat requirements", "PM"]],
            "Notes": [["<b>bold?</b> stays text"]],
        }
    )
    r = client.post("/api/upload", files=[("files", ("WBS-template.xlsx", data, XLSX))]).json()
    assert r["files"][0]["status"] == "added", r
    (hit,) = client.get("/api/search", params={"q": "wombat", "kind": "template"}).json()["hits"]
    assert hit["location"] == "sheet: WBS"
    page = client.get(f"/documents/{hit['id']}", headers={"Accept-Language": "en"}).text
    assert re.search(r'id="sheet-wbs">\s*<h2 class="file-part-head">sheet: WBS</h2>', page)
    assert "<td>Wombat requirements</td>" in page and "&lt;b&gt;bold?&lt;/b&gt; stays text" in page
    library = client.get("/library", headers={"Accept-Language": "en"}).text
    assert "2 sheets" in library and f'href="/documents/{hit["id"]}#sheet-notes"' in library
    assert client.get(f"/documents/{hit['id']}/original").content == data
