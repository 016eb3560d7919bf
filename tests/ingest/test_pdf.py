"""PDF: the text layer of each page, the original kept; scans, passwords and truncation refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.options import IngestOptions
from ingest.pdf import PdfIngester
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind
from tests.ingest.samples import encrypt_pdf, pdf


def parse(path: str, data: bytes, kind: Kind | None = None) -> list[DocumentDraft]:
    return PdfIngester().parse(Path(path), data, source=path, options=IngestOptions(kind=kind))


RELEASE_JA = pdf(
    [
        ["リリース手順書", "1. リリース判定会議で承認を得る。", "2. 本番環境のバックアップを取得する。"],
        [],  # a page holding only a picture
        ["3. 切り戻し手順を確認してから作業を始める。", "<script>alert(1)</script>"],
    ]
)


def test_a_japanese_procedure_reads_every_page_and_keeps_the_pdf() -> None:
    (doc,) = parse("/kb/procedures/release.pdf", RELEASE_JA)
    assert (doc.kind, doc.title, doc.language) == (Kind.procedure, "リリース手順書", "ja")
    assert doc.body == (
        "1. リリース判定会議で承認を得る。\n2. 本番環境のバックアップを取得する。\n\n"
        "3. 切り戻し手順を確認してから作業を始める。\n\\<script>alert(1)\\</script>"
    )
    assert doc.meta == {"pages": 3}
    assert doc.original is not None and doc.original.data == RELEASE_JA and doc.original.media_type == "application/pdf"


def test_an_english_template_takes_its_title_from_the_document_info() -> None:
    data = pdf(
        [["Risk register", "Risk | Owner | Mitigation", "Vendor delay | PM | Shortlist early"]],
        title="Risk register v2",
    )
    (doc,) = parse("/kb/templates/risk.pdf", data)
    assert (doc.title, doc.language, doc.kind) == ("Risk register v2", "en", Kind.template)
    assert doc.body.startswith("Risk register\nRisk | Owner")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (pdf([[], []]), "no text layer: its 2 page"),
        (encrypt_pdf(RELEASE_JA), "password-protected"),
        (RELEASE_JA[: len(RELEASE_JA) // 2], "truncated"),
        (b"PK\x03\x04 a zip renamed", "not a PDF file"),
        (RELEASE_JA.replace(b"xref", b"xxxx").replace(b"/Root", b"/Xoot"), "not a readable PDF"),
    ],
    ids=["scan", "encrypted", "truncated", "not-pdf", "damaged"],
)
def test_broken_pdfs_get_one_clear_error(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as info:
        parse("/kb/procedures/bad.pdf", data)
    assert info.value.message.startswith("/kb/procedures/bad.pdf: ")
