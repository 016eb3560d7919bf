"""Sample files for the ingest tests, made here so nothing binary lives in the repository.

Word and Excel files are written with python-docx and openpyxl; PDFs are
written by hand (a few objects and a cross-reference table), with a Type0 font
whose ToUnicode map is the identity, so Japanese text has a real text layer.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence

import docx
import openpyxl
from msoffcrypto.format.ooxml import OOXMLFile
from pypdf import PdfReader, PdfWriter


def xlsx(sheets: dict[str, Sequence[Sequence[object]]]) -> bytes:
    """A workbook with one sheet per entry, rows written as given (None leaves a cell empty)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def docx_file(blocks: Sequence[tuple[str, object]], *, title: str = "", category: str = "") -> bytes:
    """A Word document from ``(style, text)`` blocks; style ``table`` takes a list of rows."""
    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.category = category
    for style, content in blocks:
        if style == "table":
            rows = list(content)  # type: ignore[call-overload]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, text in enumerate(row):
                    table.cell(r, c).text = text
        elif style.startswith("Heading"):
            document.add_heading(str(content), int(style.split()[1]))
        elif style == "Title":
            document.add_heading(str(content), 0)
        else:
            document.add_paragraph(str(content), style=style or None)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def encrypt_office(data: bytes, password: str = "secret") -> bytes:
    """The same .docx/.xlsx protected by a password, as Office writes it (an OLE file, not a zip)."""
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def pdf(pages: Sequence[Sequence[str]], *, title: str | None = None) -> bytes:
    """A PDF whose pages hold these lines of text (any Unicode text: CID = code point, ToUnicode identity).

    A page given as an empty list draws a filled rectangle and no text, as a scan would.
    """
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Identity-UCS def "
        b"/CMapType 2 def 1 begincodespacerange <0000> <FFFF> endcodespacerange "
        b"1 beginbfrange <0000> <FFFF> <0000> endbfrange endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    to_unicode = add(b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream")
    descendant = add(
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Sample /CIDSystemInfo "
        b"<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>"
    )
    font = add(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /Sample /Encoding /Identity-H "
        b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (descendant, to_unicode)
    )
    page_ids: list[int] = []
    pages_id = len(objects) + 1 + 2 * len(pages)  # allocated after every page and its content stream
    for lines in pages:
        if lines:
            ops = [b"BT /F1 12 Tf 14 TL 50 780 Td"]
            for line in lines:
                ops.append(b"<" + line.encode("utf-16-be").hex().encode() + b"> Tj T*")
            ops.append(b"ET")
        else:
            ops = [b"0.5 g 50 50 400 600 re f"]
        stream = zlib.compress(b"\n".join(ops))
        content = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, content, font)
            )
        )
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))) == pages_id
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    info = add(b"<< /Title <FEFF" + title.encode("utf-16-be").hex().encode() + b"> >>") if title else None
    return write_pdf(objects, root=catalog, info=info)


def write_pdf(objects: Sequence[bytes], *, root: int, info: int | None = None) -> bytes:
    """A PDF file of these objects (numbered from 1) with its cross-reference table and trailer."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, root)
    if info:
        trailer += b" /Info %d 0 R" % info
    out.write(b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def encrypt_pdf(data: bytes, password: str = "secret") -> bytes:
    """The same PDF needing a password to open."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pptx_file(
    slides: Sequence[tuple[str, Sequence[object]]],
    *,
    title: str = "",
    notes: dict[int, str] | None = None,
) -> bytes:
    """A deck: one ``(title, items)`` per slide; an item is a text (a bullet), a list of rows (a table), or a
    tuple of texts (text boxes grouped together). ``notes`` maps slide numbers (from 1) to speaker notes."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = title
    for number, (heading, items) in enumerate(slides, start=1):
        slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
        slide.shapes.title.text = heading
        top = 1.5
        for item in items:
            if isinstance(item, str):
                box = slide.shapes.add_textbox(Inches(0.5), Inches(top), Inches(9), Inches(0.5))
                box.text_frame.text = item
                box.text_frame.paragraphs[0].level = 1
            elif isinstance(item, tuple):
                group = slide.shapes.add_group_shape()
                for n, text in enumerate(item):
                    box = group.shapes.add_textbox(Inches(0.5 + 3 * n), Inches(top), Inches(2.5), Inches(0.5))
                    box.text_frame.text = text
            else:
                rows = list(item)  # type: ignore[call-overload]
                shape = slide.shapes.add_table(len(rows), len(rows[0]), Inches(0.5), Inches(top), Inches(9), Inches(1))
                for r, row in enumerate(rows):
                    for c, text in enumerate(row):
                        shape.table.cell(r, c).text = text
            top += 0.8
        if notes and number in notes:
            slide.notes_slide.notes_text_frame.text = notes[number]
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def xls_file(sheets: dict[str, Sequence[Sequence[object]]]) -> bytes:
    """An Excel 97–2003 workbook (.xls, BIFF8) written with xlwt."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    dates = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if hasattr(value, "year"):
                    sheet.write(r, c, value, dates)
                else:
                    sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def eml_file(
    subject: str, body: str, *, sender: str = "pmo@example.com", attachments: Sequence[tuple[str, bytes]] = ()
) -> bytes:
    """A mail message as a mail program saves it (.eml), with attachments."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = "team@example.com"
    message["Date"] = "Wed, 01 May 2024 10:00:00 +0900"
    message.set_content(body)
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()
