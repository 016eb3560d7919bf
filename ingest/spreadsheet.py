"""Spreadsheets (CSV, TSV, XLSX, XLS): lessons registers and FAQ sheets, one document per row; templates whole.

A workbook whose kind is template or procedure (its Category property, its
folder, its file name or title; or ``--kind`` when no sheet is a register) is
one document: every sheet under its name, its cells as tables, the file kept
for download (``ingest.workbook``, ``ingest.filedoc``). Rows become documents
only for registers.

The header row is found among the first ten rows (see ``columns.find_header``),
each column is mapped to a field by name or by ``--map``, and every row below
becomes one document (``rows.row_draft``). A row's key is its id column when
the sheet has one (``id-L-012``), else its row number (``row-12``); in a
workbook the sheet name is part of the key and of every error's place.

Row numbers are the ones a spreadsheet program shows: the header is the row it
is on, counting from 1. For CSV, errors also carry the file line where the row
starts (they differ when a cell holds line breaks).
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import xlrd
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from xlrd import XLRDError
from xlrd.compdoc import CompDocError
from xlrd.xldate import XLDateError

from ingest.columns import PREVIEW_ROWS, Header, UnrecognisedColumns, find_header
from ingest.filedoc import file_drafts, file_title, named_kind
from ingest.office import OLE_MAGIC, check_package
from ingest.options import DEFAULT_OPTIONS, IngestOptions
from ingest.reading import decode_text
from ingest.rows import claim_id, guess_kind, row_draft
from ingest.values import cell_text
from ingest.versions import STANDARD_KINDS
from ingest.workbook import Book, workbook_markdown, workbook_text
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind
from kb.search.language import detect_language

_DELIMITERS = ",\t;"
WORKBOOK_MEDIA_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".xls": "application/vnd.ms-excel",
}


@dataclass(frozen=True)
class Sheet:
    """Rows of cells as read, with the file line each row starts on (CSV only)."""

    name: str | None
    rows: list[list[object]]
    lines: list[int] | None = None


class SpreadsheetIngester:
    """CSV, TSV and XLSX files whose rows are lessons, FAQs or other documents."""

    format: str = "spreadsheet"
    extensions: tuple[str, ...] = (".csv", ".tsv", ".xlsx", ".xlsm", ".xls")

    def parse(
        self, path: Path, data: bytes, *, source: str, options: IngestOptions = DEFAULT_OPTIONS
    ) -> list[DocumentDraft]:
        suffix = path.suffix.lower()
        if suffix not in WORKBOOK_MEDIA_TYPES:
            return register_drafts([read_csv(path, data, source)], path=path, source=source, options=options)
        book = read_xls(data, source) if suffix == ".xls" else read_xlsx(data, source)
        title = file_title(book.title, path)
        named = named_kind(path, category=book.category, title=title)
        if named in STANDARD_KINDS:
            return self._whole(path, data, book, kind=named, title=title, source=source)
        sheets = [Sheet(name, rows) for name, rows in book.sheets]
        if options.kind in STANDARD_KINDS and named is None:
            try:  # a register of templates (a body column per row) still gives rows; anything else is one file
                return register_drafts(sheets, path=path, source=source, options=options)
            except InvalidInput:
                return self._whole(path, data, book, kind=options.kind, title=title, source=source)
        return register_drafts(sheets, path=path, source=source, options=options)

    def _whole(
        self, path: Path, data: bytes, book: Book, *, kind: Kind, title: str, source: str
    ) -> list[DocumentDraft]:
        """The workbook as one template or procedure document (``ingest.filedoc``)."""
        language = detect_language(title + "\n" + workbook_text(book))
        body, shown = workbook_markdown(book, language=language)
        if not body:
            raise InvalidInput("the workbook has no text in any sheet", source=source)
        meta: dict[str, Any] = {"sheets": shown}
        if book.author and book.author not in ("openpyxl", "xlwt"):
            meta["author"] = book.author
        return file_drafts(
            path,
            body,
            kind=kind,
            title=title,
            media_type=WORKBOOK_MEDIA_TYPES[path.suffix.lower()],
            data=data,
            source=source,
            meta=meta,
            keywords=book.keywords,
        )


def register_drafts(sheets: list[Sheet], *, path: Path, source: str, options: IngestOptions) -> list[DocumentDraft]:
    """One draft per row of every sheet that has a header row: a lessons register, an FAQ sheet."""
    drafts: list[DocumentDraft] = []
    found = False
    for sheet in sheets:
        header = find_header(sheet.rows, options.column_map)
        if header is None:
            continue
        found = True
        drafts.extend(sheet_drafts(sheet, header, path=path, source=source, options=options))
    if not found:
        where = "any sheet" if len(sheets) > 1 else "the first 10 rows"
        first = next((sheet.rows for sheet in sheets if any(_trimmed_len(row) for row in sheet.rows)), [])
        raise UnrecognisedColumns(
            f"no header row found in {where}: name the columns (e.g. 質問/回答, Q/A, title/lesson/recommendation, "
            "件名/教訓/対策) or map them with --map COLUMN=FIELD; a template or procedure workbook is published "
            "whole: put it under templates/ or procedures/, name it so (…テンプレート.xlsx, …手順書.xlsx) "
            "or pass --kind template",
            source=source,
            rows=[[cell_text(c) if c is not None else "" for c in row] for row in first[:PREVIEW_ROWS]],
        )
    if not drafts:
        raise InvalidInput("the sheet has a header row but no rows below it", source=source)
    return drafts


def sheet_drafts(
    sheet: Sheet, header: Header, *, path: Path, source: str, options: IngestOptions
) -> list[DocumentDraft]:
    """One draft per non-empty row under ``header``; ids must be unique within the file."""
    kind = guess_kind(header.targets, options, path)
    id_column = next((c for c in header.columns if c.target == "id"), None)
    header_cells = _trimmed_len(sheet.rows[header.row])
    prefix = f"{sheet.name}!" if sheet.name is not None else ""
    seen: dict[str, str] = {}
    drafts: list[DocumentDraft] = []
    for index in range(header.row + 1, len(sheet.rows)):
        row = sheet.rows[index]
        place = (f"sheet {sheet.name!r}, " if sheet.name is not None else "") + f"row {index + 1}"
        line = sheet.lines[index] if sheet.lines else None
        filled = _trimmed_len(row)
        if sheet.lines is not None and filled and (filled > header_cells or len(row) < header_cells):
            raise InvalidInput(
                f"{filled if filled > header_cells else len(row)} cells but the header has "
                f"{header_cells}: a quote or a delimiter is probably missing or extra",
                source=source,
                line=line,
                place=place,
            )
        cells = [(c, row[c.index] if c.index < len(row) else None) for c in header.columns]
        row_id = cell_text(row[id_column.index]) if id_column and id_column.index < len(row) else ""
        key = prefix + (f"id-{row_id}" if row_id else f"row-{index + 1}")
        try:
            draft = row_draft(cells, kind=kind, key=key, place=place, source=source)
        except InvalidInput as exc:
            raise InvalidInput(exc.reason, source=source, line=line, place=exc.place) from None
        if draft is None:
            continue
        if row_id:
            claim_id(seen, row_id, source=source, line=line, place=place)
        if sheet.name is not None:
            draft.meta.setdefault("sheet", sheet.name)
        drafts.append(draft)
    return drafts


def _trimmed_len(row: Sequence[object]) -> int:
    """Cells up to the last non-empty one: trailing empty cells (``a,b,,``) are not raggedness."""
    n = len(row)
    while n and (row[n - 1] is None or str(row[n - 1]).strip() == ""):
        n -= 1
    return n


def read_csv(path: Path, data: bytes, source: str) -> Sheet:
    """Rows of a CSV/TSV file in any encoding ``decode_text`` knows; the delimiter is sniffed."""
    text = decode_text(data, source=source).lstrip("\ufeff")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[object]] = []
    lines: list[int] = []
    start = 1
    try:
        for row in reader:
            rows.append(list(row))
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput(f"not valid CSV: {exc}", source=source, line=start, place=f"row {len(rows) + 1}") from None
    return Sheet(None, rows, lines)


def _sniff(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def read_xlsx(data: bytes, source: str) -> Book:
    """Every worksheet's rows, values as Excel last calculated them (formulas' cached results), and properties."""
    check_package(data, source=source, suffix=".xlsx")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            props = book.properties
            sheets = [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in book.worksheets]
            return Book(sheets, props.title, props.category, props.keywords, props.creator)
        finally:
            book.close()
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ParseError, ValueError, TypeError) as exc:
        raise InvalidInput(f"not a readable .xlsx workbook: {exc}", source=source) from None


def read_xls(data: bytes, source: str) -> Book:
    """An Excel 97–2003 workbook (.xls) read with xlrd: cell values, dates as dates.

    xlrd reads the binary format only; an .xlsx renamed .xls, a password-protected
    file and a damaged one each get their own message.
    """
    if data.startswith(b"PK"):
        raise InvalidInput("this is an .xlsx workbook named .xls: rename it to .xlsx", source=source)
    if not data.startswith(OLE_MAGIC):
        raise InvalidInput(
            "not an Excel .xls workbook (not an OLE compound file): damaged, or another format renamed "
            "(a web page saved as .xls?)",
            source=source,
        )
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
    except XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise InvalidInput(
                "the file is password-protected (encrypted): save a copy without a password and ingest that",
                source=source,
            ) from None
        raise InvalidInput(f"not a readable .xls workbook: {exc}", source=source) from None
    except (CompDocError, struct.error, ValueError, IndexError, KeyError, AssertionError) as exc:
        raise InvalidInput(f"not a readable .xls workbook (damaged?): {exc}", source=source) from None
    try:
        sheets = []
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            rows = [[_xls_value(cell, book.datemode) for cell in sheet.row(r)] for r in range(sheet.nrows)]
            sheets.append((sheet.name, rows))
        return Book(sheets, author=book.user_name or None)
    except (XLRDError, CompDocError, struct.error, ValueError, IndexError, KeyError, AssertionError) as exc:
        raise InvalidInput(f"not a readable .xls workbook (damaged?): {exc}", source=source) from None
    finally:
        book.release_resources()


def _xls_value(cell: Any, datemode: int) -> object:
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(cell.value, datemode)
        except (XLDateError, ValueError, OverflowError):
            return cell.value
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return None
    return cell.value
