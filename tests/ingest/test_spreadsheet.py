"""Spreadsheets: FAQ sheets and lessons registers in CSV and XLSX, header detection, --map, row errors."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import pytest

from ingest.columns import PREVIEW_ROWS, UnrecognisedColumns, likely_header
from ingest.options import IngestOptions, make_options
from ingest.spreadsheet import SpreadsheetIngester
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind
from tests.ingest.samples import xlsx


def parse(name: str, data: bytes, options: IngestOptions | None = None) -> list[DocumentDraft]:
    path = Path("/kb/sheets") / name
    return SpreadsheetIngester().parse(path, data, source=str(path), options=options or IngestOptions())


FAQ_CSV = """質問,回答,カテゴリ
予算の追加申請はどこから出しますか？,PMOポータルの「予算変更」フォームから申請してください。,予算
変更要求の承認には何日かかりますか？,"通常5営業日です。
緊急の場合はPMOに電話してください。",変更管理
"""


def test_a_japanese_faq_sheet_gives_one_faq_per_row() -> None:
    first, second = parse("faq.csv", FAQ_CSV.encode("utf-8"))
    assert first.kind is Kind.faq and first.language == "ja"
    assert first.question == first.title == "予算の追加申請はどこから出しますか？"
    assert first.answer == "PMOポータルの「予算変更」フォームから申請してください。"
    assert first.category == "予算"
    assert second.answer == "通常5営業日です。\n緊急の場合はPMOに電話してください。"
    assert [first.key, second.key] == ["row-2", "row-3"]


def test_q_and_a_headers_in_english_and_shift_jis_bytes() -> None:
    text = "Q,A\nHow do I request a budget change?,Use the budget change form on the PMO portal.\n"
    (only,) = parse("faq-en.csv", text.encode("cp932"))
    assert (only.kind, only.language, only.answer) == (Kind.faq, "en", "Use the budget change form on the PMO portal.")
    (ja,) = parse(
        "faq-sjis.csv", FAQ_CSV.splitlines()[0].encode("cp932") + b"\r\n" + "質問です,回答です,\r\n".encode("cp932")
    )
    assert ja.question == "質問です"


LESSONS_ROWS: list[list[object]] = [
    ["2024年度 教訓一覧（PMO）", None, None, None, None, None, None, None, None],
    [None] * 9,
    ["No.", "件名", "事象", "教訓", "対策", "プロジェクト名", "フェーズ", "発生日", "タグ"],
    [
        "L-001",
        "ベンダー選定は評価基準を先に固める",
        "RFP発行後に評価項目を議論し始め、選定が3か月遅れた。",
        "評価基準と配点はRFPの前に合意しておく。",
        "ベンダー評価シートをRFPと同時に承認する。",
        "基幹システム刷新",
        "要件定義",
        dt.datetime(2024, 5, 1),
        "ベンダー、調達",
    ],
    [None] * 9,
    [
        "L-002",
        "Rehearse the data migration twice",
        "The cut-over failed because the migration was never rehearsed with production volumes.",
        "A rehearsal with real volumes finds what a test set hides.",
        "Plan two full rehearsals before go-live.",
        "CRM Migration",
        "移行",
        45413,  # an Excel serial date: 2024-05-01
        "migration; cut-over",
    ],
    ["L-003", "令和の日付", "事象の説明。", "教訓の説明。", "対策の説明。", "N/A", "-", "令和6年5月1日", None],
]


def test_an_xlsx_lessons_register_maps_every_column_and_finds_the_header_under_a_title_row() -> None:
    data = xlsx({"教訓一覧": LESSONS_ROWS, "説明": [["このブックの使い方"], ["一行に一件の教訓を書く。"]]})
    first, second, third = parse("register.xlsx", data)
    assert first.kind is Kind.lesson and first.language == "ja"
    assert first.title == "ベンダー選定は評価基準を先に固める"
    assert first.driving_event == "RFP発行後に評価項目を議論し始め、選定が3か月遅れた。"
    assert first.lesson == "評価基準と配点はRFPの前に合意しておく。"
    assert first.recommendation == "ベンダー評価シートをRFPと同時に承認する。"
    assert (first.project, first.phase, first.doc_date, first.tags) == (
        "基幹システム刷新",
        "要件定義",
        dt.date(2024, 5, 1),
        ["ベンダー", "調達"],
    )
    assert first.body.startswith("## 事象\n\nRFP発行後") and "## 提言\n\nベンダー評価シート" in first.body
    assert first.key == "教訓一覧!id-L-001" and first.meta == {"sheet": "教訓一覧"}
    assert second.language == "en" and second.body.startswith("## Driving event\n\nThe cut-over failed")
    assert second.doc_date == dt.date(2024, 5, 1) and second.tags == ["migration", "cut-over"]
    assert third.doc_date == dt.date(2024, 5, 1)
    assert third.project is None and third.phase is None  # "N/A" and "-" are placeholders


def test_unknown_headers_carry_the_first_rows_to_map_from_through_a_worker() -> None:
    rows = [["2024 register", None], ["Takeaway", "Fix"], ["Agree criteria", 3.0]] + [["x", "y"]] * 20
    data = xlsx({"Lessons": rows})
    with pytest.raises(UnrecognisedColumns) as caught:
        parse("odd.xlsx", data)
    assert caught.value.rows[:3] == [["2024 register", ""], ["Takeaway", "Fix"], ["Agree criteria", "3"]]
    assert len(caught.value.rows) == PREVIEW_ROWS and likely_header(caught.value.rows) == 1
    back = pickle.loads(pickle.dumps(caught.value))  # how the budgeted worker sends it to the web process
    assert back.rows == caught.value.rows and back.reason == caught.value.reason


def test_map_names_columns_the_aliases_do_not_know_and_the_rest_go_to_meta() -> None:
    csv_text = (
        "Title,Takeaway,Fix,Owner team\nLate vendor choice,Agree the criteria first,Approve the sheet early,PMO\n"
    )
    with pytest.raises(InvalidInput, match=r"no header row found .* --map COLUMN=FIELD"):
        parse("odd.csv", csv_text.encode())
    options = make_options({"Takeaway": "lesson", "fix": "recommendation"})
    (mapped,) = parse("odd.csv", csv_text.encode(), options)
    assert (mapped.kind, mapped.title, mapped.lesson, mapped.recommendation, mapped.meta) == (
        Kind.lesson,
        "Late vendor choice",
        "Agree the criteria first",
        "Approve the sheet early",
        {"Owner team": "PMO"},
    )
    (owned,) = parse("odd.csv", csv_text.encode(), make_options({**options.column_map, "Owner team": "owner"}))
    assert owned.owner == "PMO" and owned.meta == {}


def test_a_mapping_to_an_unknown_field_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown field 'lessons_learned'"):
        make_options({"教訓": "lessons_learned"})


def test_a_bad_date_names_the_row_and_the_column() -> None:
    rows = [["件名", "教訓", "発生日"], ["A", "a", "2024/5/1"], ["B", "b", "来週"]]
    with pytest.raises(InvalidInput) as info:
        parse("dates.xlsx", xlsx({"教訓": rows}))
    assert info.value.message == (
        "/kb/sheets/dates.xlsx: sheet '教訓', row 3, column '発生日': "
        "not a date: '来週' (write it as 2024-05-01, 2024/5/1 or 2024年5月1日)"
    )
    assert info.value.place == "sheet '教訓', row 3, column '発生日'"


def test_ragged_csv_rows_fail_with_row_and_line() -> None:
    text = 'Q,A\n"How?","Like this"\n"Why?","Because","extra"\n'
    with pytest.raises(InvalidInput) as info:
        parse("ragged.csv", text.encode())
    assert "ragged.csv:3: row 3: 3 cells but the header has 2" in info.value.message
    assert info.value.line == 3
    short = "件名,教訓,対策\nA,a,b\nB,b\n"
    with pytest.raises(InvalidInput, match="row 3: 2 cells but the header has 3"):
        parse("short.csv", short.encode())


def test_repeated_ids_and_rows_without_text_are_errors() -> None:
    with pytest.raises(InvalidInput, match="row 3: repeats the id '7' of row 2"):
        parse("dup.csv", b"ID,Q,A\n7,a?,b\n7,c?,d\n")
    with pytest.raises(InvalidInput, match="row 2: question 'a\\?' has no answer"):
        parse("noanswer.csv", b"Q,A\na?,\n")
    with pytest.raises(InvalidInput, match="a lesson row needs text"):
        parse("empty.csv", "件名,教訓\nタイトルだけ,\n".encode())


def test_cells_are_stored_as_text_and_never_as_html() -> None:
    (faq,) = parse("xss.csv", b'Q,A\n<b>bold?</b>,"<script>alert(1)</script> &lt;img src=x onerror=alert(2)&gt;"\n')
    assert faq.answer == "<script>alert(1)</script> <img src=x onerror=alert(2)>"  # the field is plain text
    assert faq.body == "\\<script>alert(1)\\</script> \\<img src=x onerror=alert(2)>"  # the Markdown escapes it
