"""Hostile inputs, built here so every test shows what it throws at the parsers.

Each builder makes the smallest file that shows the problem at full strength
(the alias bomb is the one from the issue: nine anchors of nine items, nine
levels deep), so a test that passes proves the cap, not a lucky small sample.
"""

from __future__ import annotations

import io
import time
import zipfile
import zlib
from pathlib import Path

from ingest.markdown import MarkdownIngester
from ingest.options import IngestOptions
from kb.record.models import DocumentDraft
from tests.ingest.samples import write_pdf


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """Front matter whose aliases expand to ``width ** levels`` values ("billion laughs")."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "---\nkind: lesson\ntitle: laughs\n" + "\n".join(lines) + "\n---\n\n## Lesson\n\nHa.\n"


def deep_front_matter(depth: int = 200) -> str:
    """Front matter nested ``depth`` mappings deep, in block style."""
    nested = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v: 1\n"
    return "---\nkind: lesson\ntitle: deep\n" + nested + "---\n\n## Lesson\n\nDeep.\n"


def huge_front_matter(lines: int = 3_000) -> str:
    """Valid, flat front matter far longer than any real one (about 160 kB)."""
    keys = "".join(f"key{i}: value number {i} of a front matter nobody writes\n" for i in range(lines))
    return "---\nkind: lesson\ntitle: huge\n" + keys + "---\n\n## Lesson\n\nHuge.\n"


class StubbornIngester:
    """Stands in for a parser a file sends astray: ``.hang`` files never finish, ``.hog`` files eat memory.

    Anything else is parsed as Markdown. Defined at module level so the ingest
    worker can unpickle it; used to prove the budget, which must stop any
    parser, including ones no limit in this code base knows about.
    """

    format: str = "markdown"
    extensions: tuple[str, ...] = (".hang", ".hog", ".bug", ".md")

    def parse(self, path: Path, data: bytes, *, source: str, options: IngestOptions) -> list[DocumentDraft]:
        if path.suffix == ".hang":
            while True:
                time.sleep(1)
        if path.suffix == ".hog":
            hoard = [bytearray(1 << 20) for _ in range(4096)]  # 4 GiB, a MiB at a time
            raise AssertionError(f"allocated {len(hoard)} MiB past the budget")
        if path.suffix == ".bug":
            raise TypeError("a bug in a parser, not the file's fault")
        return MarkdownIngester().parse(path, data, source=source, options=options)


def _zip(parts: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return out.getvalue()


def _replace_part(package: bytes, name: str, data: bytes) -> bytes:
    """The same Office package with one part's content replaced."""
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts[name] = data
    return _zip(parts)


_LAUGHS_DTD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 "lol">\n'
    + b"".join(b'<!ENTITY lol%d "%s">\n' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10))
    + b"]>\n"
)


def docx_entity_bomb(template: bytes) -> bytes:
    """A .docx whose body is a "billion laughs": ten entities of ten, nine deep (3·10⁹ characters)."""
    body = (
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        b"<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
    )
    return _replace_part(template, "word/document.xml", _LAUGHS_DTD + body)


def docx_external_entity(template: bytes, target: Path) -> bytes:
    """A .docx whose body pulls in a local file through an external entity (XXE)."""
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://%s">]>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        b"<w:p><w:r><w:t>before &xxe; after</w:t></w:r></w:p></w:body></w:document>" % str(target).encode()
    )
    return _replace_part(template, "word/document.xml", body)


def xlsx_entity_bomb(template: bytes) -> bytes:
    """A workbook whose first sheet's cell holds a "billion laughs" inline string."""
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>title</t></is></c><c r="B1" t="inlineStr"><is><t>lesson</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c><c r="B2" t="inlineStr"><is><t>x</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    return _replace_part(template, "xl/worksheets/sheet1.xml", _LAUGHS_DTD + sheet)


def zip_bomb(template: bytes, part: str, unpacked: int = 64 * 1024 * 1024) -> bytes:
    """An Office package whose ``part`` unpacks to ``unpacked`` bytes of whitespace (about 1,000 times its size)."""
    with zipfile.ZipFile(io.BytesIO(template)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist() if info.filename != part}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)
        with package.open(part, "w", force_zip64=True) as bomb:
            for _ in range(unpacked >> 20):
                bomb.write(b" " * (1 << 20))
    return out.getvalue()


def many_parts(template: bytes, count: int = 20_000) -> bytes:
    """An Office package padded with ``count`` empty parts (a central directory to exhaust the reader)."""
    with zipfile.ZipFile(io.BytesIO(template)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts.update({f"pad/{i}.xml": b"" for i in range(count)})
    return _zip(parts)


def pdf_flate_bomb(unpacked: int = 128 * 1024 * 1024) -> bytes:
    """A one-page PDF whose content stream inflates to ``unpacked`` bytes of text operators (about 1,000:1)."""
    squeezer = zlib.compressobj(9)
    chunk = b"BT /F1 12 Tf (lol) Tj ET\n" * ((1 << 20) // 25)
    stream = b"".join(squeezer.compress(chunk) for _ in range(unpacked >> 20)) + squeezer.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return write_pdf(objects, root=1)


def deep_html(depth: int = 100_000) -> bytes:
    """A page nested ``depth`` elements deep around one sentence."""
    return b"<html><body>" + b"<div>" * depth + b"deep text" + b"</div>" * depth + b"</body></html>"


def deep_json(depth: int = 100_000) -> bytes:
    """A JSON Lines record whose value is nested ``depth`` arrays deep."""
    return b'{"title": "deep", "lesson": ' + b"[" * depth + b"]" * depth + b"}\n"
