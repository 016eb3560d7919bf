"""Standards as the files a PMO publishes: template workbooks and decks whole, retrospective decks split,
legacy .xls registers, mail FAQs; and each broken variant of the new formats failing alone under the budget."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.budget import FileBudget
from ingest.options import IngestOptions
from ingest.pipeline import FileStatus, ingest_paths
from ingest.registry import default_registry
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind
from kb.record.store import document_id
from tests.ingest.hostile import zip_bomb
from tests.ingest.samples import docx_file, eml_file, encrypt_office, pptx_file, xls_file, xlsx

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

WBS = xlsx(
    {
        "WBS": [
            ["WBSテンプレート（標準）", None, None, None, None],
            [None] * 5,
            ["No.", "タスク", "担当", "開始日", "成果物"],
            ["1", "要件定義", "PM", dt.datetime(2024, 5, 1), "要件定義書"],
            ["1.1", "業務フロー作成", "BA", None, "業務フロー図"],
        ],
        "記入例": [["# 記入上の注意"], ["- <script>alert(1)</script> は文字のまま"]],
    }
)
ISSUES = xlsx(
    {
        "課題管理表": [
            ["課題管理表", None, None, None, None],
            ["No.", "課題", "内容", "担当者", "期限"],
            [None, None, None, None, None],
        ]
    }
)
DECK_SLIDES: list[tuple[str, list[object]]] = [
    ("プロジェクト計画書テンプレート", ["目的と背景を書く"]),
    ("体制", [("PM", "PMO", "ベンダー")]),
    ("スケジュール", [[["フェーズ", "期間"], ["要件定義", "2か月"]]]),
    *[(f"第{n}章", [f"本文 {n}"]) for n in range(4, 8)],
]
DECK = pptx_file(DECK_SLIDES, notes={7: "記入例: 予備費はフロギストン方式で積む"})


def parse(name: str, data: bytes, kind: Kind | None = None) -> list[DocumentDraft]:
    path = Path("/kb") / name
    ingester = default_registry().for_path(path)
    assert ingester is not None
    return ingester.parse(path, data, source=str(path), options=IngestOptions(kind=kind))


def test_a_wbs_template_workbook_is_one_document_with_every_sheet_and_its_original() -> None:
    (doc,) = parse("templates/WBSテンプレート_v2.xlsx", WBS)
    assert (doc.kind, doc.title, doc.version, doc.language) == (Kind.template, "WBSテンプレート", "2", "ja")
    assert doc.body == (
        "## シート: WBS\n\nWBSテンプレート（標準）\n\n"
        "| No. | タスク | 担当 | 開始日 | 成果物 |\n| --- | --- | --- | --- | --- |\n"
        "| 1 | 要件定義 | PM | 2024-05-01 | 要件定義書 |\n| 1.1 | 業務フロー作成 | BA |  | 業務フロー図 |\n\n"
        "## シート: 記入例\n\n\\# 記入上の注意\n\n\\- \\<script>alert(1)\\</script> は文字のまま"
    )
    assert doc.meta["sheets"] == ["WBS", "記入例"]
    assert doc.original is not None and doc.original.data == WBS
    assert (doc.original.filename, doc.original.media_type) == ("WBSテンプレート_v2.xlsx", XLSX_TYPE)


def test_an_issue_log_template_is_one_document_though_its_columns_look_like_a_register() -> None:
    (doc,) = parse("標準/課題管理表テンプレート.xlsx", ISSUES)  # named a template: its 課題 column does not matter
    assert doc.kind is Kind.template and "| No. | 課題 | 内容 | 担当者 | 期限 |" in doc.body
    (same,) = parse("x/課題管理表.xlsx", ISSUES, kind=Kind.template)  # --kind, and no register rows under it
    assert same.kind is Kind.template and same.original is not None


def test_a_register_still_gives_rows_and_the_error_for_a_bare_workbook_says_how_to_publish_it() -> None:
    rows = parse("lessons/register.xlsx", xlsx({"S": [["件名", "教訓"], ["見積もり", "前提を書く。"]]}))
    assert [d.kind for d in rows] == [Kind.lesson]
    with pytest.raises(InvalidInput, match="pass --kind template"):
        parse("x/plan.xlsx", WBS)


def test_a_powerpoint_template_is_one_document_slide_by_slide_with_groups_tables_and_notes() -> None:
    (doc,) = parse("templates/計画書.pptx", DECK)
    assert (doc.kind, doc.title, doc.meta["slides"]) == (Kind.template, "プロジェクト計画書テンプレート", 7)
    assert doc.body.startswith(
        "## スライド 1: プロジェクト計画書テンプレート\n\n目的と背景を書く\n\n## スライド 2: 体制\n\nPM\n\nPMO\n\nベンダー"
    )
    assert "## スライド 3: スケジュール\n\n| フェーズ | 期間 |\n| --- | --- |\n| 要件定義 | 2か月 |" in doc.body
    assert doc.body.endswith("## スライド 7: 第7章\n\n本文 7\n\n**ノート**: 記入例: 予備費はフロギストン方式で積む")
    assert doc.original is not None and doc.original.data == DECK


def test_a_powerpoint_retrospective_becomes_a_retrospective_and_one_lesson_per_lesson() -> None:
    deck = pptx_file(
        [
            ("基幹刷新 振り返り", ["2024年度 PMO"]),
            ("事象", ["RFP後に評価項目を議論し選定が3か月遅れた", "移行リハーサルを本番量で行わなかった"]),
            ("教訓", ["評価基準はRFP前に合意する", "本番量でリハーサルする"]),
            ("提言", ["評価シートをRFPと同時に承認する", "リハーサルを2回計画する"]),
        ],
        notes={3: "発表者メモ"},
    )
    retro, first, second = parse("retrospectives/基幹刷新.pptx", deck)
    assert (retro.kind, retro.original) == (Kind.retrospective, None)
    assert "発表者メモ" not in retro.body  # notes are not lessons
    assert [first.kind, first.title, first.driving_event, first.recommendation] == [
        Kind.lesson, "評価基準はRFP前に合意する", "RFP後に評価項目を議論し選定が3か月遅れた", "評価シートをRFPと同時に承認する",
    ]  # fmt: skip
    assert (second.lesson, second.recommendation) == ("本番量でリハーサルする", "リハーサルを2回計画する")
    english = pptx_file(
        [("Lessons", ["Agree the criteria before the RFP"]), ("What went wrong", ["Selection slipped"])],
        title="CRM project retrospective",
    )
    _, lesson = parse("x/crm.pptx", english)
    assert (lesson.lesson, lesson.driving_event) == ("Agree the criteria before the RFP", "Selection slipped")


RETRO_TABLE = [
    ["No.", "事象", "原因", "教訓", "提言"],
    ["1", "選定が3か月遅れた", "評価項目が未合意", "評価基準はRFP前に合意する。理由は後述", "評価シートを承認する"],
    ["2", "", "", "", ""],
    ["No.", "事象", "原因", "教訓", "提言"],
    ["3", "移行で<script>が止まった", "リハーサル不足", "", "本番量でリハーサルする"],
]


def test_a_retrospective_slide_holding_a_table_gives_one_lesson_per_row() -> None:
    deck = pptx_file(
        [
            ("基幹刷新 振り返り", ["2024年度 PMO"]),
            ("振り返り", [RETRO_TABLE]),
            ("スケジュール", [[["フェーズ", "期間"], ["要件定義", "2か月"]]]),
        ]
    )
    retro, first, second = parse("retrospectives/基幹刷新.pptx", deck)
    assert retro.kind is Kind.retrospective and "| 1 | 選定が3か月遅れた |" in retro.body
    assert "| 要件定義 | 2か月 |" in retro.body  # a table of something else stays text, and is no lesson
    assert (first.kind, first.title, first.key, first.parent_id) == (
        Kind.lesson, "評価基準はRFP前に合意する。", "lesson-1", document_id("/kb/retrospectives/基幹刷新.pptx", "main"),
    )  # fmt: skip
    assert (first.driving_event, first.lesson, first.recommendation) == (
        "選定が3か月遅れた", "評価基準はRFP前に合意する。理由は後述", "評価シートを承認する",
    )  # fmt: skip
    assert first.body == (
        "## 事象\n\n選定が3か月遅れた\n\n## 教訓\n\n評価基準はRFP前に合意する。理由は後述\n\n"
        "## 提言\n\n評価シートを承認する\n\n**原因**: 評価項目が未合意"
    )
    # no lesson cell: titled by its issue; the row numbered 2 is empty and the repeated header no lesson
    assert (second.title, second.lesson, second.recommendation) == (
        "移行で<script>が止まった", None, "本番量でリハーサルする",
    )  # fmt: skip
    assert "\\<script>" in second.body and "**原因**: リハーサル不足" in second.body


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([["問題点", "対策"], ["要件が膨らんだ", "変更管理を入れる"]], ("要件が膨らんだ", None, "変更管理を入れる")),
        (
            [["振り返り結果", ""], ["良かった点", "悪かった点"], ["朝会が短い", "レビューが遅い"]],
            ("レビューが遅い", None, None),
        ),
        (
            [["Issue", "Lesson", "Recommendation"], ["Scope crept", "Baseline early", "Use change control"]],
            ("Baseline early", "Baseline early", "Use change control"),
        ),
    ],
)
def test_lesson_tables_are_recognised_by_the_names_registers_and_retrospectives_use(
    rows: list[list[str]], expected: tuple[str, str | None, str | None]
) -> None:
    _, lesson = parse("x/プロジェクト振り返り.pptx", pptx_file([("まとめ", [rows])]))
    assert (lesson.title, lesson.lesson, lesson.recommendation) == expected
    if rows[0][0] == "振り返り結果":  # a title row above the header is passed over; 良かった点 is kept labelled
        assert lesson.driving_event == "レビューが遅い" and lesson.body.endswith("**良かった点**: 朝会が短い")


def test_a_retrospective_table_with_an_unknown_header_stays_text() -> None:
    deck = pptx_file([("振り返り", [[["項目", "メモ"], ["体制", "PMが兼務だった"]]])])
    (retro,) = parse("retrospectives/x.pptx", deck)
    assert retro.kind is Kind.retrospective and "| 体制 | PMが兼務だった |" in retro.body


def test_an_xls_register_becomes_rows() -> None:
    data = xls_file(
        {
            "教訓一覧": [
                ["件名", "事象", "教訓", "対策", "発生日"],
                ["見積もり", "前提漏れ", "前提を書く", "テンプレ化", dt.datetime(2024, 5, 1)],
            ]
        }
    )
    (doc,) = parse("lessons/register.xls", data)
    assert (doc.kind, doc.title, doc.lesson, doc.recommendation, doc.doc_date) == (
        Kind.lesson, "見積もり", "前提を書く", "テンプレ化", dt.date(2024, 5, 1),
    )  # fmt: skip
    (template,) = parse("templates/進捗報告書.xls", xls_file({"報告": [["進捗報告書"], ["週", "状況"], ["1", "順調"]]}))
    assert (
        template.kind is Kind.template
        and template.original is not None
        and template.original.data.startswith(b"\xd0\xcf")
    )


def test_an_answered_mail_is_an_faq_listing_its_attachments_which_are_files_of_their_own() -> None:
    procedure = docx_file([("Heading 1", "手順"), ("", "経費精算システムで申請する。")], title="経費精算手順書")
    mail = eml_file(
        "Re: 経費精算の締め日はいつですか？",
        "毎月25日です。\n遅れる場合はPMOへ連絡してください。\n\n> 経費精算の締め日を教えてください。\n",
        attachments=[("経費精算手順書.docx", procedure), ("logo.png", b"\x89PNG\r\n")],
    )
    (faq,) = parse("in/mail.eml", mail)  # the attachments are stored by the pipeline (tests/ingest/test_mail.py)
    assert (faq.kind, faq.question, faq.doc_date) == (Kind.faq, "経費精算の締め日はいつですか？", dt.date(2024, 5, 1))
    assert faq.answer == "毎月25日です。\n遅れる場合はPMOへ連絡してください。"
    assert faq.meta["asked"] == "経費精算の締め日を教えてください。"
    assert faq.meta["attachments"] == [{"name": "経費精算手順書.docx"}, {"name": "logo.png"}]
    (notice,) = parse("procedures/notice.eml", eml_file("月次締めの手順", "1. 集計する\n2. 承認を得る\n"))
    assert notice.kind is Kind.procedure and notice.title == "月次締めの手順"
    with pytest.raises(InvalidInput, match="holds no answer"):
        parse("faq/q.eml", eml_file("締め日はいつですか？", "教えてください。"))


def test_legacy_word_and_powerpoint_files_say_to_save_them_in_the_current_format() -> None:
    with pytest.raises(InvalidInput, match=r"save it as \.docx"):
        parse("procedures/old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    with pytest.raises(InvalidInput, match=r"this is a \.pptx file named \.ppt: rename it to \.pptx"):
        parse("templates/deck.ppt", DECK)


@pytest.fixture
def kb(knowledge_base: KnowledgeBase) -> KnowledgeBase:
    return knowledge_base


def test_each_broken_variant_fails_alone_in_a_budgeted_batch(
    kb: KnowledgeBase, tmp_path: Path, settings: Settings
) -> None:
    root = tmp_path / "kb"
    files = {
        "templates/ok.pptx": (DECK, None),
        "templates/wbs.xlsx": (WBS, None),
        "templates/bomb.pptx": (zip_bomb(DECK, "ppt/slides/slide1.xml"), "refused as a zip bomb"),
        "templates/locked.xlsx": (encrypt_office(WBS), "password-protected"),
        "templates/locked.pptx": (encrypt_office(DECK), "password-protected"),
        "faq/not-ole.msg": (eml_file("Q?", "A"), "not an OLE compound file"),
        "faq/office.msg": (encrypt_office(WBS), "without message properties"),
        "lessons/renamed.xls": (WBS, "rename it to .xlsx"),
        "lessons/broken.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 700, "not a readable .xls"),
        "templates/cut.pptx": (DECK[: len(DECK) // 2], "damaged or truncated"),
        "faq/empty.eml": (b"just some text, no headers", "no mail headers"),
    }
    for name, (data, _) in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    report = ingest_paths(
        kb.store,
        [root],
        registry=default_registry(),
        max_file_bytes=8_000_000,
        budget=FileBudget.from_settings(settings),
    )
    by_name = {str(Path(f.path).relative_to(root)): f for f in report.files}
    for name, (_, reason) in files.items():
        result = by_name[name]
        if reason is None:
            assert result.status is FileStatus.added, (name, result)
        else:
            assert result.status is FileStatus.failed, (name, result)
            assert result.error and result.error.startswith(str(root / name) + ":") and reason in result.error, (
                name, result.error,
            )  # fmt: skip
