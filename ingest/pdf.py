"""PDF files: the text layer of procedures, templates and reports.

A PDF carries no headings or tables a reader could trust, so the body is its
text, page after page, in paragraphs. What goes wrong with PDFs gets its own
message: a scan without a text layer (nothing to search until someone runs
OCR), a password that must be removed first, and a truncated file (a PDF
always ends with ``%%EOF``). A template or procedure keeps the PDF as its
downloadable original.

A PDF can also be built to exhaust its reader: a stream that inflates a
thousandfold (a "decompression bomb"), arrays of millions of objects, object
streams nested in each other. pypdf caps these itself (``pypdf.Configuration``:
75 MB out of any one stream, 100,000 items in an array or dictionary) and
raises ``LimitReachedError``, which becomes this file's error; what no cap
covers, the per-file budget (``ingest.budget``) stops.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError, PdfStreamError

from ingest.kinds import require_kind
from ingest.markdown import document_drafts
from ingest.markup import escape_text, tidy
from ingest.options import DEFAULT_OPTIONS, IngestOptions
from ingest.versions import standard_title
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, OriginalFile

TITLE_CHARS = 120
_READ_ERRORS = (PdfReadError, PdfStreamError, DependencyError, ValueError, KeyError, TypeError, AttributeError)


class PdfIngester:
    """``.pdf`` files with a text layer, of any kind; the kind comes from ``--kind``, the folder, or the name."""

    format: str = "pdf"
    extensions: tuple[str, ...] = (".pdf",)

    def parse(
        self, path: Path, data: bytes, *, source: str, options: IngestOptions = DEFAULT_OPTIONS
    ) -> list[DocumentDraft]:
        if b"%PDF-" not in data[:1024]:
            raise InvalidInput("not a PDF file: it does not start with %PDF-", source=source)
        if b"%%EOF" not in data[-2048:]:
            raise InvalidInput("the file is truncated: a PDF ends with %%EOF and this one does not", source=source)
        # pypdf warns about every small defect of real-world PDFs; none of them is the user's to act on.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = _open(data, source)
            pages = _page_texts(reader, source)
        if not any(pages):
            raise InvalidInput(
                f"no text layer: its {len(pages)} page(s) hold only images (a scan?); "
                "run OCR on it and ingest the result",
                source=source,
            )
        info: Any = reader.metadata or {}
        title, pages = _title(info.get("/Title"), pages, path)
        kind = require_kind(path, options.kind, source=source, title=title)
        body = "\n\n".join(_paragraphs(text) for text in pages if text)
        fields: dict[str, Any] = standard_title(kind, title, path=path)
        meta: dict[str, Any] = {"pages": len(pages)}
        if isinstance(info.get("/Author"), str) and info["/Author"].strip():
            meta["author"] = info["/Author"].strip()
        original = OriginalFile(filename=path.name, media_type="application/pdf", data=data)
        return document_drafts(path, body, kind=kind, fields=fields, meta=meta, source=source, original=original)


def _open(data: bytes, source: str) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidInput(
                "the file is password-protected: save a copy without a password and ingest that", source=source
            )
        len(reader.pages)  # reads the page tree: a damaged one fails here, not halfway through
    except FileNotDecryptedError:
        raise InvalidInput(
            "the file is password-protected: save a copy without a password and ingest that", source=source
        ) from None
    except LimitReachedError as exc:
        raise InvalidInput(_over_limit(exc), source=source) from None
    except _READ_ERRORS as exc:
        raise InvalidInput(f"not a readable PDF (damaged?): {exc}", source=source) from None
    return reader


def _page_texts(reader: PdfReader, source: str) -> list[str]:
    texts: list[str] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            texts.append((page.extract_text() or "").strip())
        except LimitReachedError as exc:
            raise InvalidInput(_over_limit(exc), source=source, place=f"page {number}") from None
        except _READ_ERRORS as exc:
            raise InvalidInput(f"cannot read its text: {exc}", source=source, place=f"page {number}") from None
    return texts


def _over_limit(exc: LimitReachedError) -> str:
    return f"it holds more than a PDF reader accepts (a stream that inflates past 75 MB, or millions of objects): {exc}"


def _paragraphs(text: str) -> str:
    """A page's text as Markdown paragraphs: lines kept, blank lines between paragraphs, nothing raw."""
    return tidy(escape_text(re.sub(r"[ \t\u3000]+\n", "\n", text)))


def _title(declared: object, pages: list[str], path: Path) -> tuple[str, list[str]]:
    """The declared title, else the first line when it is short (then taken out of the text), else the file name."""
    if isinstance(declared, str) and declared.strip():
        return declared.strip(), pages
    index = next(i for i, text in enumerate(pages) if text)
    first, _, rest = pages[index].partition("\n")
    remaining = [*pages[:index], rest.strip(), *pages[index + 1 :]]
    if first.strip() and len(first.strip()) <= TITLE_CHARS and any(remaining):
        return first.strip(), remaining
    return path.stem.replace("-", " ").replace("_", " "), pages
